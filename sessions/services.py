"""Every write to meetings: schedules, changes, RSVPs, attendance and calendar tokens.

Invariants that depend on counts (places left, waitlist order) are decided while
holding a row lock on the meeting, so simultaneous answers queue up in arrival order.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from groups.models import Membership, MembershipStatus, SupportGroup
from members import permissions
from members.models import NotificationKind, User
from members.notifications import notification_enqueue
from members.services import audit_record
from sessions import recurrence
from sessions.errors import MeetingError
from sessions.models import (
    ATTENDED,
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    CalendarFeedToken,
    Meeting,
    MeetingChange,
    MeetingChangeKind,
    MeetingSeries,
    MeetingStatus,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)
from sessions.selectors import attendance_sheet, said_going

HORIZON = timedelta(days=183)
ATTENDANCE_EDIT_WINDOW = timedelta(days=14)
ATTENDANCE_OPENS_BEFORE = timedelta(hours=2)
PLACE_FIELDS = (
    "format",
    "venue_name",
    "address",
    "address_visibility",
    "step_free",
    "access_notes",
    "video_url",
    "dial_in",
    "online_notes",
)
NOTIFIABLE_FIELDS = ("starts_at", "ends_at", *PLACE_FIELDS)


class Scope:
    THIS = "this"
    FOLLOWING = "following"
    ALL = "all"


@dataclass(frozen=True)
class MeetingPlan:
    """Everything a facilitator sets for a meeting or a series, validated by the form."""

    schedule: recurrence.Schedule
    duration_minutes: int
    title: str = ""
    capacity: int | None = None
    place: dict | None = None


# ---------------------------------------------------------------- schedules


def _check_plan(plan: MeetingPlan) -> str:
    if plan.duration_minutes <= 0:
        raise MeetingError(_("A meeting must end after it starts."))
    schedule = plan.schedule
    if schedule.until is not None and schedule.until < schedule.starts_on:
        raise MeetingError(_("The last date is before the first meeting."))
    if schedule.count is not None and schedule.count < 1:
        raise MeetingError(_("The number of meetings must be at least 1."))
    rule = recurrence.rrule_text(schedule)
    if not recurrence.rule_yields_any(
        rule=rule, starts_on=schedule.starts_on, start_time=schedule.start_time
    ):
        raise MeetingError(_("These settings give no meeting at all. Check the dates."))
    return rule


def series_create(*, group: SupportGroup, plan: MeetingPlan, actor: User) -> MeetingSeries:
    """Save a schedule (a one-off meeting is a series of one) and create its meetings."""
    permissions.require(actor, "group.manage", group)
    rule = _check_plan(plan)
    with transaction.atomic():
        series = MeetingSeries.objects.create(
            group=group,
            title=plan.title,
            rrule=rule,
            starts_on=plan.schedule.starts_on,
            start_time=plan.schedule.start_time,
            duration_minutes=plan.duration_minutes,
            time_zone=group.time_zone,
            capacity=plan.capacity,
            created_by=actor,
            **(plan.place or {}),
        )
        if not series_materialise(series_id=series.pk):
            raise MeetingError(
                _("These settings give no meeting in the next six months. Check the dates.")
            )
        series.refresh_from_db()
        return series


def _occurrences_between(series: MeetingSeries, after: datetime | None, before: datetime):
    return recurrence.occurrences(
        rule=series.rrule,
        starts_on=series.starts_on,
        start_time=series.start_time,
        time_zone=series.time_zone,
        after=after,
        before=before,
    )


def _meeting_from_series(series: MeetingSeries, start: datetime) -> Meeting:
    return Meeting(
        group_id=series.group_id,
        series=series,
        original_start=start,
        title=series.title,
        starts_at=start,
        ends_at=start + timedelta(minutes=series.duration_minutes),
        time_zone=series.time_zone,
        capacity=series.capacity,
        **{field: getattr(series, field) for field in PLACE_FIELDS},
    )


def series_materialise(*, series_id: int, now: datetime | None = None) -> int:
    """Create the series' meetings up to the rolling horizon; safe to run any time."""
    now = now or timezone.now()
    horizon = now + HORIZON
    with transaction.atomic():
        series = MeetingSeries.objects.select_for_update().get(pk=series_id)
        if series.ended_at is not None:
            return 0
        if series.materialised_until and series.materialised_until >= horizon:
            return 0
        starts = _occurrences_between(series, series.materialised_until, horizon)
        existing = Meeting.objects.filter(series=series).count()
        Meeting.objects.bulk_create(
            [_meeting_from_series(series, start) for start in starts],
            ignore_conflicts=True,
        )
        series.materialised_until = horizon
        series.save(update_fields=["materialised_until", "updated_at"])
        return Meeting.objects.filter(series=series).count() - existing


def series_due_for_materialising(now: datetime | None = None) -> list[int]:
    horizon = (now or timezone.now()) + HORIZON - timedelta(days=1)
    return list(
        MeetingSeries.objects.filter(ended_at__isnull=True, materialised_until__lt=horizon)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _record_change(meeting: Meeting, kind: str, actor: User | None, details: dict) -> None:
    MeetingChange.objects.create(meeting=meeting, kind=kind, details=details, changed_by=actor)


def _apply(meeting: Meeting, values: dict, actor: User | None) -> bool:
    """Update a meeting; if members must hear of it, bump SEQUENCE and record the change."""
    changed = {}
    for field, value in values.items():
        old = getattr(meeting, field)
        if old != value:
            if field in NOTIFIABLE_FIELDS:
                changed[field] = [_plain(old), _plain(value)]
            setattr(meeting, field, value)
    if changed or values.get("status") == MeetingStatus.CANCELLED:
        meeting.sequence += 1
    meeting.save()
    if changed and meeting.status == MeetingStatus.SCHEDULED:
        _record_change(meeting, MeetingChangeKind.CHANGED, actor, changed)
    return bool(changed)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _cancel(meeting: Meeting, actor: User | None, reason: str) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        return
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancel_reason = reason[:300]
    meeting.sequence += 1
    meeting.save()
    _record_change(meeting, MeetingChangeKind.CANCELLED, actor, {"reason": meeting.cancel_reason})


def _lock_meeting(meeting_id: int) -> Meeting:
    try:
        return Meeting.objects.select_for_update().select_related("group").get(pk=meeting_id)
    except Meeting.DoesNotExist:
        raise MeetingError(_("That meeting does not exist.")) from None


def _lock_managed_meeting(meeting_id: int, actor: User) -> Meeting:
    """The meeting, locked, once the actor is known to manage its group."""
    meeting = _lock_meeting(meeting_id)
    permissions.require(actor, "meeting.manage", meeting)
    return meeting


def meeting_update(
    *,
    meeting_id: int,
    actor: User,
    starts_on: date,
    start_time: time,
    duration_minutes: int,
    title: str,
    capacity: int | None,
    place: dict,
    scope: str = Scope.THIS,
) -> Meeting:
    """Change one meeting, or it and the rest of its series (the past is never touched)."""
    if duration_minutes <= 0:
        raise MeetingError(_("A meeting must end after it starts."))
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        if meeting.ends_at <= timezone.now():
            raise MeetingError(_("Past meetings can't be changed."))
        if meeting.is_cancelled:
            raise MeetingError(_("This meeting is cancelled."))
        zone = ZoneInfo(meeting.time_zone)
        if recurrence.to_utc(datetime.combine(starts_on, start_time), zone) <= timezone.now():
            raise MeetingError(_("A meeting can't be moved into the past."))
        if scope == Scope.THIS or meeting.series_id is None:
            starts_at = recurrence.to_utc(datetime.combine(starts_on, start_time), zone)
            _check_capacity(meeting, capacity)
            _apply(
                meeting,
                {
                    "starts_at": starts_at,
                    "ends_at": starts_at + timedelta(minutes=duration_minutes),
                    "title": title,
                    "capacity": capacity,
                    "is_exception": meeting.series_id is not None,
                    **place,
                },
                actor,
            )
            _promote_waiting(meeting)
            return meeting
        series = MeetingSeries.objects.select_for_update().get(pk=meeting.series_id)
        anchor = meeting if scope == Scope.FOLLOWING else _first_future(series) or meeting
        return _reschedule_series(
            series=series,
            anchor=anchor,
            actor=actor,
            starts_on=starts_on
            if scope == Scope.FOLLOWING
            else _local_date(anchor, meeting, starts_on),
            start_time=start_time,
            duration_minutes=duration_minutes,
            title=title,
            capacity=capacity,
            place=place,
            edited=meeting,
        )


def _local_date(anchor: Meeting, edited: Meeting, chosen: date) -> date:
    """For whole-series edits: move the next meeting by as many days as the edited one."""
    edited_day = edited.starts_at.astimezone(ZoneInfo(edited.time_zone)).date()
    anchor_day = anchor.starts_at.astimezone(ZoneInfo(anchor.time_zone)).date()
    return anchor_day + (chosen - edited_day)


def _first_future(series: MeetingSeries) -> Meeting | None:
    return (
        Meeting.objects.filter(series=series, ends_at__gt=timezone.now())
        .order_by("starts_at")
        .first()
    )


def _reschedule_series(
    *,
    series: MeetingSeries,
    anchor: Meeting,
    actor: User,
    starts_on: date,
    start_time: time,
    duration_minutes: int,
    title: str,
    capacity: int | None,
    place: dict,
    edited: Meeting,
) -> Meeting:
    """Split the series at `anchor`: the old one ends before it, a new one takes over.

    The old series' meetings from the anchor on are paired, in order, with the new
    rule's occurrences (the n-th becomes the n-th, so a move to another weekday keeps
    them) and moved, keeping their RSVPs; any left over are cancelled.
    """
    zone = ZoneInfo(series.time_zone)
    anchor_start = anchor.original_start or anchor.starts_at
    old_rule = series.rrule
    has_earlier = Meeting.objects.filter(series=series, original_start__lt=anchor_start).exists()
    shifted_rule = _rule_for_new_start(old_rule, anchor_start.astimezone(zone).date(), starts_on)
    count = recurrence.describe(old_rule, series.starts_on)["count"]
    if count is not None:
        # "After N meetings" (or a one-off): the new part holds what is left of N.
        earlier = Meeting.objects.filter(series=series, original_start__lt=anchor_start).count()
        shifted_rule += f";COUNT={max(count - earlier, 1)}"
    new_series = MeetingSeries.objects.create(
        group_id=series.group_id,
        title=title,
        rrule=shifted_rule,
        starts_on=starts_on,
        start_time=start_time,
        duration_minutes=duration_minutes,
        time_zone=series.time_zone,
        capacity=capacity,
        split_from=series,
        created_by=actor,
        **place,
    )
    if has_earlier:
        last_local = anchor_start.astimezone(zone).replace(tzinfo=None) - timedelta(seconds=1)
        series.rrule = recurrence.rule_until(old_rule, last_local)
    series.ended_at = timezone.now()
    series.save(update_fields=["rrule", "ended_at", "updated_at"])

    future = list(
        Meeting.objects.select_for_update()
        .filter(series=series, original_start__gte=anchor_start)
        .order_by("original_start")
    )
    horizon = max(timezone.now() + HORIZON, anchor_start + timedelta(days=1))
    # Look a year past the horizon, so that a meeting near it still finds its new date.
    new_starts = iter(_occurrences_between(new_series, None, horizon + timedelta(days=366)))
    result = edited
    for meeting in future:
        start = next(new_starts, None)
        if start is None or meeting.is_cancelled:
            _cancel(meeting, actor, _("The schedule changed."))
            continue
        _check_capacity(meeting, capacity)
        meeting.series = new_series
        meeting.original_start = start
        meeting.is_exception = False
        _apply(
            meeting,
            {
                "starts_at": start,
                "ends_at": start + timedelta(minutes=duration_minutes),
                "title": title,
                "capacity": capacity,
                **place,
            },
            actor,
        )
        _promote_waiting(meeting)
        if meeting.pk == edited.pk:
            result = meeting
    Meeting.objects.bulk_create(
        [_meeting_from_series(new_series, start) for start in new_starts if start < horizon],
        ignore_conflicts=True,
    )
    new_series.materialised_until = horizon
    new_series.save(update_fields=["materialised_until", "updated_at"])
    return result


def _rule_for_new_start(rule: str, old_start: date, new_start: date) -> str:
    """Carry the weekday (or day of month) of the new first date into the rule.

    `old_start` is the anchor's own date: if the new first date is that date, the pattern
    stays as it was (a "last Thursday" stays the last, a "31st" the last day of shorter
    months). COUNT is left out; the caller sets what is left of it.
    """
    moved = new_start != old_start
    parts = []
    for part in rule.split(";"):
        key, _sep, value = part.partition("=")
        if key == "COUNT" or (moved and key == "BYSETPOS"):
            continue
        if moved and key == "BYDAY":
            position = value[:-2]
            code = recurrence.WEEKDAY_CODES[new_start.weekday()]
            if position:
                last = position == "-1" and recurrence.is_last_weekday_of_month(new_start)
                position = "-1" if last else str(recurrence.week_of_month(new_start))
            part = f"BYDAY={position}{code}"
        elif moved and key == "BYMONTHDAY":
            parts.extend(recurrence.month_day_parts(new_start.day))
            continue
        parts.append(part)
    return ";".join(parts)


def meeting_cancel(*, meeting_id: int, actor: User, reason: str = "", scope: str = Scope.THIS):
    """Cancel one meeting, or it and every later one of its series."""
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        if meeting.ends_at <= timezone.now():
            raise MeetingError(_("Past meetings can't be cancelled."))
        if scope == Scope.THIS or meeting.series_id is None:
            if meeting.is_cancelled:
                raise MeetingError(_("This meeting is already cancelled."))
            _cancel(meeting, actor, reason)
            return [meeting]
        series = MeetingSeries.objects.select_for_update().get(pk=meeting.series_id)
        anchor = meeting if scope == Scope.FOLLOWING else _first_future(series) or meeting
        anchor_start = anchor.original_start or anchor.starts_at
        zone = ZoneInfo(series.time_zone)
        if Meeting.objects.filter(series=series, original_start__lt=anchor_start).exists():
            series.rrule = recurrence.rule_until(
                series.rrule,
                anchor_start.astimezone(zone).replace(tzinfo=None) - timedelta(seconds=1),
            )
        series.ended_at = timezone.now()
        series.save(update_fields=["rrule", "ended_at", "updated_at"])
        cancelled = list(
            Meeting.objects.select_for_update().filter(
                series=series, original_start__gte=anchor_start, status=MeetingStatus.SCHEDULED
            )
        )
        for each in cancelled:
            _cancel(each, actor, reason)
        return cancelled


def meeting_reinstate(*, actor: User, meeting_id: int) -> Meeting:
    """Put a cancelled meeting back on, as it was; everyone who had answered is told.

    Their answers were kept when it was cancelled, so those who were going are going
    again (and those waiting still wait). A meeting that has already started stays
    cancelled: nobody could have come.
    """
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        if not meeting.is_cancelled:
            raise MeetingError(_("This meeting is not cancelled."))
        if meeting.starts_at <= timezone.now():
            raise MeetingError(_("This meeting has already started, so it can't be put back."))
        meeting.status = MeetingStatus.SCHEDULED
        meeting.cancel_reason = ""
        meeting.sequence += 1
        meeting.save()
        _record_change(meeting, MeetingChangeKind.CHANGED, actor, {"reinstated": True})
        _promote_waiting(meeting)
        return meeting


# ---------------------------------------------------------------- RSVPs


def _check_capacity(meeting: Meeting, capacity: int | None) -> None:
    if capacity is None:
        return
    confirmed = Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.CONFIRMED).count()
    if capacity < confirmed:
        raise MeetingError(
            ngettext(
                "%(count)s person is already confirmed; the places can't go below that.",
                "%(count)s people are already confirmed; the places can't go below that.",
                confirmed,
            )
            % {"count": confirmed}
        )


def _confirmed_count(meeting: Meeting) -> int:
    return Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.CONFIRMED).count()


def _has_place(meeting: Meeting) -> bool:
    return meeting.capacity is None or _confirmed_count(meeting) < meeting.capacity


def _promote_waiting(meeting: Meeting) -> list[Rsvp]:
    """Give free places to the waitlist, first come first served. Caller holds the lock."""
    promoted = []
    while _has_place(meeting):
        waiting = (
            Rsvp.objects.select_for_update()
            .filter(meeting=meeting, status=RsvpStatus.WAITLISTED)
            .order_by("waitlisted_at", "id")
            .first()
        )
        if waiting is None:
            break
        waiting.status = RsvpStatus.CONFIRMED
        waiting.waitlisted_at = None
        waiting.save(update_fields=["status", "waitlisted_at", "updated_at"])
        promoted.append(waiting)
    for rsvp in promoted:
        notification_enqueue(
            recipient=rsvp.user,
            kind=NotificationKind.WAITLIST_PROMOTED,
            subject_key=f"meeting:{meeting.pk}",
            slot=f"promoted:{rsvp.pk}:{rsvp.updated_at:%Y%m%dT%H%M%S%f}",
        )
    return promoted


def _check_member(meeting: Meeting, user: User) -> None:
    """Only members in good standing answer: active, and agreed to the current code."""
    if Membership.objects.in_good_standing().filter(group_id=meeting.group_id, user=user).exists():
        return
    if Membership.objects.active().filter(group_id=meeting.group_id, user=user).exists():
        raise MeetingError(
            _("The group has a new code of conduct. Please read and accept it first.")
        )
    raise MeetingError(_("Only members of the group can answer."))


def meeting_rsvp(*, meeting_id: int, member: User, going: bool) -> Rsvp:
    """Record a member's answer; when the meeting is full, 'going' joins the waitlist."""
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        if meeting.is_cancelled:
            raise MeetingError(_("This meeting has been cancelled."))
        if meeting.starts_at <= timezone.now():
            raise MeetingError(_("This meeting has already started."))
        _check_member(meeting, member)
        rsvp = Rsvp.objects.filter(meeting=meeting, user=member).first()
        now = timezone.now()
        if going:
            if rsvp is not None and rsvp.response == RsvpResponse.GOING:
                return rsvp
            status = RsvpStatus.CONFIRMED if _has_place(meeting) else RsvpStatus.WAITLISTED
            rsvp = rsvp or Rsvp(meeting=meeting, user=member)
            rsvp.response = RsvpResponse.GOING
            rsvp.status = status
            rsvp.waitlisted_at = now if status == RsvpStatus.WAITLISTED else None
            rsvp.responded_at = now
            rsvp.save()
            return rsvp
        was_confirmed = rsvp is not None and rsvp.status == RsvpStatus.CONFIRMED
        rsvp = rsvp or Rsvp(meeting=meeting, user=member)
        rsvp.response = RsvpResponse.NOT_GOING
        rsvp.status = RsvpStatus.DECLINED
        rsvp.waitlisted_at = None
        rsvp.responded_at = now
        rsvp.save()
        if was_confirmed:
            _promote_waiting(meeting)
        return rsvp


def rsvps_release_on_leaving(*, group_id: int, user_id: int) -> list[Rsvp]:
    """Someone's membership ended: give up their places at the group's future meetings.

    Runs in the transaction that ended the membership (groups' `membership_ended`).
    Each meeting is locked in id order, as every RSVP locks it, and its first waiting
    person is promoted (and told, through the outbox). Past meetings keep their answers
    and attendance, so reports still add up.
    """
    now = timezone.now()
    meeting_ids = list(
        Rsvp.objects.filter(
            user_id=user_id,
            meeting__group_id=group_id,
            meeting__starts_at__gt=now,
            status__in=[RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED],
        )
        .order_by("meeting_id")
        .values_list("meeting_id", flat=True)
    )
    released = []
    for meeting_id in meeting_ids:
        meeting = _lock_meeting(meeting_id)
        rsvp = (
            Rsvp.objects.select_for_update()
            .filter(meeting=meeting, user_id=user_id)
            .exclude(status=RsvpStatus.DECLINED)
            .first()
        )
        if rsvp is None:
            continue
        rsvp.response = RsvpResponse.NOT_GOING
        rsvp.status = RsvpStatus.DECLINED
        rsvp.waitlisted_at = None
        rsvp.responded_at = now
        rsvp.save(
            update_fields=["response", "status", "waitlisted_at", "responded_at", "updated_at"]
        )
        released.append(rsvp)
        if not meeting.is_cancelled:
            _promote_waiting(meeting)
    return released


def meeting_capacity_set(*, meeting_id: int, capacity: int | None, actor: User) -> Meeting:
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        _check_capacity(meeting, capacity)
        meeting.capacity = capacity
        meeting.save(update_fields=["capacity", "updated_at"])
        _promote_waiting(meeting)
        return meeting


# ---------------------------------------------------------------- attendance


def attendance_opens_at(meeting: Meeting) -> datetime:
    """When the register opens: two hours before the meeting starts."""
    return meeting.starts_at - ATTENDANCE_OPENS_BEFORE


def attendance_editable(meeting: Meeting, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    if meeting.attendance_unlocked_until and meeting.attendance_unlocked_until > now:
        return True
    return attendance_opens_at(meeting) <= now <= (meeting.starts_at + ATTENDANCE_EDIT_WINDOW)


def _check_attendance_open(meeting: Meeting) -> None:
    if meeting.is_cancelled:
        raise MeetingError(_("This meeting was cancelled."))
    now = timezone.now()
    if attendance_opens_at(meeting) > now:
        raise MeetingError(_("Attendance opens two hours before the meeting."))
    if not attendance_editable(meeting, now):
        raise MeetingError(
            _("Attendance is locked 14 days after the meeting. A coordinator can unlock it.")
        )


def _audit_marks(meeting: Meeting, actor: User, user_ids) -> None:
    audit_record(
        actor=actor,
        subjects=[user_id for user_id in user_ids if user_id != actor.pk],
        action="register.marked",
        context=f"{meeting.display_title} {meeting.starts_at:%Y-%m-%d %H:%M} UTC",
    )


def attendance_mark(*, meeting_id: int, user_id: int, status: str, actor: User) -> Attendance:
    if status not in AttendanceStatus.values:
        raise MeetingError(_("Choose present, late, excused or absent."))
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        _check_attendance_open(meeting)
        in_group = meeting.group.memberships.filter(user_id=user_id).exclude(
            status__in=[MembershipStatus.PENDING, MembershipStatus.DECLINED]
        )
        if (
            not in_group.exists()
            and not Rsvp.objects.filter(meeting=meeting, user_id=user_id).exists()
        ):
            raise MeetingError(_("That person is not in this group."))
        attendance = Attendance.objects.filter(meeting=meeting, user_id=user_id).first()
        old = attendance.status if attendance else ""
        if attendance is None:
            attendance = Attendance(meeting=meeting, user_id=user_id)
        attendance.status = status
        attendance.marked_by = actor
        attendance.marked_at = timezone.now()
        attendance.save()
        if old != status:
            AttendanceChange.objects.create(
                meeting=meeting,
                user_id=user_id,
                field="status",
                old_value=old,
                new_value=status,
                changed_by=actor,
            )
            _audit_marks(meeting, actor, [user_id])
        return attendance


@dataclass(frozen=True)
class MarkChange:
    """One person's mark changed by a bulk action: `old` is "" where there was none."""

    user_id: int
    old: str
    new: str


def _mark_many(meeting: Meeting, actor: User, wanted: dict[int, str]) -> list[MarkChange]:
    """Set each person's mark ("" removes it), with history and audit, in bulk.

    The caller holds the meeting's lock, as attendance_mark does, so no tap on the same
    register interleaves.
    """
    now = timezone.now()
    existing = {
        row.user_id: row
        for row in Attendance.objects.filter(meeting=meeting, user_id__in=list(wanted))
    }
    changes = []
    to_create, to_update, to_delete = [], [], []
    for user_id, status in wanted.items():
        row = existing.get(user_id)
        old = row.status if row is not None else ""
        if old == status:
            continue
        changes.append(MarkChange(user_id=user_id, old=old, new=status))
        if not status:
            to_delete.append(row.pk)
        elif row is None:
            to_create.append(
                Attendance(
                    meeting=meeting, user_id=user_id, status=status, marked_by=actor, marked_at=now
                )
            )
        else:
            row.status, row.marked_by, row.marked_at = status, actor, now
            to_update.append(row)
    if to_delete:
        Attendance.objects.filter(pk__in=to_delete).delete()
    if to_create:
        Attendance.objects.bulk_create(to_create)
    if to_update:
        Attendance.objects.bulk_update(to_update, ["status", "marked_by", "marked_at"])
    AttendanceChange.objects.bulk_create(
        AttendanceChange(
            meeting=meeting,
            user_id=change.user_id,
            field="status",
            old_value=change.old,
            new_value=change.new,
            changed_by=actor,
            changed_at=now,
        )
        for change in changes
    )
    _audit_marks(meeting, actor, [change.user_id for change in changes])
    return changes


def _unmarked_on_sheet(meeting: Meeting) -> list:
    return [row for row in attendance_sheet(meeting) if not row.attendance_status]


def attendance_mark_going_present(*, actor: User, meeting_id: int) -> list[MarkChange]:
    """Mark present everyone who said they were going (with a place) and has no mark yet.

    People already marked keep their mark (a "late" or "absent" tapped before stays).
    Returns what changed, for an undo (`attendance_restore`).
    """
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        _check_attendance_open(meeting)
        wanted = {
            row.user_id: AttendanceStatus.PRESENT
            for row in _unmarked_on_sheet(meeting)
            if said_going(row)
        }
        return _mark_many(meeting, actor, wanted)


def attendance_mark_rest_absent(*, actor: User, meeting_id: int) -> list[MarkChange]:
    """Mark absent everyone on the register who has no mark yet; returns what changed."""
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        _check_attendance_open(meeting)
        wanted = {row.user_id: AttendanceStatus.ABSENT for row in _unmarked_on_sheet(meeting)}
        return _mark_many(meeting, actor, wanted)


def attendance_restore(
    *, actor: User, meeting_id: int, changes: list[MarkChange]
) -> list[MarkChange]:
    """Undo a bulk action: put back each mark it changed, exactly as it was before.

    A mark changed again since (someone tapped that person) is left as it is now: the
    later tap wins. Returns what was put back.
    """
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        _check_attendance_open(meeting)
        current = dict(
            Attendance.objects.filter(
                meeting=meeting, user_id__in=[change.user_id for change in changes]
            ).values_list("user_id", "status")
        )
        wanted = {
            change.user_id: change.old
            for change in changes
            if current.get(change.user_id, "") == change.new and change.old in _RESTORABLE
        }
        return _mark_many(meeting, actor, wanted)


_RESTORABLE = {"", *AttendanceStatus.values}


def attendance_details_set(*, meeting_id: int, guest_count: int, note: str, actor: User) -> Meeting:
    if guest_count < 0 or guest_count > 1000:
        raise MeetingError(_("Enter a number of guests between 0 and 1000."))
    with transaction.atomic():
        meeting = _lock_managed_meeting(meeting_id, actor)
        _check_attendance_open(meeting)
        for field, value in (("guest_count", guest_count), ("facilitator_note", note[:1000])):
            old = getattr(meeting, field)
            if old != value:
                AttendanceChange.objects.create(
                    meeting=meeting,
                    field=field,
                    old_value=str(old),
                    new_value=str(value),
                    changed_by=actor,
                )
                setattr(meeting, field, value)
        meeting.save(update_fields=["guest_count", "facilitator_note", "updated_at"])
        return meeting


def attendance_unlock(*, meeting_id: int, actor: User, days: int = 7) -> Meeting:
    """Coordinators reopen a locked attendance sheet for a while."""
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        permissions.require(actor, "meeting.attendance_unlock", meeting)
        meeting.attendance_unlocked_until = timezone.now() + timedelta(days=days)
        meeting.save(update_fields=["attendance_unlocked_until", "updated_at"])
        AttendanceChange.objects.create(
            meeting=meeting, field="unlocked", new_value=f"{days} days", changed_by=actor
        )
        return meeting


def attended(status: str) -> bool:
    return status in ATTENDED


# ---------------------------------------------------------------- calendar feeds


@dataclass(frozen=True)
class CalendarAddress:
    """The token of a member's private calendar address, as the settings page shows it.

    `replaced` is true when the address the member had could not be shown (made before
    tokens were hashed, or under another SECRET_KEY) and was replaced by this one: calendars
    subscribed to the old one stop updating until the member subscribes again.
    """

    token: str
    replaced: bool = False


def _new_calendar_token_fields() -> dict:
    nonce = secrets.token_urlsafe(32)
    token_hash = CalendarFeedToken.hash_of(CalendarFeedToken.token_from(nonce))
    return {"nonce": nonce, "token_hash": token_hash, "created_at": timezone.now()}


def calendar_token_regenerate(*, user: User) -> CalendarFeedToken:
    """A new private calendar address; the old one stops working at once."""
    token, _created = CalendarFeedToken.objects.update_or_create(
        user=user, defaults=_new_calendar_token_fields()
    )
    return token


def calendar_token_for(*, user: User) -> CalendarAddress:
    """The member's private calendar address, made on first use; one that can't be shown
    is replaced (once, even when two visits race) and the answer says so."""
    row, _created = CalendarFeedToken.objects.get_or_create(
        user=user, defaults=_new_calendar_token_fields()
    )
    if row.token is not None:
        return CalendarAddress(token=row.token)
    with transaction.atomic():
        row = CalendarFeedToken.objects.select_for_update().filter(user=user).first()
        if row is None or row.token is None:
            row = calendar_token_regenerate(user=user)
    return CalendarAddress(token=row.token, replaced=True)
