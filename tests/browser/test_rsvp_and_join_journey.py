"""Answering, getting into the call and into a calendar, in the browser (issue #18, 5-7).

The journey the issue counts is "from the reminder email into the video call": the
hour-before reminder is sent through the outbox, its HTML is opened in the tab as a mail
app would show it, and the member taps until the call opens (the call itself is a page
routed inside the test, so no request leaves the machine). Before this change the email
had no link to the call: "Open the meeting page", then "Join the video call" among the
meeting's facts (2 taps). Now the email carries the link while it is open: 1 tap.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Role
from members import notifications
from members.models import Notification, NotificationKind, NotificationPreferences
from sessions.models import MeetingFormat, Rsvp, RsvpStatus
from sessions.notifications import reminder_slot
from tests.browser import accessibility
from tests.browser.accessibility import assert_accessible
from tests.browser.test_meeting_journeys import (
    no_script,  # noqa: F401  (fixture)
    sign_in_tab,
)
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.browser

VIDEO_LINK = "https://video.example.org/harbour-lights-tonight"
CALL_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Video call</title>'
    "</head><body><main><h1>Video call</h1><p>You are in.</p></main></body></html>"
)


def route_the_call(page) -> None:
    """The video service, answered inside the test."""
    page.context.route(
        re.compile(r"^https://video\.example\.org/"),
        lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=CALL_PAGE),
    )


def largest_control(region):
    """The accessible name and area of the largest visible link or button in `region`."""
    sizes = []
    for role in ("link", "button"):
        for control in region.get_by_role(role).all():
            box = control.bounding_box() if control.is_visible() else None
            if box:
                sizes.append((box["width"] * box["height"], control.inner_text().strip()))
    return max(sizes)


def online_meeting_soon(group, **extra):
    return MeetingFactory(
        group=group,
        title="Harbour Lights tonight",
        format=MeetingFormat.ONLINE,
        video_url=VIDEO_LINK,
        starts_at=timezone.now() + timedelta(minutes=55),
        **extra,
    )


def test_member_goes_from_the_reminder_email_into_the_call_in_one_tap(page, sign_in, mailoutbox):
    group = SupportGroupFactory(name="Harbour Lights")
    member = UserFactory(display_name="Ada")
    MembershipFactory(group=group, user=member)
    NotificationPreferences.objects.create(user=member, reminder_hour_before=True)
    meeting = online_meeting_soon(group, capacity=8)
    Rsvp.objects.create(meeting=meeting, user=member, response="going", status="confirmed")
    reminder = Notification.objects.create(
        recipient=member,
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=f"meeting:{meeting.pk}",
        slot=reminder_slot("hour-before", meeting.starts_at),
    )
    assert notifications.notification_send(notification_id=reminder.pk) == "sent"
    (email,) = mailoutbox
    assert email.subject == "In one hour: Harbour Lights tonight"
    route_the_call(page)
    sign_in(member)

    # The email, as a mail app shows it: the call is one tap away.
    page.set_content(email.alternatives[0][0])
    assert_accessible(page)
    taps = 0
    page.get_by_role("link", name="Join the video call").click()
    taps += 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Video call")
    assert page.url == VIDEO_LINK
    assert taps == 1
    assert_accessible(page)

    # From the meeting page (the email's other link) the call is the largest control.
    page.goto(meeting.get_absolute_url())
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Harbour Lights tonight")
    join = main.get_by_role("link", name="Join the video call")
    expect(join).to_be_visible()
    assert largest_control(main)[1] == "Join the video call"
    box = join.bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"], "below the fold"
    assert_accessible(page)

    # And on My meetings.
    page.get_by_role("banner").get_by_role("link", name="My meetings").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("My meetings")
    card = main.get_by_role("listitem").filter(has_text="Harbour Lights tonight")
    expect(card.get_by_role("link", name="Join the video call")).to_have_attribute(
        "href", VIDEO_LINK
    )
    assert largest_control(main)[1] == "Join the video call"
    assert_accessible(page)
    card.get_by_role("link", name="Join the video call").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Video call")
    assert_accessible(page)


def test_facilitator_has_their_groups_call_days_ahead(page, sign_in):
    from tests.groups.conftest import enable_mfa

    group = SupportGroupFactory(name="Harbour Lights")
    facilitator = UserFactory(display_name="Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    meeting = online_meeting_soon(group)
    meeting.starts_at += timedelta(days=3)
    meeting.ends_at += timedelta(days=3)
    meeting.save()
    route_the_call(page)
    sign_in(facilitator)

    page.goto(meeting.get_absolute_url())
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Join the video call")).to_be_visible()
    assert_accessible(page)


def test_member_answers_on_my_meetings_and_the_count_follows(page, sign_in):
    group = SupportGroupFactory(name="Harbour Lights")
    member = UserFactory(display_name="Bruno")
    MembershipFactory(group=group, user=member)
    meeting = MeetingFactory(group=group, title="Harbour Lights evening", capacity=8)
    sign_in(member)
    main = page.get_by_role("main")

    page.goto("/meetings/")
    card = main.get_by_role("listitem").filter(has_text="Harbour Lights evening")
    expect(card).to_contain_text("0 places taken of 8")
    expect(card).to_contain_text("Are you coming?")
    assert_accessible(page)
    loads = len(accessibility.audit_of(page).visited)
    card.get_by_role("button", name="I'm going").click()  # 1 tap, answered in place
    expect(card.get_by_role("paragraph").filter(has_text="You're going.")).to_be_focused()
    expect(card).to_contain_text("1 place taken of 8")
    expect(card.get_by_role("button", name="I can't come any more")).to_be_visible()
    assert len(accessibility.audit_of(page).visited) == loads, "the answer reloaded the page"
    assert page.url.endswith("/meetings/")
    assert_accessible(page)
    assert Rsvp.objects.get(meeting=meeting, user=member).status == RsvpStatus.CONFIRMED

    page.goto(meeting.get_absolute_url())
    expect(main).to_contain_text("1 place taken of 8")
    expect(main.get_by_role("region", name="Your answer")).to_contain_text("You're going.")
    assert_accessible(page)


def test_waitlisted_member_is_asked_before_leaving_the_waitlist(page, sign_in):
    group = SupportGroupFactory(name="Harbour Lights")
    holder, member = UserFactory(display_name="Ada"), UserFactory(display_name="Carla")
    for person in (holder, member):
        MembershipFactory(group=group, user=person)
    meeting = MeetingFactory(group=group, title="Harbour Lights evening", capacity=1)
    Rsvp.objects.create(meeting=meeting, user=holder, response="going", status="confirmed")
    sign_in(member)
    main = page.get_by_role("main")

    page.goto(meeting.get_absolute_url())
    answer = main.get_by_role("region", name="Your answer")
    expect(main).to_contain_text("1 place taken of 1")
    assert_accessible(page)
    answer.get_by_role("button", name="Join the waitlist").click()
    expect(answer).to_contain_text("You're number 1 on the waitlist.")
    expect(main.locator(f"#places-{meeting.pk}")).to_have_text(
        "1 place taken of 1, 1 person waiting"
    )
    expect(answer.get_by_role("button", name="I can't come any more")).to_have_count(0)
    assert_accessible(page)

    # Leaving gives the place in the queue away: the button asks first.
    answer.get_by_text("Leave the waitlist", exact=True).click()
    expect(answer).to_contain_text("You would give up your place (number 1)")
    assert_accessible(page)
    answer.get_by_role("button", name="Yes, leave the waitlist").click()
    expect(
        answer.get_by_role("paragraph").filter(has_text="You said you can't come.")
    ).to_be_focused()
    expect(main.locator(f"#places-{meeting.pk}")).to_have_text("1 place taken of 1")
    assert_accessible(page)
    assert Rsvp.objects.get(meeting=meeting, user=member).status == RsvpStatus.DECLINED


def test_without_javascript_answers_return_to_my_meetings(no_script, live_server):  # noqa: F811
    tab = no_script.page
    group = SupportGroupFactory(name="Harbour Lights")
    holder, member = UserFactory(display_name="Ada"), UserFactory(display_name="Dario")
    for person in (holder, member):
        MembershipFactory(group=group, user=person)
    full = MeetingFactory(group=group, title="Full evening", capacity=1)
    Rsvp.objects.create(meeting=full, user=holder, response="going", status="confirmed")
    MeetingFactory(
        group=group,
        title="Roomy evening",
        capacity=8,
        starts_at=timezone.now() + timedelta(days=8),
    )
    sign_in_tab(tab, member, live_server)
    main = tab.get_by_role("main")

    tab.goto("/meetings/")
    no_script.check()
    roomy = main.get_by_role("listitem").filter(has_text="Roomy evening")
    with tab.expect_navigation():
        roomy.get_by_role("button", name="I'm going").click()
    assert tab.url.endswith("/meetings/")
    expect(tab.get_by_role("status")).to_have_text("Thanks, you're going. See you there!")
    expect(roomy).to_contain_text("You're going.")
    expect(roomy).to_contain_text("1 place taken of 8")
    no_script.check()

    crowded = main.get_by_role("listitem").filter(has_text="Full evening")
    with tab.expect_navigation():
        crowded.get_by_role("button", name="Join the waitlist").click()
    expect(crowded).to_contain_text("You're number 1 on the waitlist.")
    no_script.check()
    crowded.get_by_text(
        "Leave the waitlist", exact=True
    ).click()  # a <details>: opens without script
    with tab.expect_navigation():
        crowded.get_by_role("button", name="Yes, leave the waitlist").click()
    assert tab.url.endswith("/meetings/")
    expect(tab.get_by_role("status")).to_have_text("You have left the waitlist.")
    expect(crowded).to_contain_text("You said you can't come.")
    no_script.check()


def test_member_puts_their_meetings_in_a_calendar_app(page, sign_in, live_server):
    group = SupportGroupFactory(name="Harbour Lights", city="Bologna")
    member = UserFactory(display_name="Elif")
    MembershipFactory(group=group, user=member)
    meeting = MeetingFactory(
        group=group,
        title="Harbour Lights evening",
        venue_name="Casa del Quartiere",
        address="Via Roma 1",
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(member)
    main = page.get_by_role("main")

    page.goto(meeting.get_absolute_url())
    expect(main).to_contain_text("Via Roma 1, Bologna")
    expect(main.get_by_role("link", name="Open in maps")).to_have_attribute(
        "href", "https://www.openstreetmap.org/search?query=Via+Roma+1%2C+Bologna"
    )
    buttons = main.get_by_role("list", name="Add to my calendar")
    expect(buttons.get_by_role("link", name="Google Calendar")).to_have_attribute(
        "href", re.compile(r"^https://calendar\.google\.com/calendar/render\?action=TEMPLATE")
    )
    expect(buttons.get_by_role("link", name="Outlook")).to_have_attribute(
        "href", re.compile(r"^https://outlook\.live\.com/calendar/0/action/compose\?")
    )
    expect(buttons.get_by_role("link", name="Apple")).to_have_attribute(
        "href", f"/meetings/{meeting.pk}/calendar.ics"
    )
    assert_accessible(page)
    main.get_by_role("link", name="Subscribe to all my meetings").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Meetings in your calendar")
    address = main.get_by_role("textbox", name="Calendar address")
    feed_url = address.input_value()
    assert feed_url.startswith(live_server.url + "/calendar/")
    apps = main.get_by_role("list", name="Subscribe in my calendar app")
    webcal = "webcal://" + feed_url.split("://", 1)[1]
    expect(apps.get_by_role("link", name="Apple")).to_have_attribute("href", webcal)
    expect(apps.get_by_role("link", name="Google Calendar")).to_have_attribute(
        "href", re.compile(r"^https://calendar\.google\.com/calendar/render\?cid=webcal")
    )
    expect(apps.get_by_role("link", name="Outlook")).to_have_attribute(
        "href", re.compile(r"^https://outlook\.live\.com/calendar/0/addfromweb\?url=")
    )
    assert_accessible(page)
    main.get_by_role("button", name="Copy").click()
    expect(main.locator("#calendar-url-status")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == feed_url
    assert_accessible(page)


def test_without_javascript_the_feed_address_is_there_to_select(no_script, live_server):  # noqa: F811
    tab = no_script.page
    member = UserFactory(display_name="Gianni")
    MembershipFactory(group=SupportGroupFactory(), user=member)
    sign_in_tab(tab, member, live_server)
    main = tab.get_by_role("main")

    tab.goto("/account/calendar/")
    expect(main.get_by_role("textbox", name="Calendar address")).to_have_attribute("readonly", "")
    expect(main.get_by_role("button", name="Copy")).to_have_count(0)  # hidden: it needs JS
    expect(main.get_by_role("link", name="Apple")).to_have_attribute(
        "href", re.compile(r"^webcal://")
    )
    no_script.check()
