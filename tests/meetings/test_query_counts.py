"""Query budgets for meeting pages: the same count with 5 and with 200 rows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import Membership, MembershipStatus, Role
from members.models import User
from sessions.models import Attendance, Meeting, Rsvp, RsvpStatus
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.groups.conftest import enable_mfa

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 200


def queries(client, url: str) -> int:
    client.get(url)  # warm-up: session and permission caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def add_members(group, count: int, start: int, meeting: Meeting | None = None) -> None:
    users = User.objects.bulk_create(
        User(email=f"qc{n}@example.net", display_name=f"Person {n}", password="!")
        for n in range(start, start + count)
    )
    Membership.objects.bulk_create(
        Membership(
            group=group,
            user=u,
            role=Role.MEMBER,
            status=MembershipStatus.ACTIVE,
            joined_at=timezone.now(),
        )
        for u in users
    )
    if meeting is not None:
        Rsvp.objects.bulk_create(
            Rsvp(
                meeting=meeting,
                user=u,
                response="going",
                status=RsvpStatus.CONFIRMED if i % 4 else RsvpStatus.WAITLISTED,
                waitlisted_at=None if i % 4 else timezone.now(),
            )
            for i, u in enumerate(users)
        )
        Attendance.objects.bulk_create(
            Attendance(meeting=meeting, user=u, status="present") for u in users[::2]
        )


def add_meetings(group, count: int, start_in_days: int) -> list[Meeting]:
    now = timezone.now()
    return Meeting.objects.bulk_create(
        Meeting(
            group=group,
            format="online",
            video_url="https://video.example.org/q",
            time_zone="Europe/Rome",
            starts_at=now + timedelta(days=start_in_days, hours=n),
            ends_at=now + timedelta(days=start_in_days, hours=n, minutes=90),
        )
        for n in range(count)
    )


@pytest.fixture
def group_with_staff(db):
    group = SupportGroupFactory()
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR).user
    enable_mfa(facilitator)
    member = MembershipFactory(group=group).user
    meeting = add_meetings(group, 1, 0)[0]
    return group, facilitator, member, meeting


@pytest.mark.parametrize("viewer", ["member", "facilitator"])
def test_meeting_page_costs_the_same_with_5_and_200_people(client, group_with_staff, viewer):
    group, facilitator, member, meeting = group_with_staff
    log_in(client, member if viewer == "member" else facilitator)
    url = meeting.get_absolute_url()
    add_members(group, SMALL, 0, meeting)
    small = queries(client, url)
    add_members(group, LARGE - SMALL, SMALL, meeting)
    large = queries(client, url)
    print(f"meeting page as {viewer}: {small} queries")
    assert small == large


def test_attendance_screen_costs_the_same_with_5_and_200_people(client, group_with_staff):
    group, facilitator, _member, meeting = group_with_staff
    log_in(client, facilitator)
    url = reverse("meetings:attendance", args=[meeting.pk])
    add_members(group, SMALL, 0, meeting)
    small = queries(client, url)
    add_members(group, LARGE - SMALL, SMALL, meeting)
    large = queries(client, url)
    print(f"attendance screen: {small} queries")
    assert small == large


def test_my_meetings_costs_the_same_with_5_and_200_meetings(client, group_with_staff):
    group, _facilitator, member, _meeting = group_with_staff
    other = SupportGroupFactory()
    MembershipFactory(group=other, user=member)
    log_in(client, member)
    url = reverse("meetings:mine")
    add_meetings(group, SMALL, 1)
    small = queries(client, url)
    add_meetings(other, LARGE - SMALL, 2)
    large = queries(client, url)
    print(f"my meetings: {small} queries")
    assert small == large


def test_group_page_costs_the_same_with_5_and_200_meetings_and_members(client, group_with_staff):
    group, _facilitator, member, _meeting = group_with_staff
    log_in(client, member)
    url = group.get_absolute_url()
    add_meetings(group, SMALL, 1)
    add_members(group, SMALL, 0)
    small = queries(client, url)
    add_meetings(group, LARGE - SMALL, 3)
    add_members(group, LARGE - SMALL, SMALL)
    large = queries(client, url)
    print(f"group page: {small} queries")
    assert small == large
