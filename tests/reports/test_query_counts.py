"""Query budgets: every report page and export costs the same queries for a small programme
(2 groups, 10 attendance rows) as for a large one (12 groups, 10,000 attendance rows).

Every dimension a report loops over grows between the two: groups (in the filter form,
the per-group tables and the overview's lists), their staff (the facilitator filter and
the overview's load table), members who joined and left (retention), meetings (the
one-group attendance table), attendance and answers, meetings coming up without staff,
and requests waiting too long. See tests/query_budget.py.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import GroupStatus, Membership, MembershipStatus, Role, SupportGroup
from members.models import User
from members.services import coordinator_grant
from outcomes import reports
from sessions.models import (
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingFormat,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.query_budget import assert_flat, query_per_row

pytestmark = pytest.mark.django_db

SMALL_GROUPS, LARGE_GROUPS = 2, 12
SMALL_ATTENDANCE, LARGE_ATTENDANCE = 10, 10_000
FIRST_MEETING = datetime(2025, 1, 6, 18, 0, tzinfo=UTC)
PERIOD = {"period": "custom", "start": "2025-01-01", "end": "2025-12-31"}
STATUSES = [AttendanceStatus.PRESENT] * 6 + [
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
]
ZONES = ["Europe/Rome", "America/New_York", "Asia/Tokyo"]


class Programme:
    """Groups, people, meetings and marks, grown in steps; `viewer` sees the reports."""

    def __init__(self, role: str):
        self.role = role
        self.viewer = UserFactory(display_name="Viewer")
        if role == "coordinator":
            coordinator_grant(user=self.viewer)
        enable_mfa(self.viewer)
        self.groups: list[SupportGroup] = []
        self.people: list[User] = []
        self.meetings: list[Meeting] = []

    def add_groups(self, count: int) -> None:
        """Groups in three time zones; one in four paused. For a facilitator, all theirs,
        with a co-facilitator in every other one; for a coordinator, every third group has
        no staff (the overview lists those) and the others a facilitator of their own."""
        start = len(self.groups)
        new = [
            SupportGroupFactory(
                name=f"Load {number:02d}",
                time_zone=ZONES[number % len(ZONES)],
                status=GroupStatus.PAUSED if number % 4 == 3 else GroupStatus.ACTIVE,
            )
            for number in range(start, start + count)
        ]
        for number, group in enumerate(new, start=start):
            if self.role == "facilitator":
                MembershipFactory(group=group, user=self.viewer, role=Role.FACILITATOR)
                if number % 2:
                    MembershipFactory(group=group, role=Role.CO_FACILITATOR)
            elif number % 3:
                MembershipFactory(group=group, role=Role.FACILITATOR)
        self.groups += new

    def add_people(self, count: int) -> None:
        """Members spread over every group (one in seven has left), and one request in
        five, to another group, waiting since the first meeting."""
        start = len(self.people)
        people = User.objects.bulk_create(
            User(email=f"load{number}@example.net", display_name=f"Load {number}", password="!")
            for number in range(start, start + count)
        )
        groups = self.groups
        Membership.objects.bulk_create(
            Membership(
                group=groups[index % len(groups)],
                user=person,
                role=Role.MEMBER,
                status=MembershipStatus.ACTIVE if index % 7 else MembershipStatus.LEFT,
                joined_at=FIRST_MEETING + timedelta(days=index % 180),
                ended_at=None if index % 7 else FIRST_MEETING + timedelta(days=200),
                requested_at=FIRST_MEETING,
                accepted_conduct=groups[index % len(groups)].codes_of_conduct.first(),
            )
            for index, person in enumerate(people, start=start)
        )
        Membership.objects.bulk_create(
            Membership(
                group=groups[(index + 1) % len(groups)],
                user=person,
                status=MembershipStatus.PENDING,
                requested_at=FIRST_MEETING,
            )
            for index, person in enumerate(people, start=start)
            if index % 5 == 0
        )
        self.people += people

    def add_meetings(self, count: int) -> list[Meeting]:
        """Past meetings over every group (every eleventh cancelled, some with guests)."""
        start = len(self.meetings)
        groups = self.groups
        meetings = Meeting.objects.bulk_create(
            Meeting(
                group=groups[number % len(groups)],
                starts_at=FIRST_MEETING + timedelta(days=3 * number, hours=number % 5),
                ends_at=FIRST_MEETING + timedelta(days=3 * number, hours=number % 5 + 2),
                time_zone=groups[number % len(groups)].time_zone,
                format=MeetingFormat.IN_PERSON,
                status="cancelled" if number % 11 == 10 else "scheduled",
                guest_count=number % 4,
            )
            for number in range(start, start + count)
        )
        self.meetings += meetings
        return meetings

    def add_coming_up(self, count: int) -> None:
        """Meetings in the next days, over every group: those of groups without staff are
        listed on the overview, the others count towards their staff's load."""
        now = timezone.now()
        groups = self.groups
        Meeting.objects.bulk_create(
            Meeting(
                group=groups[number % len(groups)],
                starts_at=now + timedelta(days=1 + number % 5, hours=number),
                ends_at=now + timedelta(days=1 + number % 5, hours=number + 2),
                time_zone=groups[number % len(groups)].time_zone,
                format=MeetingFormat.ONLINE,
            )
            for number in range(count)
        )

    @staticmethod
    def add_attendance(pairs) -> None:
        pairs = list(pairs)
        Attendance.objects.bulk_create(
            Attendance(meeting=meeting, user=person, status=STATUSES[(meeting.pk + person.pk) % 9])
            for meeting, person in pairs
        )
        Rsvp.objects.bulk_create(
            Rsvp(
                meeting=meeting,
                user=person,
                response=RsvpResponse.GOING,
                status=RsvpStatus.CONFIRMED,
            )
            for meeting, person in pairs
            if (meeting.pk + person.pk) % 3
        )

    def small(self) -> None:
        self.add_groups(SMALL_GROUPS)
        self.add_people(SMALL_ATTENDANCE)
        (first,) = self.add_meetings(1)
        self.add_attendance((first, person) for person in self.people)
        self.add_coming_up(2)
        assert Attendance.objects.count() == SMALL_ATTENDANCE

    def large(self) -> None:
        """12 groups, 100 people, 100 meetings, every person marked at every meeting."""
        first = self.meetings[0]
        self.add_groups(LARGE_GROUPS - SMALL_GROUPS)
        earlier = len(self.people)
        self.add_people(100 - earlier)
        meetings = self.add_meetings(99)
        self.add_attendance((first, person) for person in self.people[earlier:])
        self.add_attendance((meeting, person) for meeting in meetings for person in self.people)
        self.add_coming_up(40)
        assert Attendance.objects.count() == LARGE_ATTENDANCE
        assert SupportGroup.objects.count() >= LARGE_GROUPS


REPORTS = (
    "overview",
    "overview_csv",
    "overview_xlsx",
    "attendance",
    "attendance_by_month",
    "attendance_one_group",
    "attendance_csv",
    "attendance_xlsx",
    "attendance_one_group_csv",
    "retention",
    "retention_csv",
    "retention_xlsx",
)


def urls(programme: Programme) -> dict[str, str]:
    def url(name, fmt=None, **query):
        path = reverse(name, kwargs={"fmt": fmt} if fmt else None)
        return path + "?" + "&".join(f"{key}={value}" for key, value in query.items())

    first_group = programme.groups[0].pk
    return {
        "overview": url("reports:overview"),
        "overview_csv": url("reports:overview_export", "csv"),
        "overview_xlsx": url("reports:overview_export", "xlsx"),
        "attendance": url("reports:attendance", **PERIOD),
        "attendance_by_month": url("reports:attendance", **PERIOD, by="month"),
        "attendance_one_group": url("reports:attendance", **PERIOD, group=first_group),
        "attendance_csv": url("reports:attendance_export", "csv", **PERIOD),
        "attendance_xlsx": url("reports:attendance_export", "xlsx", **PERIOD),
        "attendance_one_group_csv": url(
            "reports:attendance_export", "csv", **PERIOD, group=first_group
        ),
        "retention": url("reports:retention", **PERIOD),
        "retention_csv": url("reports:retention_export", "csv", **PERIOD),
        "retention_xlsx": url("reports:retention_export", "xlsx", **PERIOD),
    }


def report_budgets(client, role: str) -> dict:
    """Every report measured on the small and on the large programme (each built once)."""
    programme = Programme(role)
    log_in(client, programme.viewer)
    return assert_flat(
        small_setup=programme.small,
        large_setup=programme.large,
        request={name: (lambda name=name: client.get(urls(programme)[name])) for name in REPORTS},
        label=role,
    )


@pytest.mark.parametrize("role", ["coordinator", "facilitator"])
def test_reports_cost_the_same_queries_for_a_small_and_a_large_programme(
    client, record_property, role
):
    for name, budget in report_budgets(client, role).items():
        record_property(f"{role}_{name}_queries_small", budget.small)
        record_property(f"{role}_{name}_queries_large", budget.large)


def test_the_large_programme_shows_more_rows_on_every_report(client):
    """The large programme really is larger on the pages the budgets count."""
    programme = Programme("coordinator")
    log_in(client, programme.viewer)
    programme.small()
    small = {name: client.get(url).content for name, url in urls(programme).items()}
    programme.large()
    large = {name: client.get(url).content for name, url in urls(programme).items()}
    for name in ("overview", "attendance", "attendance_one_group_csv", "retention"):
        assert len(large[name]) > len(small[name]), name
    assert large["overview"].count(b"Load ") > small["overview"].count(b"Load ")
    assert large["attendance"].count(b"<option") > small["attendance"].count(b"<option")


def test_report_budget_notices_a_query_per_group(client, monkeypatch):
    """Negative control: one more query for each group offered in the filter form."""
    query_per_row(monkeypatch, reports, "groups_in_scope")
    with pytest.raises(AssertionError, match=r"attendance: \d+ queries with the small data set"):
        report_budgets(client, "facilitator")


def test_overview_budget_notices_a_query_per_unstaffed_group_and_staff_member(client, monkeypatch):
    """Negative control: one more query for each row of the overview's lists."""
    query_per_row(
        monkeypatch,
        reports,
        "programme_overview",
        rows=lambda overview: [*overview.unstaffed_groups, *overview.load],
    )
    with pytest.raises(AssertionError, match=r"overview: \d+ queries with the small data set"):
        report_budgets(client, "coordinator")
