"""Taking attendance: who came, walk-in guests and a private note, each change kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from groups.models import MembershipStatus, Role
from members.permissions import NotAllowed
from sessions import services
from sessions.errors import MeetingError
from sessions.models import Attendance, AttendanceChange, AttendanceStatus, Meeting
from tests.factories import UserFactory
from tests.meetings.factories import MeetingFactory, member_of

pytestmark = pytest.mark.django_db


def mark(meeting, person, status, actor) -> Attendance:
    return services.attendance_mark(
        meeting_id=meeting.pk, user_id=person.pk, status=status, actor=actor
    )


def history(meeting, field=None) -> list[tuple]:
    """(user id, field, old, new, changed by), oldest first."""
    changes = AttendanceChange.objects.filter(meeting=meeting).order_by("changed_at", "id")
    if field:
        changes = changes.filter(field=field)
    return list(changes.values_list("user_id", "field", "old_value", "new_value", "changed_by"))


def written(meeting) -> tuple:
    meeting.refresh_from_db()
    return (
        list(Attendance.objects.filter(meeting=meeting).values_list("user_id", "status")),
        history(meeting),
        meeting.guest_count,
        meeting.facilitator_note,
    )


def started(group, ago: timedelta) -> Meeting:
    return MeetingFactory(group=group, starts_at=timezone.now() - ago)


@pytest.fixture
def meeting(group):
    """Began an hour ago."""
    return started(group, timedelta(hours=1))


@pytest.fixture
def old_meeting(group):
    """Fifteen days ago: past the 14 days in which attendance can be changed."""
    return started(group, timedelta(days=15))


# --- Marking ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", AttendanceStatus.values)
def test_marking_someone_records_the_status_and_who_marked_it(meeting, member, facilitator, status):
    attendance = mark(meeting, member, status, facilitator)

    assert attendance.status == status
    assert attendance.marked_by == facilitator
    assert Attendance.objects.get(meeting=meeting, user=member).status == status
    assert history(meeting) == [(member.pk, "status", "", status, facilitator.pk)]


def test_changing_a_mark_keeps_the_history(meeting, member, facilitator, group):
    co_facilitator = member_of(group, role=Role.CO_FACILITATOR)
    mark(meeting, member, AttendanceStatus.ABSENT, facilitator)
    mark(meeting, member, AttendanceStatus.LATE, co_facilitator)

    assert Attendance.objects.filter(meeting=meeting, user=member).count() == 1
    assert Attendance.objects.get(meeting=meeting, user=member).status == AttendanceStatus.LATE
    assert history(meeting) == [
        (member.pk, "status", "", AttendanceStatus.ABSENT, facilitator.pk),
        (member.pk, "status", AttendanceStatus.ABSENT, AttendanceStatus.LATE, co_facilitator.pk),
    ]


def test_marking_the_same_again_adds_no_history(meeting, member, facilitator):
    mark(meeting, member, AttendanceStatus.PRESENT, facilitator)
    mark(meeting, member, AttendanceStatus.PRESENT, facilitator)

    assert len(history(meeting)) == 1


def test_an_unknown_status_is_refused(meeting, member, facilitator):
    before = written(meeting)

    with pytest.raises(MeetingError, match="Choose present, late, excused or absent"):
        mark(meeting, member, "asleep", facilitator)

    assert written(meeting) == before


def test_attendance_can_be_taken_from_two_hours_before(group, member, facilitator):
    soon = MeetingFactory(group=group, starts_at=timezone.now() + timedelta(minutes=90))
    later = MeetingFactory(group=group, starts_at=timezone.now() + timedelta(hours=3))

    mark(soon, member, AttendanceStatus.PRESENT, facilitator)
    with pytest.raises(MeetingError, match="Attendance opens two hours before the meeting"):
        mark(later, member, AttendanceStatus.PRESENT, facilitator)

    assert not Attendance.objects.filter(meeting=later).exists()


def test_no_attendance_for_a_cancelled_meeting(group, member, facilitator):
    meeting = MeetingFactory(group=group, starts_at=timezone.now() + timedelta(hours=1))
    services.meeting_cancel(meeting_id=meeting.pk, actor=facilitator)

    with pytest.raises(MeetingError, match="This meeting was cancelled"):
        mark(meeting, member, AttendanceStatus.PRESENT, facilitator)


# --- Who can be marked ------------------------------------------------------------------


def test_someone_not_in_the_group_cannot_be_marked(meeting, facilitator):
    before = written(meeting)

    with pytest.raises(MeetingError, match="That person is not in this group"):
        mark(meeting, UserFactory(), AttendanceStatus.PRESENT, facilitator)

    assert written(meeting) == before


def test_a_member_of_another_group_cannot_be_marked(meeting, facilitator):
    elsewhere = member_of(MeetingFactory().group)

    with pytest.raises(MeetingError, match="That person is not in this group"):
        mark(meeting, elsewhere, AttendanceStatus.PRESENT, facilitator)


@pytest.mark.parametrize("status", [MembershipStatus.PENDING, MembershipStatus.DECLINED])
def test_someone_whose_request_was_never_accepted_cannot_be_marked(
    meeting, group, facilitator, status
):
    person = member_of(group, status=status)

    with pytest.raises(MeetingError, match="That person is not in this group"):
        mark(meeting, person, AttendanceStatus.PRESENT, facilitator)


def test_someone_who_has_since_left_can_still_be_marked(meeting, group, facilitator):
    """Attendance is taken after the meeting; leaving the group later must not block it."""
    person = member_of(group, status=MembershipStatus.LEFT)

    mark(meeting, person, AttendanceStatus.PRESENT, facilitator)

    assert Attendance.objects.filter(meeting=meeting, user=person).exists()


# --- Locked after 14 days ---------------------------------------------------------------


def test_attendance_is_open_until_fourteen_days_after_the_meeting(group, member, facilitator):
    meeting = started(group, timedelta(days=13, hours=23))

    mark(meeting, member, AttendanceStatus.EXCUSED, facilitator)

    assert services.attendance_editable(meeting)
    assert not services.attendance_editable(meeting, timezone.now() + timedelta(hours=2))


def test_attendance_is_locked_fourteen_days_after_the_meeting(old_meeting, member, facilitator):
    before = written(old_meeting)

    with pytest.raises(MeetingError, match="Attendance is locked 14 days after the meeting"):
        mark(old_meeting, member, AttendanceStatus.PRESENT, facilitator)
    with pytest.raises(MeetingError, match="Attendance is locked 14 days after the meeting"):
        services.attendance_details_set(
            meeting_id=old_meeting.pk, guest_count=2, note="Late entry", actor=facilitator
        )

    assert written(old_meeting) == before


def test_a_coordinator_can_unlock_a_locked_sheet(old_meeting, member, facilitator, coordinator):
    services.attendance_unlock(meeting_id=old_meeting.pk, actor=coordinator, days=3)

    mark(old_meeting, member, AttendanceStatus.PRESENT, facilitator)
    services.attendance_details_set(
        meeting_id=old_meeting.pk, guest_count=1, note="", actor=facilitator
    )

    old_meeting.refresh_from_db()
    assert old_meeting.attendance_unlocked_until == pytest.approx(
        timezone.now() + timedelta(days=3), abs=timedelta(minutes=1)
    )
    assert history(old_meeting, "unlocked") == [(None, "unlocked", "", "3 days", coordinator.pk)]
    assert Attendance.objects.get(meeting=old_meeting, user=member).status == "present"
    assert old_meeting.guest_count == 1


def test_an_unlocked_sheet_locks_again_when_the_unlock_runs_out(
    old_meeting, member, facilitator, coordinator
):
    services.attendance_unlock(meeting_id=old_meeting.pk, actor=coordinator, days=1)
    Meeting.objects.filter(pk=old_meeting.pk).update(
        attendance_unlocked_until=timezone.now() - timedelta(minutes=1)
    )

    with pytest.raises(MeetingError, match="Attendance is locked 14 days after the meeting"):
        mark(old_meeting, member, AttendanceStatus.PRESENT, facilitator)


def test_only_a_coordinator_can_unlock(old_meeting, facilitator):
    before = written(old_meeting)

    with pytest.raises(NotAllowed, match=r"meeting\.attendance_unlock"):
        services.attendance_unlock(meeting_id=old_meeting.pk, actor=facilitator)

    assert written(old_meeting) == before
    old_meeting.refresh_from_db()
    assert old_meeting.attendance_unlocked_until is None


# --- Guests and the facilitator's note --------------------------------------------------


def test_guests_and_note_are_saved_with_history(meeting, facilitator, group):
    other = member_of(group, role=Role.CO_FACILITATOR)

    services.attendance_details_set(
        meeting_id=meeting.pk, guest_count=3, note="Two newcomers", actor=facilitator
    )
    services.attendance_details_set(
        meeting_id=meeting.pk, guest_count=4, note="Two newcomers", actor=other
    )

    meeting.refresh_from_db()
    assert meeting.guest_count == 4
    assert meeting.facilitator_note == "Two newcomers"
    assert history(meeting, "guest_count") == [
        (None, "guest_count", "0", "3", facilitator.pk),
        (None, "guest_count", "3", "4", other.pk),
    ]
    assert history(meeting, "facilitator_note") == [
        (None, "facilitator_note", "", "Two newcomers", facilitator.pk)
    ]


def test_saving_the_same_guests_and_note_adds_no_history(meeting, facilitator):
    for _ in range(2):
        services.attendance_details_set(
            meeting_id=meeting.pk, guest_count=2, note="Quiet evening", actor=facilitator
        )

    assert len(history(meeting)) == 2


@pytest.mark.parametrize("guests", [-1, 1001])
def test_an_impossible_number_of_guests_is_refused(meeting, facilitator, guests):
    before = written(meeting)

    with pytest.raises(MeetingError, match="Enter a number of guests between 0 and 1000"):
        services.attendance_details_set(
            meeting_id=meeting.pk, guest_count=guests, note="x", actor=facilitator
        )

    assert written(meeting) == before
