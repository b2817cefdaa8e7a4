"""Meeting notifications: what is due (scanners) and what to say (builders).

The reminder scan is one INSERT ... SELECT ... ON CONFLICT DO NOTHING on PostgreSQL:
it reads only meetings in the next two days through the start-time index, computes
each member's due instant in their own time zone inside the database, and creates
each reminder once however often it runs. Its query count does not depend on the
number of members.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from groups.models import STAFF_ROLES, Membership, MembershipStatus
from members import notifications
from members.models import Notification, NotificationKind, NotificationPreferences, User
from sessions import feeds
from sessions.models import Meeting, MeetingChange, MeetingStatus, Rsvp, RsvpStatus

DAY_BEFORE_GRACE = timedelta(hours=6)
HOUR_BEFORE_LEAD = timedelta(hours=1)
HOUR_BEFORE_GRACE = timedelta(minutes=30)
LOOKAHEAD = timedelta(hours=49)
DIGEST_HOUR = 18
DIGEST_GRACE = timedelta(hours=4)
ATTENDANCE_DUE_WITHIN = timedelta(days=2)
ATTENDANCE_DUE_SLOT = "ended"
# The longest a meeting lasts: the scan reads meetings by start through its index.
LONGEST_MEETING = timedelta(hours=24)


def reminder_slot(kind: str, starts_at: datetime) -> str:
    return f"{kind}:{starts_at.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%MZ}"


REMINDER_SQL = """
INSERT INTO members_notification
    (recipient_id, to_email, kind, subject_key, slot, due_at, state, attempts, skip_reason,
     last_error, created_at)
SELECT due.user_id, '', %(kind)s, 'meeting:' || due.meeting_id,
       due.lead || ':' || to_char(due.starts_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MI"Z"'),
       due.due_at, 'pending', 0, '', '', %(now)s
FROM (
    SELECT r.user_id, m.id AS meeting_id, m.starts_at, 'day-before' AS lead,
           ((((m.starts_at AT TIME ZONE u.time_zone)::date - 1)
             + make_time(COALESCE(p.reminder_day_before_hour, %(default_hour)s), 0, 0))
            AT TIME ZONE u.time_zone) AS due_at,
           COALESCE(p.reminder_day_before, TRUE) AS wanted
    FROM meetings_meeting m
    JOIN meetings_rsvp r ON r.meeting_id = m.id AND r.status = 'confirmed'
    JOIN members_user u ON u.id = r.user_id AND u.is_active
    LEFT JOIN members_notificationpreferences p ON p.user_id = u.id
    WHERE m.starts_at > %(now)s AND m.starts_at <= %(now)s + %(lookahead)s
      AND m.status = 'scheduled'
    UNION ALL
    SELECT r.user_id, m.id, m.starts_at, 'hour-before',
           m.starts_at - %(hour_lead)s,
           COALESCE(p.reminder_hour_before, FALSE)
    FROM meetings_meeting m
    JOIN meetings_rsvp r ON r.meeting_id = m.id AND r.status = 'confirmed'
    JOIN members_user u ON u.id = r.user_id AND u.is_active
    LEFT JOIN members_notificationpreferences p ON p.user_id = u.id
    WHERE m.starts_at > %(now)s AND m.starts_at <= %(now)s + %(hour_lead)s
      AND m.status = 'scheduled'
) AS due
WHERE due.wanted
  AND due.due_at <= %(now)s
  AND due.due_at > %(now)s - CASE WHEN due.lead = 'day-before'
                                  THEN %(day_grace)s ELSE %(hour_grace)s END
ON CONFLICT (recipient_id, kind, subject_key, slot) DO NOTHING
"""


def scan_reminders(now: datetime) -> int:
    """Create the meeting reminders due at `now` (each once, whatever the re-runs)."""
    with connection.cursor() as cursor:
        cursor.execute(
            REMINDER_SQL,
            {
                "kind": NotificationKind.MEETING_REMINDER,
                "now": now,
                "lookahead": LOOKAHEAD,
                "hour_lead": HOUR_BEFORE_LEAD,
                "day_grace": DAY_BEFORE_GRACE,
                "hour_grace": HOUR_BEFORE_GRACE,
                "default_hour": NotificationPreferences._meta.get_field(
                    "reminder_day_before_hour"
                ).default,
            },
        )
        return cursor.rowcount


def _due_reminders(now: datetime):
    """The same rule as REMINDER_SQL, in Python: for the embedded SQLite mode and tests."""
    rsvps = (
        Rsvp.objects.filter(
            status=RsvpStatus.CONFIRMED,
            user__is_active=True,
            meeting__status=MeetingStatus.SCHEDULED,
            meeting__starts_at__gt=now,
            meeting__starts_at__lte=now + LOOKAHEAD,
        )
        .select_related("meeting", "user", "user__notification_preferences")
        .order_by("id")
    )
    for rsvp in rsvps:
        prefs = getattr(rsvp.user, "notification_preferences", None) or NotificationPreferences()
        zone = ZoneInfo(rsvp.user.time_zone)
        starts_at = rsvp.meeting.starts_at
        if prefs.reminder_day_before:
            local_day = starts_at.astimezone(zone).date() - timedelta(days=1)
            due = datetime(
                local_day.year,
                local_day.month,
                local_day.day,
                prefs.reminder_day_before_hour,
                tzinfo=zone,
            )
            if now - DAY_BEFORE_GRACE < due <= now:
                yield rsvp, "day-before", due
        if prefs.reminder_hour_before and starts_at <= now + HOUR_BEFORE_LEAD:
            due = starts_at - HOUR_BEFORE_LEAD
            if now - HOUR_BEFORE_GRACE < due <= now:
                yield rsvp, "hour-before", due


def scan_changes(now: datetime) -> int:
    """Turn each recorded change or cancellation into a message for everyone going."""
    changes = list(
        MeetingChange.objects.filter(notified_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("id", "meeting_id")[:500]
    )
    if not changes:
        return 0
    rows = []
    going = Rsvp.objects.filter(
        meeting_id__in={meeting_id for _id, meeting_id in changes},
        status__in=[RsvpStatus.CONFIRMED, RsvpStatus.WAITLISTED],
    ).values_list("meeting_id", "user_id")
    by_meeting: dict[int, list[int]] = {}
    for meeting_id, user_id in going:
        by_meeting.setdefault(meeting_id, []).append(user_id)
    for change_id, meeting_id in changes:
        rows.extend(
            Notification(
                recipient_id=user_id,
                kind=NotificationKind.MEETING_CHANGED,
                subject_key=f"meeting:{meeting_id}",
                slot=f"change:{change_id}",
                due_at=now,
            )
            for user_id in by_meeting.get(meeting_id, [])
        )
    created = notifications.insert_new(rows)
    MeetingChange.objects.filter(pk__in=[change_id for change_id, _m in changes]).update(
        notified_at=now
    )
    return created


def scan_digests(now: datetime) -> int:
    """Facilitators get tomorrow's meetings at 18:00 their time, when there are any."""
    staff = (
        Membership.objects.filter(
            status=MembershipStatus.ACTIVE,
            role__in=STAFF_ROLES,
            user__is_active=True,
            group__meetings__status=MeetingStatus.SCHEDULED,
            group__meetings__starts_at__gt=now,
            group__meetings__starts_at__lte=now + timedelta(hours=48),
        )
        .values_list("user_id", "user__time_zone")
        .distinct()
    )
    rows = []
    for user_id, time_zone in staff:
        zone = ZoneInfo(time_zone)
        local_now = now.astimezone(zone)
        due = local_now.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
        if due <= now < due + DIGEST_GRACE:
            rows.append(
                Notification(
                    recipient_id=user_id,
                    kind=NotificationKind.FACILITATOR_DIGEST,
                    subject_key=f"digest:{user_id}",
                    slot=f"{(local_now + timedelta(days=1)).date():%Y-%m-%d}",
                    due_at=due,
                )
            )
    return notifications.insert_new(rows)


def scan_attendance_due(now: datetime) -> int:
    """After a meeting ends, each of its group's facilitators is asked to take attendance.

    One row per facilitator and meeting (conflict-safe, however often it runs), for
    meetings that ended in the last two days and are not cancelled; one query to find
    them. Whether the register is still waiting is decided at send time.
    """
    staff = Membership.objects.filter(
        status=MembershipStatus.ACTIVE,
        role__in=STAFF_ROLES,
        user__is_active=True,
        group__meetings__status=MeetingStatus.SCHEDULED,
        group__meetings__starts_at__gt=now - ATTENDANCE_DUE_WITHIN - LONGEST_MEETING,
        group__meetings__starts_at__lte=now,
        group__meetings__ends_at__gt=now - ATTENDANCE_DUE_WITHIN,
        group__meetings__ends_at__lte=now,
    ).values_list("user_id", "group__meetings__id", "group__meetings__ends_at")
    rows = [
        Notification(
            recipient_id=user_id,
            kind=NotificationKind.ATTENDANCE_DUE,
            subject_key=f"meeting:{meeting_id}",
            slot=ATTENDANCE_DUE_SLOT,
            due_at=ends_at,
        )
        for user_id, meeting_id, ends_at in staff
    ]
    return notifications.insert_new(rows)


def _meeting_from(notification: Notification) -> Meeting | None:
    _prefix, _sep, meeting_id = notification.subject_key.partition(":")
    return Meeting.objects.select_related("group").filter(pk=int(meeting_id)).first()


def _is_member(meeting: Meeting, user: User) -> bool:
    return (
        Membership.objects.in_good_standing().filter(group_id=meeting.group_id, user=user).exists()
    )


def build_reminder(notification: Notification):
    meeting = _meeting_from(notification)
    user = notification.recipient
    if meeting is None or meeting.is_cancelled:
        return notifications.Skip("meeting-cancelled")
    lead, _sep, _start = notification.slot.partition(":")
    if notification.slot != reminder_slot(lead, meeting.starts_at):
        return notifications.Skip("meeting-moved")
    if meeting.starts_at <= timezone.now():
        return notifications.Skip("meeting-started")
    if not _is_member(meeting, user):
        return notifications.Skip("not-a-member")
    if not Rsvp.objects.filter(meeting=meeting, user=user, status=RsvpStatus.CONFIRMED).exists():
        return notifications.Skip("not-going")
    prefs = notifications.preferences_for(user)
    if (lead == "day-before" and not prefs.reminder_day_before) or (
        lead == "hour-before" and not prefs.reminder_hour_before
    ):
        return notifications.Skip("opted-out")
    attachments = []
    first = not Notification.objects.filter(
        recipient=user,
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=notification.subject_key,
        state="sent",
    ).exists()
    if prefs.attach_calendar and first:
        body = feeds.calendar_ics(
            [meeting],
            name=meeting.display_title,
            calendar_key=f"meeting/{meeting.uid}",
            base_url=notifications.site_root(),
            for_members=True,
        )
        attachments.append(("meeting.ics", body, "text/calendar"))
    # The link goes in only when it is open as the message leaves (an hour before, or
    # always by group setting): read now, at send time, like everything above.
    from sessions.selectors import video_link_visible

    join_url = meeting.video_url if video_link_visible(meeting, is_member=True) else ""
    return notifications.Message(
        template="notifications/meeting_reminder",
        context=_meeting_context(meeting, user) | {"lead": lead, "join_url": join_url},
        attachments=attachments,
    )


def _meeting_context(meeting: Meeting, user: User) -> dict:
    return {
        "meeting": meeting,
        "group": meeting.group,
        "meeting_url": notifications.site_root() + meeting.get_absolute_url(),
    }


def build_change(notification: Notification):
    meeting = _meeting_from(notification)
    user = notification.recipient
    if meeting is None:
        return notifications.Skip("meeting-deleted")
    if not _is_member(meeting, user):
        return notifications.Skip("not-a-member")
    _prefix, _sep, change_id = notification.slot.partition(":")
    change = MeetingChange.objects.filter(pk=int(change_id)).first()
    if change is None:
        return notifications.Skip("change-deleted")
    if meeting.is_cancelled and change.kind != "cancelled":
        return notifications.Skip("meeting-cancelled-later")
    if change.kind == "cancelled" and not meeting.is_cancelled:
        return notifications.Skip("meeting-reinstated")
    return notifications.Message(
        template="notifications/meeting_changed",
        context=_meeting_context(meeting, user) | {"change": change},
    )


def build_meeting_promotion(notification: Notification):
    meeting = _meeting_from(notification)
    user = notification.recipient
    if meeting is None or meeting.is_cancelled:
        return notifications.Skip("meeting-cancelled")
    if meeting.starts_at <= timezone.now():
        return notifications.Skip("meeting-started")
    if not Rsvp.objects.filter(meeting=meeting, user=user, status=RsvpStatus.CONFIRMED).exists():
        return notifications.Skip("not-going")
    return notifications.Message(
        template="notifications/meeting_promoted", context=_meeting_context(meeting, user)
    )


def build_digest(notification: Notification):
    user = notification.recipient
    zone = ZoneInfo(user.time_zone)
    day = datetime.strptime(notification.slot, "%Y-%m-%d").date()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    group_ids = Membership.objects.filter(
        user=user, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES
    ).values("group_id")
    from sessions.selectors import _with_counts

    meetings = list(
        _with_counts(
            Meeting.objects.filter(
                group_id__in=group_ids,
                status=MeetingStatus.SCHEDULED,
                starts_at__gte=start,
                starts_at__lt=start + timedelta(days=1),
            ).select_related("group")
        ).order_by("starts_at")
    )
    if not meetings:
        return notifications.Skip("no-meetings")
    return notifications.Message(
        template="notifications/facilitator_digest",
        context={
            "meetings": meetings,
            "day": day,
            "site_root": notifications.site_root(),
        },
    )


def build_attendance_due(notification: Notification):
    """Re-read at send time: nothing goes out for a register that is complete, a meeting
    cancelled since, a register locked, or someone who no longer facilitates the group."""
    from sessions import selectors, services

    meeting = _meeting_from(notification)
    user = notification.recipient
    if meeting is None or meeting.is_cancelled:
        return notifications.Skip("meeting-cancelled")
    if not Membership.objects.filter(
        group_id=meeting.group_id, user=user, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES
    ).exists():
        return notifications.Skip("not-staff")
    if not services.attendance_editable(meeting):
        return notifications.Skip("register-locked")
    summary = selectors.register_summary(meeting)
    if summary.taken and not summary.unmarked:
        return notifications.Skip("register-complete")
    return notifications.Message(
        template="notifications/attendance_due",
        context=_meeting_context(meeting, user)
        | {
            "summary": summary,
            "attendance_url": notifications.site_root()
            + reverse("meetings:attendance", args=[meeting.pk]),
        },
    )


def build_promotion_or_group(notification: Notification):
    """Waitlist promotions come from meetings ('meeting:') and from groups ('membership:').

    A group promotion is written by groups (groups.notifications.build_group_promotion),
    which may not know meetings (layers point down). Sessions owns the kind's builder
    already, to tell the two subjects apart, so it adds what only it knows to the group's
    message: the group's next meeting and the page to answer it on. Wrapping the builder
    here keeps groups ignorant of meetings and needs no second registry in the outbox.
    """
    if notification.subject_key.startswith("meeting:"):
        return build_meeting_promotion(notification)
    from groups.notifications import build_group_promotion

    message = build_group_promotion(notification)
    if isinstance(message, notifications.Message):
        message.context |= _next_meeting_context(message.context["group"])
    return message


def _next_meeting_context(group) -> dict:
    """The group's next meeting (not cancelled, not started) and its RSVP link, if any."""
    meeting = (
        Meeting.objects.select_related("group")
        .filter(group=group, status=MeetingStatus.SCHEDULED, starts_at__gt=timezone.now())
        .order_by("starts_at", "id")
        .first()
    )
    if meeting is None:
        return {"next_meeting": None}
    return {
        "next_meeting": meeting,
        "next_meeting_url": notifications.site_root() + meeting.get_absolute_url() + "#rsvp-title",
    }


def register() -> None:
    notifications.register(NotificationKind.MEETING_REMINDER, build_reminder)
    notifications.register(NotificationKind.MEETING_CHANGED, build_change)
    notifications.register(NotificationKind.WAITLIST_PROMOTED, build_promotion_or_group)
    notifications.register(NotificationKind.FACILITATOR_DIGEST, build_digest)
    notifications.register_scanner("reminders", scan_reminders)
    notifications.register_scanner("changes", scan_changes)
    notifications.register_scanner("digests", scan_digests)
    notifications.register(NotificationKind.ATTENDANCE_DUE, build_attendance_due)
    notifications.register_scanner("attendance-due", scan_attendance_due)
