"""Finding a group: audiences, topic and country names in the viewer's language, the
viewer's own groups marked, and the filters folding away once applied."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from groups import selectors
from groups.models import Audience, Format, MembershipStatus, Role, Topic
from sessions.models import Rsvp, RsvpStatus
from sessions.selectors import upcoming_for_group
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.query_budget import assert_flat

pytestmark = pytest.mark.django_db


@pytest.fixture
def groups():
    return {
        "cafe": SupportGroupFactory(
            name="Caffè Alzheimer Bologna",
            summary="Uno spazio accogliente per chi assiste un familiare.",
            topic=Topic.DEMENTIA,
            audience=Audience.CAREGIVERS,
            language="it",
            city="Bologna",
            country="IT",
        ),
        "both": SupportGroupFactory(
            name="Memory lane families",
            summary="People living with memory loss and the families beside them.",
            topic=Topic.DEMENTIA,
            audience=Audience.BOTH,
            format=Format.ONLINE,
            city="",
            country="GB",
        ),
        "patients": SupportGroupFactory(
            name="Sweet Talk",
            topic=Topic.DIABETES,
            audience=Audience.PATIENTS,
            city="Boston",
            country="US",
        ),
    }


def names(response) -> set[str]:
    return {group.name for group in response.context["page"].object_list}


def search(client, **query):
    return client.get(reverse("groups:directory"), query)


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        ("caregivers", {"Caffè Alzheimer Bologna", "Memory lane families"}),
        ("patients", {"Memory lane families", "Sweet Talk"}),
        ("both", {"Memory lane families"}),
    ],
)
def test_an_audience_filter_also_finds_groups_for_both_audiences(
    client, groups, audience, expected
):
    assert names(search(client, audience=audience)) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("dementia", {"Caffè Alzheimer Bologna", "Memory lane families"}),
        ("Dementia Italy", {"Caffè Alzheimer Bologna"}),
        ("a group for dementia in Italy", {"Caffè Alzheimer Bologna"}),
        ("Italia", {"Caffè Alzheimer Bologna"}),
        ("united states", {"Sweet Talk"}),
        ("caregivers", {"Caffè Alzheimer Bologna", "Memory lane families"}),
        ("alzheimer", {"Caffè Alzheimer Bologna"}),
        ("diabetes boston", {"Sweet Talk"}),
        ("dementia boston", set()),
    ],
)
def test_search_matches_topic_audience_and_country_names_in_english(client, groups, q, expected):
    assert names(search(client, q=q)) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("demenza", {"Caffè Alzheimer Bologna", "Memory lane families"}),
        ("demenza italia", {"Caffè Alzheimer Bologna"}),
        ("dementia Italy", {"Caffè Alzheimer Bologna"}),  # English works for everyone
        ("diabete", {"Sweet Talk"}),
    ],
)
def test_search_matches_topic_and_country_names_in_the_viewers_language(
    client, groups, q, expected
):
    with translation.override("it"):
        assert set(selectors._choices_matching(Topic, "demenza")) == {Topic.DEMENTIA}
    response = client.get(reverse("groups:directory"), {"q": q}, headers={"accept-language": "it"})
    assert names(response) == expected


def test_the_area_filter_takes_a_country_name_as_well_as_a_code(client, groups):
    assert names(search(client, area="Italy")) == {"Caffè Alzheimer Bologna"}
    assert names(search(client, area="it")) == {"Caffè Alzheimer Bologna"}
    assert names(search(client, area="bologna")) == {"Caffè Alzheimer Bologna"}


def test_a_two_letter_word_is_a_country_code_not_a_piece_of_a_name(client, groups):
    # "it" is inside "united" and "families"; as a search word it means Italy.
    assert names(search(client, q="it")) == {"Caffè Alzheimer Bologna"}


def test_filters_are_open_before_any_is_applied_and_fold_away_after(client, groups):
    first = search(client).text
    assert '<details class="filters" open>' in first
    assert "Filter groups</summary>" in first

    applied = search(client, audience="caregivers", q="dementia").text
    assert '<details class="filters">' in applied
    assert "Change filters (2 applied)" in applied
    assert '<span class="tag">Who it is for: Family caregivers</span>' in applied
    assert '<span class="tag">Search: dementia</span>' in applied


def test_the_result_count_is_announced(client, groups):
    body = search(client, audience="caregivers").text
    assert '<p class="result-count" id="result-count" role="status">' in body
    assert "2 groups found" in body


def test_the_directory_marks_the_groups_i_belong_to_or_run(client, groups):
    person = UserFactory()
    MembershipFactory(group=groups["cafe"], user=person, role=Role.FACILITATOR)
    MembershipFactory(group=groups["both"], user=person)
    MembershipFactory(
        group=groups["patients"], user=person, status=MembershipStatus.PENDING, joined_at=None
    )
    enable_mfa(person)
    log_in(client, person)

    page = search(client).context["page"]

    places = {group.name: group.viewer_place for group in page.object_list}
    assert places == {
        "Caffè Alzheimer Bologna": "staff",
        "Memory lane families": "member",
        "Sweet Talk": "pending",
    }
    body = search(client).text
    assert "You facilitate" in body
    assert "You're a member" in body
    assert "You asked to join" in body


@pytest.mark.parametrize("role", ["visitor", "member of another group"])
def test_nobody_sees_anyone_elses_place_in_a_group(client, groups, role):
    insider = UserFactory()
    MembershipFactory(group=groups["cafe"], user=insider)
    if role != "visitor":
        outsider = UserFactory()
        MembershipFactory(group=groups["patients"], user=outsider, status=MembershipStatus.LEFT)
        log_in(client, outsider)

    body = search(client).text

    assert "You're a member" not in body
    assert "You facilitate" not in body
    assert insider.display_name not in body


def test_a_search_costs_the_same_for_5_and_60_matching_groups(client):
    member = UserFactory()
    log_in(client, member)

    def add(count):
        for _ in range(count):
            group = SupportGroupFactory(topic=Topic.DEMENTIA, audience=Audience.BOTH, country="IT")
            MembershipFactory(group=group, user=member)

    assert_flat(
        small_setup=lambda: add(5),
        large_setup=lambda: add(55),
        request=lambda: search(client, q="dementia italia", audience="caregivers"),
        label="directory search",
    )


# --- A full group suggests groups with room ---------------------------------------------


def full_group(**extra):
    group = SupportGroupFactory(
        name="Full Café", topic=Topic.DEMENTIA, audience=Audience.CAREGIVERS, capacity=1, **extra
    )
    MembershipFactory(group=group)
    return group


def test_a_full_group_suggests_open_groups_with_room_on_the_same_topic(client):
    group = full_group()
    SupportGroupFactory(name="Roomy carers", topic=Topic.DEMENTIA, audience=Audience.BOTH)
    SupportGroupFactory(
        name="Roomy capped", topic=Topic.DEMENTIA, audience=Audience.CAREGIVERS, capacity=5
    )
    also_full = SupportGroupFactory(
        name="Also full", topic=Topic.DEMENTIA, audience=Audience.CAREGIVERS, capacity=1
    )
    MembershipFactory(group=also_full)
    SupportGroupFactory(name="Other topic", topic=Topic.DIABETES, audience=Audience.CAREGIVERS)
    SupportGroupFactory(name="For patients", topic=Topic.DEMENTIA, audience=Audience.PATIENTS)
    SupportGroupFactory(name="Asks first", topic=Topic.DEMENTIA, join_policy="approval")
    SupportGroupFactory(name="Hidden one", topic=Topic.DEMENTIA, visibility="unlisted")

    response = client.get(reverse("groups:detail", args=[group.slug]))

    suggested = [other.name for other in response.context["groups_with_room"]]
    assert suggested == ["Roomy capped", "Roomy carers"]
    assert "Groups with room on the same topic" in response.text


def test_a_group_with_room_suggests_nothing_and_members_see_no_suggestions(client):
    roomy = SupportGroupFactory(topic=Topic.DEMENTIA, audience=Audience.CAREGIVERS)
    SupportGroupFactory(name="Roomy carers", topic=Topic.DEMENTIA, audience=Audience.CAREGIVERS)
    response = client.get(reverse("groups:detail", args=[roomy.slug]))
    assert response.context["groups_with_room"] is None

    group = full_group()
    log_in(client, group.memberships.get().user)
    response = client.get(reverse("groups:detail", args=[group.slug]))
    assert response.context["groups_with_room"] is None


def test_the_full_group_page_costs_the_same_with_few_and_many_suggestions(client):
    group = full_group()

    def add(count):
        for _ in range(count):
            SupportGroupFactory(topic=Topic.DEMENTIA, audience=Audience.CAREGIVERS, capacity=50)

    assert_flat(
        small_setup=lambda: add(1),
        large_setup=lambda: add(30),
        request=lambda: client.get(reverse("groups:detail", args=[group.slug])),
        label="full group page",
    )


def test_joining_without_the_tick_explains_what_the_box_means(client):
    group = SupportGroupFactory()
    log_in(client, UserFactory())
    response = client.post(reverse("groups:join", args=[group.slug]), {"conduct_version": "1"})
    assert "Tick the box to agree to the code of conduct" in response.text
    assert "This field is required" not in response.text


# --- The demo ------------------------------------------------------------------------------


def test_the_demo_has_a_caregiver_group_in_italy_a_newcomer_joins_and_attends_at_once(client):
    call_command("seed_demo", stdout=None)
    newcomer = UserFactory()
    log_in(client, newcomer)

    found = search(client, q="dementia Italy", audience="caregivers").context["page"]
    groups = {group.slug: group for group in found.object_list}
    assert "caffe-alzheimer-bologna" in groups  # full: it suggests the one with room
    cafe = client.get(reverse("groups:detail", args=["caffe-alzheimer-bologna"]))
    suggested = [group.slug for group in cafe.context["groups_with_room"]]
    assert suggested == ["caregiver-demenza-online"]

    client.post(
        reverse("groups:join", args=["caregiver-demenza-online"]),
        {"accept_conduct": "on", "conduct_version": "1"},
    )
    group = groups["caregiver-demenza-online"]
    assert group.memberships.get(user=newcomer).status == MembershipStatus.ACTIVE
    meeting = upcoming_for_group(group)[0]
    assert meeting.confirmed_count < meeting.capacity
    client.post(reverse("meetings:rsvp", args=[meeting.pk]), {"going": "yes"})
    assert Rsvp.objects.get(meeting=meeting, user=newcomer).status == RsvpStatus.CONFIRMED
