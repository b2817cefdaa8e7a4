"""The signed-in home, finding a caregiver group for dementia in Italy, a full group's
suggestions, and the roster's search and confirmation pages, in a real browser.

Taps for "finding a caregiver group for dementia in Italy", from the front page to the
group's page:
  before  7: Find a group, open the folded filters, pick the topic, pick the audience
          (which left out groups for both audiences), type the country code "IT" in the
          area (a name found nothing), Show groups, the group.
  after   4: Find a group, type "dementia Italy" in Search (the filters are open until
          applied), Show groups, the group.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Audience, Format, MembershipStatus, Role, Topic
from members.services import coordinator_grant
from sessions.models import MeetingFormat, Rsvp, RsvpStatus
from tests.browser.accessibility import assert_accessible
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.browser

VIDEO = "https://video.example.org/carers-tonight"


def caregiver_groups():
    """The café is full; the online circle (for both audiences) has room and meets soon:
    its meeting comes back."""
    cafe = SupportGroupFactory(
        name="Caffè Alzheimer Bologna",
        slug="caffe-alzheimer",
        summary="Uno spazio accogliente per chi assiste un familiare.",
        topic=Topic.DEMENTIA,
        audience=Audience.CAREGIVERS,
        language="it",
        city="Bologna",
        country="IT",
        capacity=1,
    )
    MembershipFactory(group=cafe, user=UserFactory(display_name="Already In"))
    circle = SupportGroupFactory(
        name="Carers together online",
        slug="carers-together",
        summary="Weekly video evenings for families living with dementia.",
        topic=Topic.DEMENTIA,
        audience=Audience.BOTH,
        format=Format.ONLINE,
        language="it",
        city="",
        country="IT",
    )
    MembershipFactory(
        group=circle, user=UserFactory(display_name="Facilitator Fede"), role=Role.FACILITATOR
    )
    meeting = MeetingFactory(
        group=circle,
        title="Evening circle",
        format=MeetingFormat.ONLINE,
        video_url=VIDEO,
        capacity=10,
        starts_at=timezone.now() + timedelta(days=2),
    )
    SupportGroupFactory(name="Dementia carers London", topic=Topic.DEMENTIA, country="GB")
    SupportGroupFactory(name="Sweet Talk Milano", topic=Topic.DIABETES, country="IT")
    return meeting


def test_newcomer_finds_a_dementia_group_in_italy_and_joins_one_with_room(page, sign_in):
    meeting = caregiver_groups()
    newcomer = UserFactory(display_name="Nadia")
    main = page.get_by_role("main")
    taps = 0

    page.goto("/")
    expect(main.get_by_role("heading", level=1)).to_have_text("You don't have to face it alone")
    assert_accessible(page)
    main.get_by_role("link", name="Find a group").click()
    taps += 1

    expect(main.get_by_role("heading", level=1)).to_have_text("Find a group")
    filters = main.get_by_role("search", name="Filter groups")
    expect(filters).to_be_visible()  # open until filters are applied
    assert_accessible(page)
    filters.get_by_label("Search").fill("dementia Italy")
    taps += 1
    filters.get_by_role("button", name="Show groups").click()
    taps += 1

    expect(main.get_by_role("status")).to_have_text("2 groups found")
    expect(filters).to_be_hidden()  # folded away, saying what is applied
    expect(main.get_by_text("Change filter (1 applied)")).to_be_visible()
    expect(main.get_by_text("Search: dementia Italy")).to_be_visible()
    expect(main.get_by_role("link", name="Dementia carers London")).to_have_count(0)
    expect(main.get_by_role("link", name="Sweet Talk Milano")).to_have_count(0)
    assert_accessible(page)
    main.get_by_role("link", name="Caffè Alzheimer Bologna").click()
    taps += 1
    assert taps == 4

    # The café is full: it points to a group with room.
    expect(main.get_by_role("heading", level=1)).to_have_text("Caffè Alzheimer Bologna")
    room = main.get_by_role("region", name="Groups with room on the same topic")
    expect(room).to_contain_text("Carers together online")
    assert_accessible(page)
    sign_in(newcomer)
    room.get_by_role("link", name="Carers together online").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Carers together online")
    assert_accessible(page)
    main.get_by_role("link", name="Join this group").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Join Carers together online")
    assert_accessible(page)
    main.get_by_role("button", name="Join the group").click()

    agree = main.get_by_label("I have read the code of conduct and I agree to follow it")
    expect(agree).to_have_attribute("aria-invalid", "true")
    expect(agree).to_have_accessible_description(
        re.compile("Tick the box to agree to the code of conduct")
    )
    assert_accessible(page)
    agree.check()
    main.get_by_role("button", name="Join the group").click()
    expect(page.get_by_role("status").first).to_contain_text("You are now a member")
    assert_accessible(page)

    # Home: the next meeting, answered in one tap.
    page.goto("/")
    expect(main.get_by_role("heading", level=1)).to_have_text("Hello, Nadia")
    coming = main.get_by_role("region", name="Coming up")
    expect(coming).to_contain_text("Evening circle")
    assert_accessible(page)
    coming.get_by_role("button", name="I'm going").click()
    expect(coming).to_contain_text("You're going.")
    assert_accessible(page)
    assert Rsvp.objects.get(meeting=meeting, user=newcomer).status == RsvpStatus.CONFIRMED
    groups = main.get_by_role("region", name="My groups")
    expect(groups).to_contain_text("Carers together online")


def test_member_logs_in_lands_on_their_home_and_joins_todays_call(page):
    group = SupportGroupFactory(name="Tuesday Carers", format=Format.ONLINE)
    member = UserFactory(display_name="Marta", email="marta@example.net")
    MembershipFactory(group=group, user=member)
    now = timezone.now()
    MeetingFactory(
        group=group,
        title="Today's call",
        format=MeetingFormat.ONLINE,
        video_url=VIDEO,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=60),
    )
    main = page.get_by_role("main")

    page.goto("/accounts/login/")
    expect(main.get_by_role("heading", level=1)).to_have_text("Sign In")
    assert_accessible(page)
    main.get_by_label("Email", exact=True).fill(member.email)
    main.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    main.get_by_role("button", name="Sign In").click()

    expect(page).to_have_url(re.compile(r"/$"))
    expect(main.get_by_role("heading", level=1)).to_have_text("Hello, Marta")
    today = main.get_by_role("region", name="Today")
    expect(today).to_contain_text("Today's call")
    join = today.get_by_role("link", name="Join the video call")
    expect(join).to_have_attribute("href", VIDEO)
    expect(main.get_by_role("region", name="My groups")).to_contain_text("Tuesday Carers")
    assert_accessible(page)


def test_facilitator_home_leads_to_requests_and_the_roster_asks_before_changing(page, sign_in):
    group = SupportGroupFactory(name="Harbour Carers", slug="harbour-carers", capacity=3)
    facilitator = UserFactory(display_name="Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    for name in ("Bruno", "Bianca", "Carlo"):
        MembershipFactory(group=group, user=UserFactory(display_name=name))
    MembershipFactory(
        group=group,
        user=UserFactory(display_name="Walter Waiting"),
        status=MembershipStatus.WAITLISTED,
        joined_at=None,
        waitlisted_at=timezone.now(),
    )
    MembershipFactory(
        group=group,
        user=UserFactory(display_name="Asking Ada"),
        status=MembershipStatus.PENDING,
        joined_at=None,
    )
    sign_in(facilitator)
    main = page.get_by_role("main")

    page.goto("/")
    groups = main.get_by_role("region", name="My groups")
    expect(groups).to_contain_text("You facilitate")
    assert_accessible(page)
    groups.get_by_role("link", name="Manage · 1 request waiting").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Manage Harbour Carers")
    expect(main.get_by_role("link", name="Schedule a meeting")).to_be_visible()
    expect(main.get_by_role("region", name="Waitlist (1)")).to_contain_text("Walter Waiting")
    assert_accessible(page)
    finder = main.get_by_role("search", name="Find a person in the roster")
    finder.get_by_label("Find a person by name").fill("bi")
    finder.get_by_role("button", name="Find").click()

    roster = main.get_by_role("table", name=re.compile("in the group"))
    expect(roster.get_by_role("row")).to_have_count(2)  # the header and Bianca
    expect(roster).to_contain_text("Bianca")
    expect(roster.get_by_role("cell", name="Active")).to_be_visible()
    assert_accessible(page)
    bianca = roster.get_by_role("row", name=re.compile("^Bianca"))
    bianca.get_by_label("Role for Bianca").select_option(label="Peer moderator")
    bianca.get_by_role("button", name="Change role of Bianca").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Change the role of Bianca?")
    expect(main).to_contain_text("Bianca is now Member. They will become Peer moderator.")
    assert_accessible(page)
    main.get_by_role("button", name="Yes, make them Peer moderator").click()

    expect(page.get_by_role("status").first).to_contain_text("Bianca's role is now Peer moderator.")
    assert_accessible(page)
    main.get_by_role("row", name=re.compile("^Carlo")).get_by_role(
        "link", name="Remove Carlo"
    ).click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Remove Carlo?")
    assert_accessible(page)
    main.get_by_role("link", name="No, go back").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Manage Harbour Carers")
    expect(main.get_by_role("table", name=re.compile("in the group"))).to_contain_text("Carlo")
    assert_accessible(page)


def test_coordinator_home_shows_alerts_and_starts_a_group(page, sign_in):
    SupportGroupFactory(name="Nobody Runs Me")
    coordinator = UserFactory(display_name="Cora")
    coordinator_grant(user=coordinator)
    enable_mfa(coordinator)
    sign_in(coordinator)
    main = page.get_by_role("main")

    page.goto("/")
    alerts = main.get_by_role("region", name="Needs your attention")
    expect(alerts).to_contain_text("Groups without an active facilitator: 1")
    assert_accessible(page)
    alerts.get_by_role("link", name="Start a new group").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Create a group")
    assert_accessible(page)
