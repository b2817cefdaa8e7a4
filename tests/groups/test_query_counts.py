"""Query budgets for the group pages: the same count with a small and a large data set.

Every dimension a page loops over grows between the two sizes: groups in the directory;
members, waitlist, requests, invitations, removed people, staff, meetings and their
answers, and code of conduct versions on a group's pages. The small sizes stay under the
pages' limits (a group page lists at most five meetings, the directory twenty groups), so
that the large data set really shows more rows. See tests/query_budget.py.
"""

import hashlib
import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups import selectors
from groups.models import (
    Audience,
    CodeOfConduct,
    Format,
    Invitation,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
    Topic,
)
from members.models import User
from members.services import coordinator_grant
from sessions import selectors as meeting_selectors
from sessions.models import Meeting, MeetingFormat, Rsvp, RsvpResponse, RsvpStatus
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.query_budget import assert_flat, query_per_row

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 200
SMALL_MEETINGS = 2  # under the five meetings a group page lists
SMALL_GROUPS = 5  # under the twenty groups a directory page lists
INVITATION_TOKEN = "invitation-token-for-the-budget"

_numbers = itertools.count()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_people(count: int) -> list[User]:
    numbers = [next(_numbers) for _ in range(count)]
    return User.objects.bulk_create(
        User(email=f"load{n}@example.net", display_name=f"Load person {n:04d}", password="!")
        for n in numbers
    )


# One in ten of each: pending requests, waitlisted, removed people, co-facilitators (the
# "Facilitated by" line grows too) and peer moderators; the rest active members. The first
# five are all different, so the small data set has one of each state.
KINDS = [
    (Role.MEMBER, MembershipStatus.ACTIVE),
    (Role.MEMBER, MembershipStatus.PENDING),
    (Role.MEMBER, MembershipStatus.WAITLISTED),
    (Role.MEMBER, MembershipStatus.REMOVED),
    (Role.CO_FACILITATOR, MembershipStatus.ACTIVE),
    (Role.PEER_MODERATOR, MembershipStatus.ACTIVE),
    (Role.MEMBER, MembershipStatus.ACTIVE),
    (Role.MEMBER, MembershipStatus.ACTIVE),
    (Role.MEMBER, MembershipStatus.ACTIVE),
    (Role.MEMBER, MembershipStatus.ACTIVE),
]


def add_people(group: SupportGroup, count: int) -> list[User]:
    """Members in every state the pages show; some share their email with the staff."""
    users = new_people(count)
    conduct = group.codes_of_conduct.order_by("-version").first()
    now = timezone.now()
    memberships = []
    for index, person in enumerate(users):
        role, status = KINDS[index % len(KINDS)]
        memberships.append(
            Membership(
                group=group,
                user=person,
                role=role,
                status=status,
                request_message="Hello, may I join?" if status == MembershipStatus.PENDING else "",
                joined_at=now
                if status in (MembershipStatus.ACTIVE, MembershipStatus.REMOVED)
                else None,
                waitlisted_at=now if status == MembershipStatus.WAITLISTED else None,
                ended_at=now if status == MembershipStatus.REMOVED else None,
                accepted_conduct=conduct,
                accepted_conduct_at=now,
                contact_shared=index % 2 == 0,
            )
        )
    Membership.objects.bulk_create(memberships)
    return users


def add_invitations(group: SupportGroup, inviters: list[User], count: int) -> None:
    """Pending invitations, each sent by a different person (their name is shown)."""
    first = Invitation.objects.count()
    now = timezone.now()
    Invitation.objects.bulk_create(
        Invitation(
            group=group,
            email=f"invitee{first + n}@example.net",
            token_hash=token_hash(f"budget-{group.pk}-{first + n}"),
            invited_by=inviters[n % len(inviters)],
            expires_at=now + timedelta(days=14),
        )
        for n in range(count)
    )


def add_meetings(group: SupportGroup, count: int, answers: list[User]) -> None:
    """Upcoming meetings with places, each with answers from `answers` (some waiting)."""
    now = timezone.now()
    start = Meeting.objects.filter(group=group).count()
    meetings = Meeting.objects.bulk_create(
        Meeting(
            group=group,
            format=MeetingFormat.IN_PERSON,
            time_zone=group.time_zone,
            capacity=3,
            starts_at=now + timedelta(days=1 + start + n),
            ends_at=now + timedelta(days=1 + start + n, minutes=90),
        )
        for n in range(count)
    )
    Rsvp.objects.bulk_create(
        Rsvp(
            meeting=meeting,
            user=person,
            response=RsvpResponse.GOING,
            status=RsvpStatus.CONFIRMED if index < 3 else RsvpStatus.WAITLISTED,
            waitlisted_at=None if index < 3 else now,
        )
        for meeting in meetings
        for index, person in enumerate(answers[:5])
    )


def add_conduct_versions(group: SupportGroup, count: int, *, accepted_by: list[User]) -> None:
    """More code of conduct versions; the people given accept the newest."""
    latest = group.codes_of_conduct.order_by("-version").first().version
    CodeOfConduct.objects.bulk_create(
        CodeOfConduct(group=group, version=version, text=f"Version {version}")
        for version in range(latest + 1, latest + 1 + count)
    )
    Membership.objects.filter(group=group, user__in=accepted_by).update(
        accepted_conduct=group.codes_of_conduct.get(version=latest + count)
    )


def grow(group: SupportGroup, *, people: int, meetings: int, conduct_versions: int = 0) -> None:
    """`people` more people in every state and as many invitations, `meetings` more
    meetings with answers, and `conduct_versions` more codes that everyone has accepted."""
    users = add_people(group, people)
    add_invitations(group, users, people)
    add_meetings(group, meetings, users)
    if conduct_versions:
        everyone = Membership.objects.filter(group=group).values_list("user_id", flat=True)
        add_conduct_versions(group, conduct_versions, accepted_by=list(everyone))


SMALL_GROWTH = {"people": SMALL, "meetings": SMALL_MEETINGS}
LARGE_GROWTH = {"people": LARGE - SMALL, "meetings": LARGE - SMALL_MEETINGS, "conduct_versions": 20}


def add_listed_groups(count: int) -> None:
    """Listed groups, each with a facilitator and a meeting coming up."""
    first = SupportGroup.objects.count()
    groups = SupportGroup.objects.bulk_create(
        SupportGroup(
            name=f"Listed group {number:04d}",
            slug=f"listed-group-{number:04d}",
            summary="Meets every other week to share what helps.",
            topic=Topic.values[number % len(Topic.values)],
            audience=Audience.BOTH,
            format=Format.values[number % len(Format.values)],
            language="en",
            city="Torino",
            region="Piemonte",
            country="IT",
        )
        for number in range(first, first + count)
    )
    facilitators = new_people(count)
    Membership.objects.bulk_create(
        Membership(
            group=group,
            user=person,
            role=Role.FACILITATOR,
            status=MembershipStatus.ACTIVE,
            joined_at=timezone.now(),
        )
        for group, person in zip(groups, facilitators, strict=True)
    )
    now = timezone.now()
    Meeting.objects.bulk_create(
        Meeting(
            group=group,
            format=MeetingFormat.ONLINE,
            time_zone=group.time_zone,
            starts_at=now + timedelta(days=2, hours=index % 24),
            ends_at=now + timedelta(days=2, hours=index % 24, minutes=90),
        )
        for index, group in enumerate(groups)
    )


# --- The directory ---------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "signed-in"])
def test_directory_costs_the_same_queries_for_5_and_200_groups(client, signed_in):
    if signed_in:
        log_in(client, UserFactory())
    url = reverse("groups:directory") + ("?page=1&language=en" if signed_in else "")

    def check_large():
        add_listed_groups(LARGE - SMALL_GROUPS)
        assert SupportGroup.objects.count() == LARGE

    assert_flat(
        small_setup=lambda: add_listed_groups(SMALL_GROUPS),
        large_setup=check_large,
        request=lambda: client.get(url),
        label=f"directory ({'signed in' if signed_in else 'visitor'})",
    )


# --- A group's page --------------------------------------------------------------------


@pytest.fixture
def group():
    group = SupportGroupFactory(name="Budget Group", join_policy=JoinPolicy.APPROVAL)
    facilitator = UserFactory(display_name="Facilitator Fenna")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    group.facilitator = facilitator
    return group


def viewer_of(group: SupportGroup, kind: str) -> User | None:
    if kind == "visitor":
        return None
    if kind == "facilitator":
        return group.facilitator
    if kind == "coordinator":
        person = UserFactory(display_name="Coordinator Cora")
        coordinator_grant(user=person)
        enable_mfa(person)
        return person
    if kind == "outsider":
        return UserFactory(display_name="Outsider Olga")
    status = {"member": MembershipStatus.ACTIVE, "waitlisted": MembershipStatus.WAITLISTED}[kind]
    return MembershipFactory(
        group=group,
        status=status,
        joined_at=timezone.now() if status == MembershipStatus.ACTIVE else None,
        waitlisted_at=timezone.now() if status == MembershipStatus.WAITLISTED else None,
    ).user


def group_page_budget(client, group, kind: str, name: str, *args, **expect):
    url = reverse(name, args=args or [group.slug])
    viewer = viewer_of(group, kind)
    if viewer is not None:
        log_in(client, viewer)

    def large():
        grow(group, **LARGE_GROWTH)
        response = client.get(url)
        for text in expect.get("shown", []):
            assert text in response.text, text

    return assert_flat(
        small_setup=lambda: grow(group, **SMALL_GROWTH),
        large_setup=large,
        request=lambda: client.get(url),
        label=f"{name} as {kind}",
    )


@pytest.mark.parametrize("kind", ["visitor", "outsider", "waitlisted", "member", "facilitator"])
def test_group_page_costs_the_same_for_a_small_and_a_large_group(client, group, kind):
    group_page_budget(client, group, kind, "groups:detail")


def test_group_page_lists_more_of_everything_in_the_large_data_set(client, group):
    """The large data set really is larger on the page: peers, staff and meetings."""
    member = viewer_of(group, "member")
    log_in(client, member)
    grow(group, **SMALL_GROWTH)
    small = client.get(group.get_absolute_url()).text
    grow(group, **LARGE_GROWTH)
    large = client.get(group.get_absolute_url()).text
    assert small.count('<li class="card') == SMALL_MEETINGS
    assert large.count('<li class="card') == 5  # as many as a group page lists
    assert large.count("<li>Load person") > small.count("<li>Load person")
    assert large.count("Co-facilitator") > small.count("Co-facilitator")


def test_group_page_budget_notices_a_query_per_meeting(client, group, monkeypatch):
    """Negative control: one more query for each upcoming meeting fails the budget."""
    query_per_row(monkeypatch, meeting_selectors, "upcoming_for_group")
    with pytest.raises(AssertionError, match=r"queries with the small data set, \d+ with"):
        group_page_budget(client, group, "member", "groups:detail")


# --- Managing a group ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["facilitator", "coordinator"])
def test_manage_page_costs_the_same_for_a_small_and_a_large_group(client, group, kind):
    """Roster, waitlist, requests, invitations and (for a coordinator) removed people."""
    shown = ["Load person", "invitee", "Hello, may I join?"]
    if kind == "coordinator":
        shown.append("Removed from the group")
    group_page_budget(client, group, kind, "groups:manage", shown=shown)


def test_manage_budget_notices_the_roster_losing_its_join(client, group, monkeypatch):
    """Negative control: a roster read without select_related("user") is an N+1."""
    original = selectors.roster_for
    monkeypatch.setattr(selectors, "roster_for", lambda g: original(g).select_related(None))
    with pytest.raises(AssertionError, match=r"queries with the small data set, \d+ with"):
        group_page_budget(client, group, "facilitator", "groups:manage")


def test_manage_budget_notices_a_query_per_invitation(client, group, monkeypatch):
    """Negative control: one more query for each pending invitation fails the budget."""
    query_per_row(monkeypatch, selectors, "pending_invitations")
    with pytest.raises(AssertionError, match=r"queries with the small data set, \d+ with"):
        group_page_budget(client, group, "facilitator", "groups:manage")


# --- The other pages of a group: forms that must not read the roster -------------------

FORM_PAGES = [
    ("groups:edit", "facilitator"),
    ("groups:conduct_edit", "facilitator"),
    ("groups:invite", "facilitator"),
    ("groups:join", "outsider"),
    ("groups:leave", "member"),
    ("groups:conduct", "member"),
    ("meetings:schedule", "facilitator"),
]


@pytest.mark.parametrize(("name", "kind"), FORM_PAGES)
def test_group_form_pages_cost_the_same_for_a_small_and_a_large_group(client, group, name, kind):
    group_page_budget(client, group, kind, name)


def test_invitation_page_costs_the_same_for_a_small_and_a_large_group(client, group):
    Invitation.objects.create(
        group=group,
        email="invited@example.net",
        token_hash=token_hash(INVITATION_TOKEN),
        invited_by=group.facilitator,
        expires_at=timezone.now() + timedelta(days=14),
    )
    group_page_budget(client, group, "outsider", "groups:invitation", INVITATION_TOKEN)


def test_new_group_form_costs_the_same_for_5_and_200_groups(client):
    coordinator = UserFactory()
    coordinator_grant(user=coordinator)
    enable_mfa(coordinator)
    log_in(client, coordinator)
    assert_flat(
        small_setup=lambda: add_listed_groups(SMALL_GROUPS),
        large_setup=lambda: add_listed_groups(LARGE - SMALL_GROUPS),
        request=lambda: client.get(reverse("groups:create")),
        label="new group form",
    )
