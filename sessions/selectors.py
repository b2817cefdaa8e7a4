"""Every non-trivial read of meetings, each planned to a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from config.queries import correlated_count
from groups.models import (
    STAFF_ROLES,
    Membership,
    MembershipStatus,
    SupportGroup,
    VideoLinkPolicy,
    current_conduct_id,
)
from members.models import User
from sessions.models import (
    AddressVisibility,
    Attendance,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)

MY_MEETINGS_HORIZON = timedelta(days=92)
MY_MEETINGS_PAGE_SIZE = 20
VIDEO_LINK_LEAD = timedelta(hours=1)


def _with_counts(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    return meetings.annotate(
        confirmed_count=correlated_count(
            Rsvp.objects.filter(meeting_id=OuterRef("pk"), status=RsvpStatus.CONFIRMED)
        ),
        waitlist_count=correlated_count(
            Rsvp.objects.filter(meeting_id=OuterRef("pk"), status=RsvpStatus.WAITLISTED)
        ),
    )


def can_manage_meeting(user: User, meeting: Meeting, **known) -> bool:
    """The "meeting.manage" rule: whoever manages the meeting's group."""
    from groups.selectors import can_manage_group

    return can_manage_group(user, meeting.group, **known)


def meeting_by_id(pk: int) -> Meeting | None:
    """The meeting with its counts and its group's current code of conduct (one query)."""
    meetings = Meeting.objects.select_related("group").annotate(
        group_conduct_id=current_conduct_id("group_id")
    )
    return _with_counts(meetings.filter(pk=pk)).first()


def next_meeting_start(group_ref="pk"):
    """A subquery for the next scheduled meeting's start of the group at `group_ref`."""
    return Subquery(
        Meeting.objects.filter(
            group_id=OuterRef(group_ref),
            status=MeetingStatus.SCHEDULED,
            starts_at__gte=timezone.now(),
        )
        .order_by("starts_at")
        .values("starts_at")[:1]
    )


def upcoming_for_group(group: SupportGroup, *, limit: int = 5) -> list[Meeting]:
    return list(
        _with_counts(
            Meeting.objects.filter(group=group, ends_at__gt=timezone.now()).order_by("starts_at")
        )[:limit]
    )


def rsvp_of(meeting: Meeting, user: User) -> Rsvp | None:
    if not user.is_authenticated:
        return None
    return Rsvp.objects.filter(meeting=meeting, user=user).first()


def waitlist_position(rsvp: Rsvp | None) -> int | None:
    if rsvp is None or rsvp.status != RsvpStatus.WAITLISTED:
        return None
    return (
        Rsvp.objects.filter(meeting_id=rsvp.meeting_id, status=RsvpStatus.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=rsvp.waitlisted_at)
            | Q(waitlisted_at=rsvp.waitlisted_at, id__lt=rsvp.id)
        )
        .count()
        + 1
    )


def _position_subquery():
    """Place on the waitlist of the outer row's RSVP (1 = next to be promoted)."""
    ahead = (
        Rsvp.objects.filter(meeting_id=OuterRef("meeting_id"), status=RsvpStatus.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=OuterRef("waitlisted_at"))
            | Q(waitlisted_at=OuterRef("waitlisted_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .values("meeting_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + 1


def rsvps_for(meeting: Meeting) -> dict[str, list[Rsvp]]:
    """Who is coming and who waits, by display name, for the group's staff."""
    rsvps = (
        Rsvp.objects.filter(meeting=meeting)
        .exclude(status=RsvpStatus.DECLINED)
        .select_related("user")
        .order_by("waitlisted_at", "user__display_name", "id")
    )
    grouped = {RsvpStatus.CONFIRMED: [], RsvpStatus.WAITLISTED: []}
    for rsvp in rsvps:
        grouped[rsvp.status].append(rsvp)
    return grouped


@dataclass(frozen=True)
class UpcomingMeeting:
    """A meeting on someone's "my meetings" list, with their answer to it."""

    pk: int
    title: str
    group_name: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    format: str
    status: str
    my_status: str | None
    my_waitlist_position: int | None

    @property
    def display_title(self) -> str:
        return self.title or self.group_name

    @property
    def format_label(self) -> str:
        return MeetingFormat(self.format).label

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED

    @cached_property
    def url(self) -> str:
        return reverse("meetings:detail", kwargs={"pk": self.pk})


def my_upcoming_meetings(user: User, *, now: datetime | None = None, page=1) -> Page:
    """Meetings of every group the person belongs to, soonest first, with their answer,
    a page at a time (a count and the page's rows: two queries).

    Read as plain values: someone in three weekly groups has a dozen meetings a month, and
    they are drawn without building a model instance for each.
    """
    now = now or timezone.now()
    my_rsvp = Rsvp.objects.filter(meeting_id=OuterRef("pk"), user=user)
    my_position = (
        Rsvp.objects.filter(meeting_id=OuterRef("pk"), user=user, status=RsvpStatus.WAITLISTED)
        .annotate(position=_position_subquery())
        .values("position")[:1]
    )
    group_ids = Membership.objects.in_good_standing().filter(user=user).values("group_id")
    rows = (
        Meeting.objects.filter(
            group_id__in=group_ids, ends_at__gt=now, starts_at__lt=now + MY_MEETINGS_HORIZON
        )
        .annotate(
            my_status=Subquery(my_rsvp.values("status")[:1]),
            my_waitlist_position=Subquery(my_position, output_field=IntegerField()),
        )
        .order_by("starts_at", "id")
        .values_list(
            "pk",
            "title",
            "group__name",
            "starts_at",
            "ends_at",
            "time_zone",
            "format",
            "status",
            "my_status",
            "my_waitlist_position",
        )
    )
    listed = Paginator(rows, MY_MEETINGS_PAGE_SIZE).get_page(page)
    listed.object_list = [UpcomingMeeting(*row) for row in listed.object_list]
    return listed


@dataclass(frozen=True)
class SheetRow:
    """One member on the attendance sheet, with their answer and their mark (or None)."""

    user_id: int
    display_name: str
    rsvp_response: str | None
    rsvp_status: str | None
    attendance_status: str | None


def attendance_sheet(meeting: Meeting) -> list[SheetRow]:
    """The roster for taking attendance: people who said 'going' first, then the rest.

    Read as plain values (one query): a sheet has a row per member and is drawn on every
    tap, so it skips building a model instance per row.
    """
    rsvp = Rsvp.objects.filter(meeting=meeting, user_id=OuterRef("user_id"))
    attendance = Attendance.objects.filter(meeting=meeting, user_id=OuterRef("user_id"))
    rows = (
        Membership.objects.filter(group_id=meeting.group_id, status=MembershipStatus.ACTIVE)
        .annotate(
            rsvp_response=Subquery(rsvp.values("response")[:1]),
            rsvp_status=Subquery(rsvp.values("status")[:1]),
            attendance_status=Subquery(attendance.values("status")[:1]),
            rsvp_rank=Case(
                When(
                    Q(rsvp_response=RsvpResponse.GOING, rsvp_status=RsvpStatus.CONFIRMED),
                    then=Value(0),
                ),
                When(rsvp_response=RsvpResponse.GOING, then=Value(1)),
                When(rsvp_response__isnull=True, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            ),
        )
        .order_by("rsvp_rank", "user__display_name", "id")
        .values_list(
            "user_id", "user__display_name", "rsvp_response", "rsvp_status", "attendance_status"
        )
    )
    return [SheetRow(*row) for row in rows]


def facilitators_of(group: SupportGroup) -> list[Membership]:
    return list(
        Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("role", "user__display_name")
    )


def video_link_visible(meeting: Meeting, *, is_member: bool, now: datetime | None = None) -> bool:
    """Members see the link always, or from an hour before until the end (group setting)."""
    if not is_member or not meeting.is_online or not meeting.video_url or meeting.is_cancelled:
        return False
    if meeting.group.video_link_policy == VideoLinkPolicy.ALWAYS:
        return True
    now = now or timezone.now()
    return meeting.starts_at - VIDEO_LINK_LEAD <= now <= meeting.ends_at


def address_visible(meeting: Meeting, *, is_member: bool) -> bool:
    return meeting.has_venue and (
        is_member or meeting.address_visibility == AddressVisibility.PUBLIC
    )
