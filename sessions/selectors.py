"""Every non-trivial read of meetings, each planned to a fixed number of queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
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
    ATTENDED,
    AddressVisibility,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingFormat,
    MeetingSeries,
    MeetingStatus,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)

MY_MEETINGS_HORIZON = timedelta(days=92)
RECENT_MEETINGS_LIMIT = 5
REGISTERS_WAITING_WINDOW = timedelta(days=14)
REGISTERS_WAITING_LIMIT = 10
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
    my_response: str | None
    capacity: int | None
    confirmed_count: int
    waitlist_count: int
    video_url: str
    link_policy: str
    runs_group: bool
    read_at: datetime

    @property
    def display_title(self) -> str:
        return self.title or self.group_name

    @property
    def my_rsvp(self) -> "RsvpAnswer | None":
        """The person's answer, shaped as the RSVP controls read it (sessions/_rsvp.html)."""
        if self.my_status is None:
            return None
        return RsvpAnswer(status=self.my_status, response=self.my_response)

    @property
    def join_url(self) -> str:
        """The video link when it is open to this person now, else ""."""
        online = self.format in (MeetingFormat.ONLINE, MeetingFormat.HYBRID)
        if not online or not self.video_url or self.is_cancelled:
            return ""
        is_open = link_open(
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            policy=self.link_policy,
            runs_group=self.runs_group,
            now=self.read_at,
        )
        return self.video_url if is_open else ""

    @property
    def format_label(self) -> str:
        return MeetingFormat(self.format).label

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED

    @cached_property
    def url(self) -> str:
        return reverse("meetings:detail", kwargs={"pk": self.pk})


@dataclass(frozen=True)
class RsvpAnswer:
    status: str
    response: str | None


def my_upcoming_meetings(
    user: User, *, now: datetime | None = None, page=1, staff_links: bool = False
) -> Page:
    """Meetings of every group the person belongs to, soonest first, with their answer,
    the places taken and the video link when it is open, a page at a time (a count and
    the page's rows: two queries).

    Read as plain values: someone in three weekly groups has a dozen meetings a month, and
    they are drawn without building a model instance for each. `staff_links`: the session
    passed the second factor, so the groups this person runs show their link at any time.
    """
    now = now or timezone.now()
    my_rsvp = Rsvp.objects.filter(meeting_id=OuterRef("pk"), user=user)
    runs_group = (
        Exists(
            Membership.objects.filter(
                group_id=OuterRef("group_id"),
                user=user,
                status=MembershipStatus.ACTIVE,
                role__in=STAFF_ROLES,
            )
        )
        if staff_links
        else Value(False)
    )
    my_position = (
        Rsvp.objects.filter(meeting_id=OuterRef("pk"), user=user, status=RsvpStatus.WAITLISTED)
        .annotate(position=_position_subquery())
        .values("position")[:1]
    )
    group_ids = Membership.objects.in_good_standing().filter(user=user).values("group_id")
    meetings = Meeting.objects.filter(
        group_id__in=group_ids, ends_at__gt=now, starts_at__lt=now + MY_MEETINGS_HORIZON
    )
    rows = (
        _with_counts(meetings)
        .annotate(
            my_status=Subquery(my_rsvp.values("status")[:1]),
            my_waitlist_position=Subquery(my_position, output_field=IntegerField()),
            my_response=Subquery(my_rsvp.values("response")[:1]),
            runs_group=runs_group,
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
            "my_response",
            "capacity",
            "confirmed_count",
            "waitlist_count",
            "video_url",
            "group__video_link_policy",
            "runs_group",
        )
    )
    listed = Paginator(rows, MY_MEETINGS_PAGE_SIZE).get_page(page)
    listed.object_list = [UpcomingMeeting(*row, read_at=now) for row in listed.object_list]
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

    The group's members, and anyone who said they were going or was marked but has left
    since (attendance is taken after the meeting; leaving later does not undo coming).
    Read as plain values (one query): a sheet has a row per member and is drawn on every
    tap, so it skips building a model instance per row.
    """
    rsvp = Rsvp.objects.filter(meeting=meeting, user_id=OuterRef("user_id"))
    attendance = Attendance.objects.filter(meeting=meeting, user_id=OuterRef("user_id"))
    rows = (
        Membership.objects.filter(group_id=meeting.group_id)
        .filter(
            Q(status=MembershipStatus.ACTIVE)
            | Exists(attendance)
            | Exists(rsvp.filter(status=RsvpStatus.CONFIRMED))
        )
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


def said_going(row: SheetRow) -> bool:
    """Whether the person on the sheet had a place: 'going', and confirmed."""
    return row.rsvp_response == RsvpResponse.GOING and row.rsvp_status == RsvpStatus.CONFIRMED


# ---------------------------------------------------------------- registers


def _with_register(meetings: QuerySet[Meeting]) -> QuerySet[Meeting]:
    """Each meeting's register, as correlated counts (no GROUP BY, no row per person):

    - `marked_count`: people with a mark; `came_count`: of them, present or late;
    - `unmarked_count`: people who said they were going (confirmed) and have no mark;
    - `expected_count`: both together, the people the register is about.
    """
    marks = Attendance.objects.filter(meeting_id=OuterRef("pk"))
    unmarked = Rsvp.objects.filter(meeting_id=OuterRef("pk"), status=RsvpStatus.CONFIRMED).exclude(
        Exists(
            Attendance.objects.filter(
                meeting_id=OuterRef("meeting_id"), user_id=OuterRef("user_id")
            )
        )
    )
    return meetings.annotate(
        marked_count=correlated_count(marks),
        came_count=correlated_count(marks.filter(status__in=ATTENDED)),
        unmarked_count=correlated_count(unmarked),
    ).annotate(expected_count=F("marked_count") + F("unmarked_count"))


def _register_waiting():
    """Not taken at all, or someone who said they were going still has no mark."""
    return Q(marked_count=0) | Q(unmarked_count__gt=0)


def recent_meetings_of(
    group: SupportGroup,
    *,
    viewer: User | None = None,
    now: datetime | None = None,
    limit: int = RECENT_MEETINGS_LIMIT,
) -> list[Meeting]:
    """The group's meetings that have started, latest first, each with its register
    (see `_with_register`) and, for a viewer, their own mark (`my_attendance`).

    One query however many meetings: the counts are correlated subqueries, read through
    the (group, starts_at) index.
    """
    now = now or timezone.now()
    meetings = _with_register(
        Meeting.objects.filter(group=group, starts_at__lte=now).order_by("-starts_at", "-id")
    )
    if viewer is not None and viewer.is_authenticated:
        mine = Attendance.objects.filter(meeting_id=OuterRef("pk"), user_id=viewer.pk)
        meetings = meetings.annotate(my_attendance=Subquery(mine.values("status")[:1]))
    return list(meetings[:limit])


def registers_waiting_for(
    user: User, *, now: datetime | None = None, limit: int = REGISTERS_WAITING_LIMIT
) -> list[Meeting]:
    """Meetings of the last 14 days, in groups the person facilitates or co-facilitates,
    that have ended and whose register is waiting (`_register_waiting`), latest first.

    One query: the person's staff groups are a subquery, the meetings are read through
    the start-time index and the counts are correlated subqueries.
    """
    if not user.is_authenticated:
        return []
    now = now or timezone.now()
    group_ids = Membership.objects.filter(
        user_id=user.pk, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES
    ).values("group_id")
    meetings = _with_register(
        Meeting.objects.filter(
            group_id__in=group_ids,
            status=MeetingStatus.SCHEDULED,
            starts_at__gte=now - REGISTERS_WAITING_WINDOW,
            ends_at__lte=now,
        ).select_related("group")
    )
    return list(meetings.filter(_register_waiting()).order_by("-starts_at", "-id")[:limit])


def register_is_complete(meeting_id: int) -> bool:
    """Someone is marked and everyone who said they were going has a mark (one query)."""
    return (
        _with_register(Meeting.objects.filter(pk=meeting_id)).exclude(_register_waiting()).exists()
    )


@dataclass(frozen=True)
class RegisterSummary:
    """What a meeting's register says, in numbers (no names)."""

    present: int
    late: int
    excused: int
    absent: int
    guests: int
    unmarked: int

    @property
    def came(self) -> int:
        return self.present + self.late

    @property
    def marked(self) -> int:
        return self.present + self.late + self.excused + self.absent

    @property
    def expected(self) -> int:
        return self.marked + self.unmarked

    @property
    def taken(self) -> bool:
        return self.marked > 0


def register_summary(meeting: Meeting) -> RegisterSummary:
    """The register's counts by mark, the walk-in guests and who is still unmarked."""
    marks = Attendance.objects.filter(meeting_id=OuterRef("pk"))
    counts = (
        _with_register(Meeting.objects.filter(pk=meeting.pk))
        .annotate(
            **{
                status: correlated_count(marks.filter(status=status))
                for status in AttendanceStatus.values
            }
        )
        .values(*AttendanceStatus.values, "guest_count", "unmarked_count")
        .first()
    )
    if counts is None:
        return RegisterSummary(0, 0, 0, 0, 0, 0)
    return RegisterSummary(
        present=counts[AttendanceStatus.PRESENT],
        late=counts[AttendanceStatus.LATE],
        excused=counts[AttendanceStatus.EXCUSED],
        absent=counts[AttendanceStatus.ABSENT],
        guests=counts["guest_count"],
        unmarked=counts["unmarked_count"],
    )


def attendance_of(meeting: Meeting, user: User) -> str | None:
    """The person's own mark at the meeting, or None."""
    if not user.is_authenticated:
        return None
    return (
        Attendance.objects.filter(meeting=meeting, user=user).values_list("status", flat=True)
    ).first()


def facilitators_of(group: SupportGroup) -> list[Membership]:
    return list(
        Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("role", "user__display_name")
    )


def link_open(
    *,
    starts_at: datetime,
    ends_at: datetime,
    policy: str,
    runs_group: bool = False,
    now: datetime | None = None,
) -> bool:
    """Whether a member may follow a meeting's video link now: always (group setting), or
    from an hour before until the end. The group's own facilitators and co-facilitators
    (second factor passed) always may: they open the call and answer members' questions."""
    if runs_group or policy == VideoLinkPolicy.ALWAYS:
        return True
    now = now or timezone.now()
    return starts_at - VIDEO_LINK_LEAD <= now <= ends_at


def video_link_visible(
    meeting: Meeting,
    *,
    is_member: bool,
    runs_group: bool = False,
    now: datetime | None = None,
) -> bool:
    """Members see the link always, or from an hour before until the end (group setting);
    the group's own staff see it whatever the time (`runs_group`)."""
    if not (is_member or runs_group):
        return False
    if not meeting.is_online or not meeting.video_url or meeting.is_cancelled:
        return False
    return link_open(
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        policy=meeting.group.video_link_policy,
        runs_group=runs_group,
        now=now,
    )


def address_visible(meeting: Meeting, *, is_member: bool) -> bool:
    return meeting.has_venue and (
        is_member or meeting.address_visibility == AddressVisibility.PUBLIC
    )


def series_by_id(pk: int) -> MeetingSeries | None:
    """A series with its group (one query)."""
    return MeetingSeries.objects.select_related("group").filter(pk=pk).first()


def series_upcoming_meetings(series: MeetingSeries) -> list[Meeting]:
    """The series' meetings that have not ended, first first, with their group (one query)."""
    return list(
        Meeting.objects.filter(series=series, ends_at__gt=timezone.now())
        .select_related("group")
        .order_by("starts_at")
    )
