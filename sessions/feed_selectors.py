"""The reads behind the calendar and meeting-finder feeds, each a fixed number of queries."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from groups.models import GroupStatus, Membership, SupportGroup, Visibility
from members.models import User
from sessions.models import CalendarFeedToken, Meeting, MeetingSeries, MeetingStatus, Place
from sessions.services import HORIZON

# Calendar feeds show a month of the past (so a meeting just held doesn't vanish) and
# everything materialised ahead, which is the series horizon.
FEED_PAST = timedelta(days=30)
FEED_MAX_EVENTS = 2000


def member_by_feed_token(token: str) -> User | None:
    """The person whose private calendar address carries this token (one query).

    The row is found by the token's hash (the token itself is never stored), then the
    token is checked against the row's nonce, so an address made under an earlier
    SECRET_KEY no longer opens the feed.
    """
    row = (
        CalendarFeedToken.objects.select_related("user")
        .filter(token_hash=CalendarFeedToken.hash_of(token), user__is_active=True)
        .first()
    )
    return row.user if row is not None and row.opens_with(token) else None


def _feed_window(meetings, now: datetime | None):
    now = now or timezone.now()
    return meetings.filter(starts_at__gte=now - FEED_PAST, starts_at__lt=now + HORIZON)


def member_feed_meetings(user: User, *, now: datetime | None = None) -> list[Meeting]:
    """Meetings of every group the person is an active member of, cancelled ones included."""
    group_ids = Membership.objects.in_good_standing().filter(user=user).values("group_id")
    meetings = Meeting.objects.filter(group_id__in=group_ids).select_related("group")
    return list(_feed_window(meetings, now).order_by("starts_at", "id")[:FEED_MAX_EVENTS])


def public_feed_group(slug: str) -> SupportGroup | None:
    """A group whose calendar anyone may read: listed and not closed."""
    return (
        SupportGroup.objects.filter(slug=slug, visibility=Visibility.LISTED)
        .exclude(status=GroupStatus.CLOSED)
        .first()
    )


def group_feed_meetings(group: SupportGroup, *, now: datetime | None = None) -> list[Meeting]:
    meetings = Meeting.objects.filter(group=group).select_related("group")
    return list(_feed_window(meetings, now).order_by("starts_at", "id")[:FEED_MAX_EVENTS])


@dataclass(frozen=True)
class GuideRow:
    """One listing of the meeting-finder feed: a regular series, or a one-off meeting.

    `place` is where the listing says it meets (the series, or the meeting itself for a
    one-off); `next_start` / `next_end` are the next scheduled meeting's UTC instants.
    """

    key: str
    group: SupportGroup
    title: str
    place: Place
    rule: str | None
    starts_on: date | None
    start_time: time
    duration_minutes: int
    time_zone: str
    next_start: datetime
    next_end: datetime
    updated_at: datetime


def _listed_active(queryset, prefix: str = "group__"):
    return queryset.filter(
        **{f"{prefix}visibility": Visibility.LISTED, f"{prefix}status": GroupStatus.ACTIVE}
    )


def meeting_guide_rows(*, now: datetime | None = None) -> list[GuideRow]:
    """Every upcoming series (and lone meeting) of listed, active groups: three queries."""
    now = now or timezone.now()
    upcoming = Meeting.objects.filter(status=MeetingStatus.SCHEDULED, starts_at__gte=now)
    # Prefer the next meeting that follows the rule over one moved on its own.
    next_of_series = upcoming.filter(series_id=OuterRef("pk")).order_by(
        "is_exception", "starts_at", "id"
    )
    series_list = list(
        _listed_active(MeetingSeries.objects.all())
        .annotate(next_meeting_id=Subquery(next_of_series.values("pk")[:1]))
        .filter(next_meeting_id__isnull=False)
        .select_related("group")
        .order_by("group__name", "start_time", "id")
    )
    next_meetings = Meeting.objects.in_bulk([series.next_meeting_id for series in series_list])
    rows = []
    for series in series_list:
        meeting = next_meetings[series.next_meeting_id]
        one_off = series.rrule.startswith("FREQ=DAILY") and "COUNT=1" in series.rrule.split(";")
        rows.append(
            GuideRow(
                key=f"{series.group.slug[:48]}-{series.pk}",
                group=series.group,
                title=(meeting.title if one_off else series.title) or series.group.name,
                place=meeting if one_off else series,
                rule=None if one_off else series.rrule,
                starts_on=series.starts_on,
                start_time=series.start_time,
                duration_minutes=series.duration_minutes,
                time_zone=series.time_zone,
                next_start=meeting.starts_at,
                next_end=meeting.ends_at,
                updated_at=max(series.updated_at, meeting.updated_at, series.group.updated_at),
            )
        )
    lone = _listed_active(upcoming.filter(series__isnull=True)).select_related("group")
    for meeting in lone.order_by("starts_at", "id"):
        rows.append(
            GuideRow(
                key=f"{meeting.group.slug[:48]}-m{meeting.pk}",
                group=meeting.group,
                title=meeting.display_title,
                place=meeting,
                rule=None,
                starts_on=None,
                start_time=meeting.starts_at.time(),
                duration_minutes=int((meeting.ends_at - meeting.starts_at).total_seconds() // 60),
                time_zone=meeting.time_zone,
                next_start=meeting.starts_at,
                next_end=meeting.ends_at,
                updated_at=max(meeting.updated_at, meeting.group.updated_at),
            )
        )
    return rows
