"""Marks and RSVPs written at the same instant, straight into their tables (no service and
so no meeting lock): the triggers' own row locks keep the reports' tables exact. The last
test removes the tally lock and shows that the same race then loses counts, so the first
test would notice a broken lock."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from outcomes.models import AttendedDay, GroupAttendee, MeetingTally
from sessions.models import Attendance, AttendanceStatus, Rsvp, RsvpResponse, RsvpStatus
from tests.concurrency import run_at_once
from tests.factories import SupportGroupFactory
from tests.meetings.factories import MeetingFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 30
LOCK = "PERFORM 1 FROM outcomes_meeting_tally WHERE meeting_id = ANY(ids)"


def a_past_meeting_with_members():
    group = SupportGroupFactory()
    start = timezone.now() - timedelta(days=2)
    meeting = MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=1))
    return meeting, [member_of(group) for _ in range(PEOPLE)]


def mark(meeting, person):
    return lambda: Attendance.objects.create(
        meeting=meeting, user=person, status=AttendanceStatus.PRESENT
    )


def race_marks(meeting, people):
    outcomes = run_at_once([mark(meeting, person) for person in people])
    assert not [error for error in outcomes if isinstance(error, Exception)]
    return MeetingTally.objects.get(meeting_id=meeting.pk)


def test_racing_marks_and_rsvps_leave_the_tables_exact():
    meeting, people = a_past_meeting_with_members()

    tally = race_marks(meeting, people)
    outcomes = run_at_once(
        [
            lambda person=person: Rsvp.objects.create(
                meeting=meeting,
                user=person,
                response=RsvpResponse.GOING,
                status=RsvpStatus.CONFIRMED,
            )
            for person in people
        ]
    )
    assert not [error for error in outcomes if isinstance(error, Exception)]

    tally = MeetingTally.objects.get(meeting_id=meeting.pk)
    assert (tally.marks, tally.attended, tally.going, tally.no_shows) == (30, 30, 30, 0)
    assert AttendedDay.objects.filter(meeting_id=meeting.pk).count() == PEOPLE
    assert GroupAttendee.objects.filter(group_id=meeting.group_id).count() == PEOPLE


def test_without_the_tally_lock_the_same_race_loses_counts():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_functiondef('outcomes_count_meetings(bigint[])'::regprocedure)"
        )
        original = cursor.fetchone()[0]
    lock = re.search(re.escape(LOCK) + r"[^;]*FOR UPDATE;", original)
    assert lock is not None
    unlocked = original.replace(lock[0], "")
    try:
        with connection.cursor() as cursor:
            cursor.execute(unlocked)
        counts = []
        for _attempt in range(3):  # a lost update needs two recounts to overlap
            meeting, people = a_past_meeting_with_members()
            counts.append(race_marks(meeting, people).marks)
            if counts[-1] < PEOPLE:
                break
        assert min(counts) < PEOPLE, counts
    finally:
        with connection.cursor() as cursor:
            cursor.execute(original)
