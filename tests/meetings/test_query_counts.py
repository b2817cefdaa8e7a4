"""Query budgets for meeting pages, answers, attendance and feeds: the same count with a
small and a large data set.

Every dimension a page loops over grows between the two sizes: the group's members and
staff, the answers (confirmed, waiting, declined) and marks on the meeting, the group's
other meetings, and for someone's own pages and feeds the groups they belong to and those
groups' meetings. The small sizes stay under the pages' limits (twenty meetings a page of
"my meetings"). See tests/query_budget.py.
"""

import itertools
from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Membership, MembershipStatus, Role, SupportGroup
from members.models import User
from sessions import feed_selectors, selectors, services
from sessions.models import (
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingFormat,
    MeetingSeries,
    MeetingStatus,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.groups.conftest import enable_mfa
from tests.query_budget import assert_flat, query_per_row

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 200
SMALL_GROUPS, LARGE_GROUPS = 2, 8
HTMX = {"HX-Request": "true"}

_numbers = itertools.count()


def new_people(count: int) -> list[User]:
    numbers = [next(_numbers) for _ in range(count)]
    return User.objects.bulk_create(
        User(email=f"qc{n}@example.net", display_name=f"Person {n:04d}", password="!")
        for n in numbers
    )


def add_members(group: SupportGroup, count: int) -> list[User]:
    """Active members (one in ten a co-facilitator), agreed to the current code."""
    users = new_people(count)
    conduct = group.codes_of_conduct.order_by("-version").first()
    Membership.objects.bulk_create(
        Membership(
            group=group,
            user=person,
            role=Role.CO_FACILITATOR if index % 10 == 9 else Role.MEMBER,
            status=MembershipStatus.ACTIVE,
            joined_at=timezone.now(),
            accepted_conduct=conduct,
        )
        for index, person in enumerate(users)
    )
    return users


def add_meetings(group: SupportGroup, count: int, *, first_in_days: float = 1, **extra):
    """Meetings of `group`, one a day from `first_in_days`; every seventh cancelled."""
    now = timezone.now()
    return Meeting.objects.bulk_create(
        Meeting(
            group=group,
            format=MeetingFormat.HYBRID,
            venue_name="Community hall",
            address="Via Larga 1",
            video_url="https://video.example.org/q",
            time_zone=group.time_zone,
            starts_at=now + timedelta(days=first_in_days + n * 0.4),
            ends_at=now + timedelta(days=first_in_days + n * 0.4, minutes=90),
            status=MeetingStatus.CANCELLED if n % 7 == 6 else MeetingStatus.SCHEDULED,
            **extra,
        )
        for n in range(count)
    )


ANSWERS = [
    (RsvpResponse.GOING, RsvpStatus.CONFIRMED),
    (RsvpResponse.GOING, RsvpStatus.CONFIRMED),
    (RsvpResponse.GOING, RsvpStatus.WAITLISTED),
    (RsvpResponse.NOT_GOING, RsvpStatus.DECLINED),
]


def add_answers(meeting: Meeting, people: list[User]) -> None:
    now = timezone.now()
    rows = []
    for index, person in enumerate(people):
        response, status = ANSWERS[index % len(ANSWERS)]
        waiting = status == RsvpStatus.WAITLISTED
        rows.append(
            Rsvp(
                meeting=meeting,
                user=person,
                response=response,
                status=status,
                waitlisted_at=now + timedelta(seconds=index) if waiting else None,
            )
        )
    Rsvp.objects.bulk_create(rows)


def add_marks(meeting: Meeting, people: list[User]) -> None:
    statuses = AttendanceStatus.values
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, user=person, status=statuses[index % len(statuses)])
        for index, person in enumerate(people[::2])
    )


class World:
    """A group with a facilitator and a member, a meeting tomorrow and one under way."""

    def __init__(self):
        self.group = SupportGroupFactory(name="Budget Group")
        self.facilitator = MembershipFactory(group=self.group, role=Role.FACILITATOR).user
        enable_mfa(self.facilitator)
        self.member = MembershipFactory(group=self.group).user
        (self.upcoming,) = add_meetings(self.group, 1, first_in_days=1)
        (self.under_way,) = add_meetings(self.group, 1, first_in_days=-1 / 24)

    def grow(self, count: int) -> None:
        """`count` more members, answers and marks on both meetings, and meetings."""
        people = add_members(self.group, count)
        for meeting in (self.upcoming, self.under_way):
            add_answers(meeting, people)
        add_marks(self.under_way, people)
        add_meetings(self.group, count, first_in_days=3)

    def budget(self, request, *, label, prepare=None, status=200):
        def large():
            self.grow(LARGE - SMALL)
            assert Membership.objects.filter(group=self.group).count() == LARGE + 2

        return assert_flat(
            small_setup=lambda: self.grow(SMALL),
            large_setup=large,
            request=request,
            prepare=prepare,
            status=status,
            label=label,
        )


@pytest.fixture
def world():
    return World()


# --- A meeting's pages -----------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["visitor", "member", "facilitator"])
def test_meeting_page_costs_the_same_for_a_small_and_a_large_meeting(client, world, viewer):
    if viewer != "visitor":
        log_in(client, getattr(world, viewer))
    url = world.upcoming.get_absolute_url()
    world.budget(lambda: client.get(url), label=f"meeting page as {viewer}")


def test_meeting_page_budget_notices_a_query_per_answer(client, world, monkeypatch):
    """Negative control: one more query for each person coming fails the budget."""
    query_per_row(
        monkeypatch,
        selectors,
        "rsvps_for",
        rows=lambda grouped: grouped[RsvpStatus.CONFIRMED] + grouped[RsvpStatus.WAITLISTED],
    )
    log_in(client, world.facilitator)
    url = world.upcoming.get_absolute_url()
    with pytest.raises(AssertionError, match=r"queries with the small data set, \d+ with"):
        world.budget(lambda: client.get(url), label="meeting page, a query per answer")


@pytest.mark.parametrize("name", ["meetings:ics", "meetings:edit", "meetings:cancel"])
def test_meeting_forms_and_calendar_file_cost_the_same_for_a_small_and_a_large_meeting(
    client, world, name
):
    log_in(client, world.facilitator)
    url = reverse(name, args=[world.upcoming.pk])
    world.budget(lambda: client.get(url), label=name)


# --- Answering -------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_saying_going_costs_the_same_for_a_small_and_a_large_meeting(client, world, htmx):
    log_in(client, world.member)
    url = reverse("meetings:rsvp", args=[world.upcoming.pk])

    def forget_answer():
        Rsvp.objects.filter(meeting=world.upcoming, user=world.member).delete()

    world.budget(
        lambda: client.post(url, {"going": "yes"}, headers=HTMX if htmx else {}),
        prepare=forget_answer,
        status=200 if htmx else 302,
        label=f"RSVP going ({'htmx' if htmx else 'plain'})",
    )
    assert Rsvp.objects.get(meeting=world.upcoming, user=world.member).status == "confirmed"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_giving_up_a_place_to_the_waitlist_costs_the_same_for_a_small_and_a_large_meeting(
    client, world, htmx
):
    """The meeting is full: saying "can't come" promotes the first person waiting."""
    log_in(client, world.member)
    meeting = world.upcoming
    url = reverse("meetings:rsvp", args=[meeting.pk])
    first_waiting = {}

    def full_with_a_waitlist():
        Rsvp.objects.update_or_create(
            meeting=meeting,
            user=world.member,
            defaults={"response": "going", "status": "confirmed", "waitlisted_at": None},
        )
        if "rsvp" not in first_waiting:  # the one promoted goes back to the head of the line
            first_waiting["rsvp"] = (
                Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.WAITLISTED)
                .order_by("waitlisted_at", "id")
                .first()
            )
        head = first_waiting["rsvp"]
        Rsvp.objects.filter(pk=head.pk).update(
            status=RsvpStatus.WAITLISTED, waitlisted_at=timezone.now() - timedelta(days=1)
        )
        confirmed = Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.CONFIRMED).count()
        Meeting.objects.filter(pk=meeting.pk).update(capacity=confirmed)

    world.budget(
        lambda: client.post(url, {"going": "no"}, headers=HTMX if htmx else {}),
        prepare=full_with_a_waitlist,
        status=200 if htmx else 302,
        label=f"RSVP can't come, one promoted ({'htmx' if htmx else 'plain'})",
    )
    assert Rsvp.objects.get(pk=first_waiting["rsvp"].pk).status == RsvpStatus.CONFIRMED


# --- Attendance ------------------------------------------------------------------------


def test_attendance_screen_costs_the_same_for_a_small_and_a_large_group(client, world):
    log_in(client, world.facilitator)
    url = reverse("meetings:attendance", args=[world.under_way.pk])
    world.budget(lambda: client.get(url), label="attendance screen")


def test_attendance_screen_budget_notices_a_query_per_row(client, world, monkeypatch):
    """Negative control: one more query for each row of the sheet fails the budget."""
    query_per_row(monkeypatch, selectors, "attendance_sheet")
    log_in(client, world.facilitator)
    url = reverse("meetings:attendance", args=[world.under_way.pk])
    with pytest.raises(AssertionError, match=r"queries with the small data set, \d+ with"):
        world.budget(lambda: client.get(url), label="attendance screen, a query per row")


def current_sheet(meeting) -> dict[int, str]:
    return {row.user_id: row.attendance_status or "" for row in selectors.attendance_sheet(meeting)}


@pytest.mark.parametrize("htmx", [False, True], ids=["whole-sheet", "htmx-one-row"])
def test_saving_attendance_costs_the_same_for_a_small_and_a_large_group(client, world, htmx):
    """The whole sheet posts every row with the value it was drawn with; only the changed
    row is written. A tap (htmx) posts the one row and gets it back."""
    log_in(client, world.facilitator)
    meeting = world.under_way
    url = reverse("meetings:attendance", args=[meeting.pk])
    form = {}

    def one_change():
        sheet = current_sheet(meeting)
        new = "late" if sheet[world.member.pk] == "present" else "present"
        rows = sheet if not htmx else {world.member.pk: sheet[world.member.pk]}
        form.clear()
        for user_id, status in rows.items():
            form[f"status-{user_id}"] = status or "absent"
            form[f"initial-{user_id}"] = status or "absent"
        form[f"status-{world.member.pk}"] = new
        assert len(form) == 2 * (len(sheet) if not htmx else 1)

    world.budget(
        lambda: client.post(url, form, headers=HTMX if htmx else {}),
        prepare=one_change,
        status=200 if htmx else 302,
        label=f"attendance POST ({'htmx one row' if htmx else 'whole sheet'})",
    )


# --- Someone's own meetings ------------------------------------------------------------


def join_groups(person: User, count: int, *, meetings: int) -> None:
    """`count` more groups for `person`, with `meetings` meetings between them, some
    answered (confirmed, waiting behind others, declined), some not."""
    groups = [SupportGroupFactory() for _ in range(count)]
    for group in groups:
        MembershipFactory(group=group, user=person)
    others = new_people(3)  # two confirmed and one waiting for each meeting answered
    for index in range(meetings):
        group = groups[index % count]
        (meeting,) = add_meetings(group, 1, first_in_days=0.5 + index * 0.4)
        if index % 4 == 3:
            continue
        add_answers(meeting, others)
        response, status = ANSWERS[index % 3]
        Rsvp.objects.create(
            meeting=meeting,
            user=person,
            response=response,
            status=status,
            waitlisted_at=timezone.now() + timedelta(hours=1)
            if status == RsvpStatus.WAITLISTED
            else None,
        )


def own_budget(person, request, label):
    return assert_flat(
        small_setup=lambda: join_groups(person, SMALL_GROUPS, meetings=SMALL),
        large_setup=lambda: join_groups(person, LARGE_GROUPS - SMALL_GROUPS, meetings=LARGE),
        request=request,
        label=label,
    )


def test_my_meetings_costs_the_same_for_few_and_many_groups_and_meetings(client, world):
    log_in(client, world.member)
    url = reverse("meetings:mine")
    own_budget(world.member, lambda: client.get(url), "my meetings")
    assert "You're number 2 on the waitlist." in client.get(url).text


def test_calendar_settings_cost_the_same_for_few_and_many_groups_and_meetings(client, world):
    log_in(client, world.member)
    url = reverse("meetings_feeds:calendar_settings")
    own_budget(world.member, lambda: client.get(url), "calendar settings")


def test_member_feed_costs_the_same_for_few_and_many_groups_and_meetings(client, world):
    token = services.calendar_token_for(user=world.member).token
    url = reverse("meetings_feeds:member_calendar", kwargs={"token": token})
    own_budget(world.member, lambda: client.get(url), "member feed")
    assert client.get(url).content.count(b"BEGIN:VEVENT") > LARGE


def test_member_feed_budget_notices_a_query_per_meeting(client, world, monkeypatch):
    """Negative control: one more query for each meeting in the feed fails the budget."""
    query_per_row(monkeypatch, feed_selectors, "member_feed_meetings")
    token = services.calendar_token_for(user=world.member).token
    url = reverse("meetings_feeds:member_calendar", kwargs={"token": token})
    with pytest.raises(AssertionError, match=r"queries with the small data set, \d+ with"):
        own_budget(world.member, lambda: client.get(url), "member feed, a query per meeting")


def test_group_feed_costs_the_same_for_a_small_and_a_large_group(client, world):
    url = reverse("meetings_feeds:group_calendar", kwargs={"slug": world.group.slug})
    world.budget(lambda: client.get(url), label="group feed")


# --- The meeting finders' feed ---------------------------------------------------------


def add_listed_schedules(count: int) -> None:
    """`count` more listed groups, each with a weekly series (its next meeting made) and a
    one-off meeting of its own."""
    groups = [SupportGroupFactory() for _ in range(count)]
    now = timezone.now()
    series = MeetingSeries.objects.bulk_create(
        MeetingSeries(
            group=group,
            format=MeetingFormat.ONLINE,
            video_url="https://video.example.org/weekly",
            rrule="FREQ=WEEKLY;BYDAY=MO",
            starts_on=timezone.localdate(),
            start_time=time(18, 30),
            duration_minutes=90,
            time_zone=group.time_zone,
        )
        for group in groups
    )
    for group, one_series in zip(groups, series, strict=True):
        add_meetings(group, 1, first_in_days=2, series=one_series, original_start=now)
        add_meetings(group, 1, first_in_days=3)


def test_meeting_guide_costs_the_same_for_few_and_many_groups(client):
    url = reverse("meetings_feeds:meeting_guide")

    def large():
        add_listed_schedules(LARGE_GROUPS * 5 - SMALL_GROUPS)
        assert len(client.get(url).json()) == LARGE_GROUPS * 5 * 2

    assert_flat(
        small_setup=lambda: add_listed_schedules(SMALL_GROUPS),
        large_setup=large,
        request=lambda: client.get(url),
        label="meeting guide JSON",
    )
