"""Two facilitators marking the same register at once: the meeting row lock (taken by bulk
marks as by single taps) queues them, so each person ends with one mark and one history
line. The last test removes the lock and shows the same race then fails."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from groups.models import Role
from sessions import services
from sessions.models import Attendance, AttendanceChange, Meeting, Rsvp, RsvpStatus
from tests.concurrency import run_at_once
from tests.factories import SupportGroupFactory
from tests.meetings.factories import MeetingFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 12


@pytest.fixture
def register():
    group = SupportGroupFactory(name="Evening Circle")
    staff = [member_of(group, role=Role.FACILITATOR) for _ in range(2)]
    meeting = MeetingFactory(group=group, starts_at=timezone.now() - timedelta(hours=1))
    people = [member_of(group) for _ in range(PEOPLE)]
    Rsvp.objects.bulk_create(
        Rsvp(meeting=meeting, user=person, response="going", status=RsvpStatus.CONFIRMED)
        for person in people
    )
    return meeting, staff, people


def slow_sheet(original):
    """The register read, then a pause before writing: the window a lock must close."""

    def read_slowly(meeting):
        rows = original(meeting)
        time.sleep(0.3)
        return rows

    return read_slowly


def read_together(original, parties: int = 2):
    """The register read, then a wait until every racer has read too: without a lock,
    each then writes from a read the others are about to make stale, however slow the
    machine (with the lock the second read waits for the first writer, so only the
    control can use this)."""
    everyone_has_read = threading.Barrier(parties)

    def read_and_wait(meeting):
        rows = original(meeting)
        everyone_has_read.wait(timeout=30)
        return rows

    return read_and_wait


def bulk_calls(meeting, staff):
    return [
        lambda actor=actor: services.attendance_mark_going_present(
            actor=actor, meeting_id=meeting.pk
        )
        for actor in staff
    ]


def test_two_facilitators_marking_everyone_at_once_mark_each_person_once(register, monkeypatch):
    meeting, staff, _people = register
    monkeypatch.setattr(services, "_unmarked_on_sheet", slow_sheet(services._unmarked_on_sheet))

    outcomes = run_at_once(bulk_calls(meeting, staff))

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert sorted(len(outcome) for outcome in outcomes) == [0, PEOPLE]  # one did it all
    assert Attendance.objects.filter(meeting=meeting).count() == PEOPLE
    assert AttendanceChange.objects.filter(meeting=meeting).count() == PEOPLE


def test_a_tap_during_a_bulk_mark_is_kept_whichever_comes_first(register, monkeypatch):
    meeting, staff, people = register
    monkeypatch.setattr(services, "_unmarked_on_sheet", slow_sheet(services._unmarked_on_sheet))
    tapped = people[0]

    def tap():
        return services.attendance_mark(
            meeting_id=meeting.pk, user_id=tapped.pk, status="late", actor=staff[1]
        )

    outcomes = run_at_once([bulk_calls(meeting, staff)[0], tap])

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert Attendance.objects.filter(meeting=meeting).count() == PEOPLE
    # Tap first: the bulk mark skips a marked person. Bulk first: the tap changes it.
    assert Attendance.objects.get(meeting=meeting, user=tapped).status == "late"


def test_control_without_the_row_lock_the_same_race_breaks(register, monkeypatch):
    meeting, staff, _people = register
    monkeypatch.setattr(services, "_unmarked_on_sheet", read_together(services._unmarked_on_sheet))
    monkeypatch.setattr(
        services,
        "_lock_meeting",
        lambda meeting_id: Meeting.objects.select_related("group").get(pk=meeting_id),
    )

    outcomes = run_at_once(bulk_calls(meeting, staff))

    assert any(isinstance(outcome, IntegrityError) for outcome in outcomes)
