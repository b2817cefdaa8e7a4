"""The reports' tables (outcomes.models) stay equal to a count from scratch, whatever writes
them: rows created and changed by the ORM, bulk inserts, queryset updates and deletes,
meetings cancelled, moved and deleted, people erased and deleted. The expected contents are
worked out here in Python from the source rows, apart from the SQL that keeps the tables;
the rebuild command must then give the same rows again."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from members.services import account_erase
from sessions.models import (
    ATTENDED,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def tables_now() -> dict[str, list[tuple]]:
    """The three tables, with the multiranges spelled out as sorted lists."""
    return {
        "tally": _rows(
            "SELECT meeting_id, group_id, day, starts_at, held, guest_count, marks, attended,"
            " going, no_shows FROM outcomes_meeting_tally ORDER BY meeting_id"
        ),
        "attended": _rows(
            "SELECT attendance_id, meeting_id, group_id, user_id, day, starts_at"
            " FROM outcomes_attended_day ORDER BY attendance_id"
        ),
        "attendees": _rows(
            """
            SELECT group_id, user_id, first_day,
                (SELECT array_agg(d::date ORDER BY d) FROM unnest(days) AS r,
                    generate_series(lower(r), upper(r) - 1, interval '1 day') AS d),
                (SELECT array_agg(lower(r) ORDER BY lower(r)) FROM unnest(starts) AS r)
            FROM outcomes_group_attendee ORDER BY group_id, user_id
            """
        ),
    }


def counted_from_scratch() -> dict[str, list[tuple]]:
    """What the tables should hold, from the meetings, marks and RSVPs, in Python."""
    attended = set(ATTENDED)
    marks = list(Attendance.objects.values_list("id", "meeting_id", "user_id", "status"))
    answers = list(
        Rsvp.objects.filter(response=RsvpResponse.GOING, status=RsvpStatus.CONFIRMED).values_list(
            "meeting_id", "user_id"
        )
    )
    came = {(meeting, user) for _id, meeting, user, status in marks if status in attended}
    tally, attended_rows, attendees = [], [], {}
    meetings = {meeting.pk: meeting for meeting in Meeting.objects.order_by("pk")}
    for meeting in meetings.values():
        day = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone)).date()
        of_meeting = [mark for mark in marks if mark[1] == meeting.pk]
        going = [user for meeting_id, user in answers if meeting_id == meeting.pk]
        tally.append(
            (
                meeting.pk,
                meeting.group_id,
                day,
                meeting.starts_at,
                meeting.status == MeetingStatus.SCHEDULED,
                meeting.guest_count,
                len(of_meeting),
                sum(1 for mark in of_meeting if mark[3] in attended),
                len(going),
                sum(1 for user in going if (meeting.pk, user) not in came),
            )
        )
    for mark_id, meeting_id, user_id, status in sorted(marks):
        meeting = meetings[meeting_id]
        if status not in attended or meeting.status != MeetingStatus.SCHEDULED:
            continue
        day = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone)).date()
        attended_rows.append(
            (mark_id, meeting_id, meeting.group_id, user_id, day, meeting.starts_at)
        )
        days, starts = attendees.setdefault((meeting.group_id, user_id), (set(), set()))
        days.add(day)
        starts.add(meeting.starts_at)
    return {
        "tally": tally,
        "attended": attended_rows,
        "attendees": [
            (group_id, user_id, min(days), sorted(days), sorted(starts))
            for (group_id, user_id), (days, starts) in sorted(attendees.items())
        ],
    }


def rebuilt() -> dict[str, list[tuple]]:
    out = StringIO()
    call_command("rebuild_report_tables", stdout=out)
    assert "Rebuilt" in out.getvalue()
    return tables_now()


def test_report_tables_match_a_count_from_scratch_after_mixed_writes():
    rome = SupportGroupFactory(name="Rome group", time_zone="Europe/Rome")
    york = SupportGroupFactory(name="York group", time_zone="America/New_York")
    people = [UserFactory(display_name=f"p{number}") for number in range(8)]
    for person in people:
        MembershipFactory(group=rome, user=person)
        MembershipFactory(group=york, user=person)

    def at(zone, *args):
        return datetime(*args, tzinfo=zone)

    monday = MeetingFactory(
        group=rome, starts_at=at(ROME, 2025, 3, 3, 19), time_zone=rome.time_zone
    )
    late = MeetingFactory(
        group=rome, starts_at=at(ROME, 2025, 3, 10, 23, 30), time_zone=rome.time_zone
    )
    evening = MeetingFactory(
        group=york, starts_at=at(NEW_YORK, 2025, 3, 5, 18), time_zone=york.time_zone
    )
    doomed = MeetingFactory(
        group=york, starts_at=at(NEW_YORK, 2025, 3, 12, 18), time_zone=york.time_zone
    )
    assert tables_now() == counted_from_scratch()

    # Marks one by one, then in bulk; RSVPs of every kind.
    Attendance.objects.create(meeting=monday, user=people[0], status=AttendanceStatus.PRESENT)
    Attendance.objects.create(meeting=monday, user=people[1], status=AttendanceStatus.LATE)
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, user=person, status=status)
        for meeting in (late, evening, doomed)
        for person, status in zip(
            people[:6],
            [AttendanceStatus.PRESENT] * 3
            + [AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED, AttendanceStatus.LATE],
            strict=True,
        )
    )
    Rsvp.objects.bulk_create(
        Rsvp(meeting=meeting, user=person, response=RsvpResponse.GOING, status=RsvpStatus.CONFIRMED)
        for meeting in (monday, late, evening)
        for person in people[:5]
    )
    Rsvp.objects.create(
        meeting=monday, user=people[6], response=RsvpResponse.GOING, status=RsvpStatus.WAITLISTED
    )
    Rsvp.objects.create(
        meeting=monday, user=people[7], response=RsvpResponse.NOT_GOING, status=RsvpStatus.DECLINED
    )
    assert tables_now() == counted_from_scratch()

    # Changed: a mark from absent to present and back, one in bulk; answers change their mind.
    mark = Attendance.objects.get(meeting=late, user=people[3])
    mark.status = AttendanceStatus.PRESENT
    mark.save()
    Attendance.objects.filter(meeting=evening, status=AttendanceStatus.PRESENT).update(
        status=AttendanceStatus.ABSENT
    )
    Rsvp.objects.filter(meeting=monday, user=people[6]).update(status=RsvpStatus.CONFIRMED)
    Rsvp.objects.filter(meeting=late, user=people[0]).update(
        response=RsvpResponse.NOT_GOING, status=RsvpStatus.DECLINED
    )
    Rsvp.objects.filter(meeting=evening, user=people[4]).update(status=RsvpStatus.WAITLISTED)
    assert tables_now() == counted_from_scratch()

    # Deleted marks and answers.
    Attendance.objects.filter(meeting=monday, user=people[1]).delete()
    Rsvp.objects.filter(meeting=late, user=people[2]).delete()
    assert tables_now() == counted_from_scratch()

    # A meeting cancelled, then held after all; guests recorded.
    Meeting.objects.filter(pk=evening.pk).update(status=MeetingStatus.CANCELLED)
    assert tables_now() == counted_from_scratch()
    evening.refresh_from_db()
    evening.status = MeetingStatus.SCHEDULED
    evening.guest_count = 3
    evening.save()
    assert tables_now() == counted_from_scratch()

    # Moved across midnight on its own clock: 23:30 on the 10th becomes 00:30 on the 11th.
    late.starts_at += timedelta(hours=1)
    late.ends_at += timedelta(hours=1)
    late.save()
    late_row = next(row for row in tables_now()["tally"] if row[0] == late.pk)
    assert late_row[2] == at(ROME, 2025, 3, 11).date()
    assert tables_now() == counted_from_scratch()

    # Moved to the other group and time zone, then deleted with its marks and answers.
    Meeting.objects.filter(pk=monday.pk).update(group=york, time_zone=york.time_zone)
    assert tables_now() == counted_from_scratch()
    doomed.delete()
    assert tables_now() == counted_from_scratch()

    # A person erased (their rows kept or removed as erasure decides), another deleted.
    account_erase(user=people[0])
    people[1].delete()
    expected = counted_from_scratch()
    assert tables_now() == expected
    assert all(row[3] != people[1].pk for row in expected["attended"])
    assert expected["attended"] and expected["attendees"]

    # And the rebuild command counts the same rows again.
    assert rebuilt() == expected


def test_rebuild_command_restores_tables_emptied_behind_the_triggers():
    group = SupportGroupFactory(time_zone="Europe/Rome")
    person = UserFactory()
    MembershipFactory(group=group, user=person)
    meeting = MeetingFactory(
        group=group, starts_at=datetime(2025, 5, 4, 22, 30, tzinfo=UTC), time_zone="Europe/Rome"
    )
    Attendance.objects.create(meeting=meeting, user=person, status=AttendanceStatus.PRESENT)
    Rsvp.objects.create(
        meeting=meeting, user=person, response=RsvpResponse.GOING, status=RsvpStatus.CONFIRMED
    )
    expected = counted_from_scratch()
    assert expected["attendees"][0][2].isoformat() == "2025-05-05"  # the day in Rome
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE outcomes_meeting_tally, outcomes_attended_day, outcomes_group_attendee"
        )
    assert tables_now() == {"tally": [], "attended": [], "attendees": []}

    assert rebuilt() == expected
