"""Query budgets: every report page and export costs the same queries with 10 attendance
rows as with 10,000 (after one warm-up request, so that caches filled on first use do not
count). The counts are printed and recorded as test properties."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from groups.models import Membership, MembershipStatus, Role
from members.models import User
from members.services import coordinator_grant
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

pytestmark = pytest.mark.django_db

SMALL = 10
LARGE = 10_000
FIRST_MEETING = datetime(2025, 1, 6, 18, 0, tzinfo=UTC)
PERIOD = {"period": "custom", "start": "2025-01-01", "end": "2025-12-31"}
STATUSES = [AttendanceStatus.PRESENT] * 6 + [
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
]


def add_people(groups, start: int, count: int) -> list[User]:
    people = User.objects.bulk_create(
        User(email=f"load{number}@example.net", display_name=f"Load {number}", password="!")
        for number in range(start, start + count)
    )
    Membership.objects.bulk_create(
        Membership(
            group=groups[index % 2],
            user=person,
            role=Role.MEMBER,
            status=MembershipStatus.ACTIVE if index % 7 else MembershipStatus.LEFT,
            joined_at=FIRST_MEETING + timedelta(days=index % 180),
            requested_at=FIRST_MEETING,
            accepted_conduct=groups[index % 2].codes_of_conduct.first(),
        )
        for index, person in enumerate(people, start=start)
    )
    Membership.objects.bulk_create(
        Membership(
            group=groups[(index + 1) % 2],
            user=person,
            status=MembershipStatus.PENDING,
            requested_at=FIRST_MEETING,
        )
        for index, person in enumerate(people[:2], start=start)
    )
    return people


def add_meetings(groups, start: int, count: int) -> list[Meeting]:
    return Meeting.objects.bulk_create(
        Meeting(
            group=groups[number % 2],
            starts_at=FIRST_MEETING + timedelta(days=3 * number, hours=number % 5),
            ends_at=FIRST_MEETING + timedelta(days=3 * number, hours=number % 5 + 2),
            time_zone=groups[number % 2].time_zone,
            format=MeetingFormat.IN_PERSON,
            status="cancelled" if number % 11 == 10 else "scheduled",
            guest_count=number % 4,
        )
        for number in range(start, start + count)
    )


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


def urls(groups) -> dict[str, str]:
    def url(name, fmt=None, **query):
        path = reverse(name, kwargs={"fmt": fmt} if fmt else None)
        return path + "?" + "&".join(f"{key}={value}" for key, value in query.items())

    return {
        "overview": url("reports:overview"),
        "overview_xlsx": url("reports:overview_export", "xlsx"),
        "attendance": url("reports:attendance", **PERIOD),
        "attendance_by_month": url("reports:attendance", **PERIOD, by="month"),
        "attendance_one_group": url("reports:attendance", **PERIOD, group=groups[0].pk),
        "attendance_csv": url("reports:attendance_export", "csv", **PERIOD),
        "attendance_xlsx": url("reports:attendance_export", "xlsx", **PERIOD),
        "retention": url("reports:retention", **PERIOD),
        "retention_csv": url("reports:retention_export", "csv", **PERIOD),
        "retention_xlsx": url("reports:retention_export", "xlsx", **PERIOD),
    }


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


@pytest.mark.parametrize("role", ["coordinator", "facilitator"])
def test_reports_cost_the_same_queries_for_10_and_10000_attendance_rows(
    client, record_property, role
):
    groups = [
        SupportGroupFactory(name="Load North", time_zone="Europe/Rome"),
        SupportGroupFactory(name="Load West", time_zone="America/New_York"),
    ]
    viewer = UserFactory(display_name="Viewer")
    if role == "coordinator":
        coordinator_grant(user=viewer)
    else:
        for group in groups:
            MembershipFactory(group=group, user=viewer, role=Role.FACILITATOR)
    enable_mfa(viewer)
    log_in(client, viewer)

    people = add_people(groups, 0, SMALL)
    (first,) = add_meetings(groups, 0, 1)
    add_attendance((first, person) for person in people)
    assert Attendance.objects.count() == SMALL
    pages = urls(groups)
    for url in pages.values():
        client.get(url)  # warm-up
    small = {name: count_queries(client, url) for name, url in pages.items()}

    people += add_people(groups, SMALL, 90)
    meetings = add_meetings(groups, 1, 99)
    add_attendance((first, person) for person in people[SMALL:])
    add_attendance((meeting, person) for meeting in meetings for person in people)
    assert Attendance.objects.count() == LARGE
    large = {name: count_queries(client, url) for name, url in pages.items()}

    for name in pages:
        record_property(f"{role}_{name}_queries_{SMALL}", small[name])
        record_property(f"{role}_{name}_queries_{LARGE}", large[name])
    print(f"{role}: " + ", ".join(f"{name} {small[name]}/{large[name]}" for name in pages))
    assert small == large
