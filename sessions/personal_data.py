"""The meetings app's sections of a person's export and erasure (registered in apps.py).

What is about a person here, and what erasure does with it:

* RSVPs (going or not, confirmed or on a waitlist) and attendance marks, with the history
  of changes to their mark: exported; on erasure the rows stay and point at the
  anonymised user row, so that past meetings' going, attended and no-show figures (and
  the report tables that triggers derive from them) still add up. Releasing the seats
  of future meetings and promoting their waitlists belongs to the end of a membership,
  which the groups section does under the group's lock; doing it here as well would
  free a seat twice.
* The calendar feed token: the key of a private address, deleted on erasure (the
  export says whether one exists and since when, not the secret itself).
* What the person did as staff (series they scheduled, changes they announced,
  attendance they marked): exported as such; on erasure those links keep pointing at
  the anonymised row ("Former member"), so a group's history still reads. What they
  marked about other people is the other people's, so only its size is exported.
* Free text that staff write about meetings (the private attendance note and its
  history, a cancellation reason) can name people: on erasure, in the groups where the
  person answered, came or did staff work, every mention of their addresses, full name
  or display name (as whole words, any case) is replaced.
"""

from django.db.models import Q

from members import personal_data
from members.models import User
from sessions.models import (
    Attendance,
    AttendanceChange,
    CalendarFeedToken,
    Meeting,
    MeetingChange,
    MeetingSeries,
    Rsvp,
    RsvpStatus,
)
from sessions.selectors import waitlist_position


def _iso(value):
    return value.isoformat() if value else None


def _meeting(meeting: Meeting) -> dict:
    return {
        "meeting": meeting.display_title,
        "group": meeting.group.name,
        "starts_at": meeting.starts_at.isoformat(),
    }


# --- RSVPs and waitlist places ----------------------------------------------------------


def rsvps_export(user: User) -> list[dict]:
    rsvps = (
        Rsvp.objects.filter(user=user)
        .select_related("meeting__group")
        .order_by("meeting__starts_at", "id")
    )
    return [
        {
            **_meeting(rsvp.meeting),
            "response": rsvp.response,
            "status": rsvp.status,
            "waitlist_position": waitlist_position(rsvp)
            if rsvp.status == RsvpStatus.WAITLISTED
            else None,
            "waitlisted_at": _iso(rsvp.waitlisted_at),
            "responded_at": rsvp.responded_at.isoformat(),
        }
        for rsvp in rsvps
    ]


def rsvps_erase(user: User) -> None:
    """Kept, pointing at the anonymised user row (see the module's docstring)."""


# --- Attendance -------------------------------------------------------------------------


def attendance_export(user: User) -> list[dict]:
    marks = (
        Attendance.objects.filter(user=user)
        .select_related("meeting__group")
        .order_by("meeting__starts_at", "id")
    )
    return [
        {**_meeting(mark.meeting), "status": mark.status, "marked_at": mark.marked_at.isoformat()}
        for mark in marks
    ]


def attendance_changes_export(user: User) -> list[dict]:
    """The history of the person's own marks (not who changed them)."""
    changes = (
        AttendanceChange.objects.filter(user=user)
        .select_related("meeting__group")
        .order_by("changed_at", "id")
    )
    return [
        {
            **_meeting(change.meeting),
            "field": change.field,
            "old_value": change.old_value,
            "new_value": change.new_value,
            "changed_at": change.changed_at.isoformat(),
        }
        for change in changes
    ]


def _groups_touched_by(user: User) -> set[int]:
    """The groups whose meetings the person answered, came to or ran."""
    group_ids: set[int] = set()
    for queryset, field in (
        (Rsvp.objects.filter(user=user), "meeting__group_id"),
        (Attendance.objects.filter(Q(user=user) | Q(marked_by=user)), "meeting__group_id"),
        (
            AttendanceChange.objects.filter(Q(user=user) | Q(changed_by=user)),
            "meeting__group_id",
        ),
        (MeetingChange.objects.filter(changed_by=user), "meeting__group_id"),
        (MeetingSeries.objects.filter(created_by=user), "group_id"),
    ):
        group_ids |= set(queryset.order_by().values_list(field, flat=True).distinct())
    return group_ids


def attendance_erase(user: User) -> None:
    """The marks stay (anonymous, for the counts); mentions of the person in the staff's
    notes and cancellation reasons of their groups' meetings are replaced."""
    terms = personal_data.identifying_terms(user)
    group_ids = _groups_touched_by(user)
    if not terms or not group_ids:
        return
    meetings = Meeting.objects.filter(group_id__in=group_ids).filter(
        personal_data.mentioning("facilitator_note", terms)
        | personal_data.mentioning("cancel_reason", terms)
    )
    for pk, note, reason in meetings.values_list("pk", "facilitator_note", "cancel_reason"):
        Meeting.objects.filter(pk=pk).update(
            facilitator_note=personal_data.scrub(note, terms),
            cancel_reason=personal_data.scrub(reason, terms),
        )
    history = AttendanceChange.objects.filter(meeting__group_id__in=group_ids).filter(
        personal_data.mentioning("old_value", terms) | personal_data.mentioning("new_value", terms)
    )
    for pk, old, new in history.values_list("pk", "old_value", "new_value"):
        AttendanceChange.objects.filter(pk=pk).update(
            old_value=personal_data.scrub(old, terms), new_value=personal_data.scrub(new, terms)
        )


def attendance_changes_erase(user: User) -> None:
    """Kept, pointing at the anonymised user row: the sheet's history still adds up."""


# --- Calendar feed ----------------------------------------------------------------------


def calendar_feed_export(user: User) -> dict | None:
    token = CalendarFeedToken.objects.filter(user=user).first()
    if token is None:
        return None
    return {"private_address_created_at": token.created_at.isoformat()}


def calendar_feed_erase(user: User) -> None:
    """Deleted: the private address stops working at once."""
    CalendarFeedToken.objects.filter(user=user).delete()


# --- Work done as staff -----------------------------------------------------------------


def staff_work_export(user: User) -> dict:
    series = MeetingSeries.objects.filter(created_by=user).select_related("group")
    changes = MeetingChange.objects.filter(changed_by=user).select_related("meeting__group")
    return {
        "series_scheduled": [
            {
                "group": one.group.name,
                "title": one.title,
                "first_date": one.starts_on.isoformat(),
                "created_at": one.created_at.isoformat(),
            }
            for one in series.order_by("created_at", "id")
        ],
        "meeting_changes_announced": [
            {
                **_meeting(change.meeting),
                "kind": change.kind,
                "fields": sorted(change.details),
                "at": change.created_at.isoformat(),
            }
            for change in changes.order_by("created_at", "id")
        ],
        "attendance_marks_made": Attendance.objects.filter(marked_by=user).count(),
        "attendance_sheet_changes_made": AttendanceChange.objects.filter(changed_by=user).count(),
    }


def staff_work_erase(user: User) -> None:
    """Kept, pointing at the anonymised user row (see the module's docstring)."""


def register(app_label: str) -> None:
    for name, export, erase, models in (
        ("meeting_rsvps", rsvps_export, rsvps_erase, [Rsvp]),
        ("meeting_attendance", attendance_export, attendance_erase, [Attendance, Meeting]),
        (
            "meeting_attendance_changes",
            attendance_changes_export,
            attendance_changes_erase,
            [AttendanceChange],
        ),
        ("calendar_feed", calendar_feed_export, calendar_feed_erase, [CalendarFeedToken]),
        (
            "meetings_staff_work",
            staff_work_export,
            staff_work_erase,
            [MeetingSeries, MeetingChange, Attendance, AttendanceChange],
        ),
    ):
        personal_data.register(name, app_label=app_label, export=export, erase=erase, models=models)
