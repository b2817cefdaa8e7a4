"""Report selectors: every figure is counted by PostgreSQL, in a fixed number of queries.

The attendance and retention reports are each a handful of SQL statements (CTEs, FILTER
clauses, GROUP BY GROUPING SETS, percentile_cont) whose cost depends on the size of the
data only inside the database: Python receives one row per group, per week or month and
the totals, never a row per attendance. The programme overview uses the ORM (annotations,
Exists and window functions).

Definitions (the pages say the same in words, under "How these figures are counted"):

* A meeting is *in the period* when its start, on the wall clock of the meeting's own
  time zone, falls on a day of the period; only meetings that have started count.
  *Held* meetings are scheduled ones, *cancelled* ones are counted apart.
* A held meeting *has a register* when at least one member was marked (any status).
* *Attendances*: members marked present or late at held meetings. Walk-in guests are
  counted apart (the meeting's guest count).
* *Average* and *median* attendance: members present or late per held meeting with a
  register (guests not included).
* *No-show*: a member whose RSVP said "going" with a confirmed place, at a held meeting
  with a register, who was not marked present or late (marked absent, excused, or not
  marked at all). The no-show rate is no-shows / confirmed "going" RSVPs.
* *New* attendees came for the first time in the period (to that group, in the per-group
  rows; to any of the report's groups, in the totals); *returning* ones had come before.
* *Retention*: cohorts are memberships (people in the member or peer-moderator role) by
  the month, in the group's time zone, of `joined_at`. Someone is *still attending at N
  weeks* when they were marked present or late at a meeting of that group which started
  at least N-2 and less than N+2 weeks after they joined. A membership is *measured* at N
  weeks only once that window has ended.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import (
    Count,
    Exists,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce

from groups.models import (
    STAFF_ROLES,
    GroupStatus,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
)
from members.models import User
from sessions.models import ATTENDED, Meeting, MeetingStatus, RsvpResponse, RsvpStatus
from sessions.selectors import next_meeting_start

RETENTION_MARKS = (4, 12, 26)  # weeks after joining
RETENTION_HALF_WINDOW_WEEKS = 2  # the window runs from N-2 to N+2 weeks
COHORT_ROLES = (Role.MEMBER, Role.PEER_MODERATOR)
OVERDUE_REQUEST_AGE = timedelta(days=7)
UNSTAFFED_HORIZON = timedelta(days=7)
LOAD_WINDOW = timedelta(days=30)


# --- Who sees what ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The groups a person may see reports of: all (coordinators) or those they facilitate."""

    user_id: int
    everything: bool

    def groups(self) -> QuerySet[SupportGroup]:
        if self.everything:
            return SupportGroup.objects.all()
        return SupportGroup.objects.filter(
            memberships__user_id=self.user_id,
            memberships__status=MembershipStatus.ACTIVE,
            memberships__role__in=STAFF_ROLES,
        )


def report_scope(user: User) -> Scope | None:
    """Coordinators see every group; facilitators and co-facilitators their own; others none."""
    if not user.is_authenticated:
        return None
    if user.is_coordinator:
        return Scope(user_id=user.pk, everything=True)
    if is_facilitator(user):
        return Scope(user_id=user.pk, everything=False)
    return None


def is_facilitator(user: User) -> bool:
    return Membership.objects.filter(
        user=user, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES
    ).exists()


@dataclass(frozen=True)
class GroupChoice:
    id: int
    name: str
    city: str
    region: str
    country: str


@dataclass(frozen=True)
class PersonChoice:
    id: int
    display_name: str


def groups_in_scope(scope: Scope) -> list[GroupChoice]:
    """The groups the filter form offers (one query)."""
    rows = (
        scope.groups()
        .order_by("name", "id")
        .values_list("id", "name", "city", "region", "country")
        .distinct()
    )
    return [GroupChoice(*row) for row in rows]


def facilitators_in_scope(scope: Scope) -> list[PersonChoice]:
    """Facilitators and co-facilitators of the groups in scope (one query)."""
    rows = (
        User.objects.filter(
            memberships__group__in=scope.groups(),
            memberships__status=MembershipStatus.ACTIVE,
            memberships__role__in=STAFF_ROLES,
        )
        .order_by("display_name", "id")
        .values_list("id", "display_name")
        .distinct()
    )
    return [PersonChoice(*row) for row in rows]


# --- Filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """UTC instants certainly outside the period in every time zone (UTC-12 to UTC+14),
        so that PostgreSQL can use the index on starts_at before the exact local-day test."""
        lower = datetime.combine(self.start - timedelta(days=1), time.min, tzinfo=UTC)
        upper = datetime.combine(self.end + timedelta(days=2), time.min, tzinfo=UTC)
        return lower, upper


@dataclass(frozen=True)
class GroupFilters:
    """Which groups a report covers, within the viewer's scope; empty means all of them."""

    group_id: int | None = None
    facilitator_id: int | None = None
    topic: str = ""
    format: str = ""
    area: str = ""  # "city:Milano", "region:Lombardia" or "country:IT"


def filtered_group_ids(scope: Scope, filters: GroupFilters) -> list[int] | None:
    """The ids of the groups the report covers (one query), or None for every group of the
    programme (a coordinator without filters: no query, and no list for the database)."""
    if scope.everything and filters == GroupFilters():
        return None
    groups = scope.groups()
    if filters.group_id is not None:
        groups = groups.filter(pk=filters.group_id)
    if filters.facilitator_id is not None:
        groups = groups.filter(
            Exists(
                Membership.objects.filter(
                    group_id=OuterRef("pk"),
                    user_id=filters.facilitator_id,
                    status=MembershipStatus.ACTIVE,
                    role__in=STAFF_ROLES,
                )
            )
        )
    if filters.topic:
        groups = groups.filter(topic=filters.topic)
    if filters.format:
        groups = groups.filter(format=filters.format)
    if filters.area:
        kind, _, value = filters.area.partition(":")
        if kind in ("city", "region"):
            groups = groups.filter(**{f"{kind}__iexact": value})
        else:
            groups = groups.filter(country__iexact=value)
    return list(groups.order_by().values_list("id", flat=True).distinct())


# --- Attendance ------------------------------------------------------------------------

_WITH_MEETINGS = """
    WITH meeting AS (
        SELECT m.id, m.group_id, g.name AS group_name, m.status, m.guest_count, m.starts_at,
            m.time_zone, m.title,
            date_trunc(%(unit)s, timezone(m.time_zone, m.starts_at))::date AS bucket
        FROM meetings_meeting AS m
        JOIN groups_supportgroup AS g ON g.id = m.group_id
        WHERE (%(every_group)s OR m.group_id = ANY(%(groups)s))
            AND m.starts_at >= %(lower)s AND m.starts_at < %(upper)s
            AND m.starts_at < %(now)s
            AND timezone(m.time_zone, m.starts_at)::date BETWEEN %(start)s AND %(end)s
    ),
    person AS (
        -- Everyone marked at, or confirmed as going to, each meeting: one row a person.
        -- (Joined to meetings on the indexed UTC range, which the planner can estimate;
        -- the meetings outside the period's local days fall away in `fact`.)
        SELECT coalesce(a.meeting_id, r.meeting_id) AS meeting_id, a.status AS mark,
            r.meeting_id IS NOT NULL AS going
        FROM (
            SELECT a.meeting_id, a.user_id, a.status FROM meetings_attendance AS a
            JOIN meetings_meeting AS m ON m.id = a.meeting_id
            WHERE (%(every_group)s OR m.group_id = ANY(%(groups)s))
                AND m.starts_at >= %(lower)s AND m.starts_at < %(upper)s
        ) AS a
        FULL JOIN (
            SELECT r.meeting_id, r.user_id FROM meetings_rsvp AS r
            JOIN meetings_meeting AS m ON m.id = r.meeting_id
            WHERE (%(every_group)s OR m.group_id = ANY(%(groups)s))
                AND m.starts_at >= %(lower)s AND m.starts_at < %(upper)s
                AND r.response = %(going)s AND r.status = %(confirmed)s
        ) AS r ON r.meeting_id = a.meeting_id AND r.user_id = a.user_id
    ),
    per_meeting AS (
        SELECT meeting_id, count(mark) AS marks,
            count(*) FILTER (WHERE mark = ANY(%(attended)s)) AS attended,
            count(*) FILTER (WHERE going) AS going,
            count(*) FILTER (WHERE going AND (mark IS NULL OR mark <> ALL(%(attended)s)))
                AS no_shows
        FROM person
        GROUP BY meeting_id
    ),
    fact AS (
        SELECT meeting.*,
            meeting.status = %(scheduled)s AS held,
            meeting.status = %(scheduled)s AND coalesce(per_meeting.marks, 0) > 0 AS registered,
            coalesce(per_meeting.attended, 0) AS attended,
            coalesce(per_meeting.going, 0) AS going,
            coalesce(per_meeting.no_shows, 0) AS no_shows
        FROM meeting
        LEFT JOIN per_meeting ON per_meeting.meeting_id = meeting.id
    )
"""

_SELECT_FIGURES = """
    SELECT GROUPING(group_id, group_name) = 0 AS by_group, GROUPING(bucket) = 0 AS by_bucket,
        group_id, group_name, bucket,
        count(*) FILTER (WHERE held) AS held,
        count(*) FILTER (WHERE NOT held) AS cancelled,
        count(*) FILTER (WHERE registered) AS registered,
        coalesce(sum(attended) FILTER (WHERE held), 0)::bigint AS attendances,
        coalesce(sum(guest_count) FILTER (WHERE held), 0)::bigint AS guests,
        coalesce(sum(going) FILTER (WHERE registered), 0)::bigint AS going,
        coalesce(sum(no_shows) FILTER (WHERE registered), 0)::bigint AS no_shows,
        round(100.0 * sum(no_shows) FILTER (WHERE registered)
            / nullif(sum(going) FILTER (WHERE registered), 0)) AS no_show_rate,
        round(avg(attended) FILTER (WHERE registered), 1) AS average,
        round((percentile_cont(0.5) WITHIN GROUP (ORDER BY attended)
            FILTER (WHERE registered))::numeric, 1) AS median
    FROM fact
    GROUP BY GROUPING SETS ((group_id, group_name), (bucket), ())
    ORDER BY by_group, group_name, group_id, bucket
"""
_SELECT_MEETINGS = """
    SELECT id, group_id, starts_at, time_zone, title, group_name, held, registered,
        attended, guest_count, going, no_shows
    FROM fact
    ORDER BY starts_at, id
"""
# Joined from constant strings only: every value is a query parameter.
_ATTENDANCE_FIGURES = _WITH_MEETINGS + _SELECT_FIGURES
_MEETING_ROWS = _WITH_MEETINGS + _SELECT_MEETINGS

# Every attendance of the report's groups up to the end of the period, reduced to one row
# per person and group (and per person overall) with the first day they came; then counted.
_PEOPLE = """
    WITH attended AS (
        SELECT m.group_id, a.user_id, timezone(m.time_zone, m.starts_at)::date AS day
        FROM meetings_attendance AS a
        JOIN meetings_meeting AS m ON m.id = a.meeting_id
        WHERE (%(every_group)s OR m.group_id = ANY(%(groups)s)) AND m.status = %(scheduled)s
            AND a.status = ANY(%(attended)s)
            AND m.starts_at < %(upper)s AND m.starts_at < %(now)s
    ),
    person AS (
        SELECT GROUPING(group_id) = 0 AS by_group, group_id, user_id, min(day) AS first_day,
            bool_or(day >= %(start)s) AS came
        FROM attended
        WHERE day <= %(end)s
        GROUP BY GROUPING SETS ((group_id, user_id), (user_id))
    )
    SELECT by_group, group_id,
        count(*) FILTER (WHERE came) AS people,
        count(*) FILTER (WHERE came AND first_day >= %(start)s) AS new_people,
        count(*) FILTER (WHERE came AND first_day < %(start)s) AS returning_people
    FROM person
    GROUP BY by_group, group_id
"""

_PEOPLE_PER_BUCKET = """
    SELECT date_trunc(%(unit)s, timezone(m.time_zone, m.starts_at))::date AS bucket,
        count(DISTINCT a.user_id) AS people
    FROM meetings_attendance AS a
    JOIN meetings_meeting AS m ON m.id = a.meeting_id
    WHERE (%(every_group)s OR m.group_id = ANY(%(groups)s)) AND m.status = %(scheduled)s
        AND a.status = ANY(%(attended)s)
        AND m.starts_at >= %(lower)s AND m.starts_at < %(upper)s AND m.starts_at < %(now)s
        AND timezone(m.time_zone, m.starts_at)::date BETWEEN %(start)s AND %(end)s
    GROUP BY 1
"""


@dataclass
class Figures:
    """Counts for one group, one week or month, or the whole report."""

    held: int = 0
    cancelled: int = 0
    registered: int = 0
    attendances: int = 0
    guests: int = 0
    going: int = 0
    no_shows: int = 0
    no_show_rate: int | None = None
    average: float | None = None
    median: float | None = None
    people: int = 0
    new_people: int | None = None
    returning_people: int | None = None


@dataclass
class GroupFigures(Figures):
    group_id: int = 0
    name: str = ""


@dataclass
class BucketFigures(Figures):
    bucket: date | None = None


@dataclass
class MeetingFigures:
    id: int
    group_id: int
    starts_at: datetime
    time_zone: str
    title: str
    group_name: str
    held: bool
    registered: bool
    attended: int
    guests: int
    going: int
    no_shows: int


@dataclass
class AttendanceData:
    total: Figures
    groups: list[GroupFigures]
    buckets: list[BucketFigures]
    meetings: list[MeetingFigures] | None = None  # only for a report on one group


def _params(group_ids, period: Period, now: datetime, unit: str = "week") -> dict:
    lower, upper = period.utc_bounds()
    return {
        "every_group": group_ids is None,
        "groups": list(group_ids or []),
        "start": period.start,
        "end": period.end,
        "lower": lower,
        "upper": upper,
        "now": now,
        "unit": unit,
        "attended": [str(status) for status in ATTENDED],
        "scheduled": str(MeetingStatus.SCHEDULED),
        "going": str(RsvpResponse.GOING),
        "confirmed": str(RsvpStatus.CONFIRMED),
        "roles": [str(role) for role in COHORT_ROLES],
    }


# Enough memory for the per-person grouping of a large programme to hash, not sort on disk.
REPORT_WORK_MEM = "64MB"


@contextmanager
def _report_transaction():
    """One transaction for a report's statements, with more working memory than a page."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = %s", [REPORT_WORK_MEM])
        yield


def _fetch(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _number(value):
    """Decimals from round() become floats; counts stay ints."""
    return float(value) if value is not None and not isinstance(value, int) else value


_FIGURE_FIELDS = (
    "held",
    "cancelled",
    "registered",
    "attendances",
    "guests",
    "going",
    "no_shows",
    "no_show_rate",
    "average",
    "median",
)


def attendance_data(
    group_ids: list[int] | None,
    period: Period,
    *,
    now: datetime,
    unit: str = "week",
    with_meetings: bool = False,
) -> AttendanceData:
    """Attendance figures per group, per week or month and overall: three queries (and a
    SET LOCAL), plus one for the per-meeting rows when `with_meetings` (one group)."""
    params = _params(group_ids, period, now, unit)
    with _report_transaction():
        figure_rows = _fetch(_ATTENDANCE_FIGURES, params)
        people_rows = _fetch(_PEOPLE, params)
        bucket_rows = _fetch(_PEOPLE_PER_BUCKET, params)
        meeting_rows = _fetch(_MEETING_ROWS, params) if with_meetings else None
    total = Figures()
    groups: dict[int, GroupFigures] = {}
    buckets: dict[date, BucketFigures] = {}
    for row in figure_rows:
        values = {name: _number(row[name]) for name in _FIGURE_FIELDS}
        if row["by_group"]:
            groups[row["group_id"]] = GroupFigures(
                group_id=row["group_id"], name=row["group_name"], **values
            )
        elif row["by_bucket"]:
            buckets[row["bucket"]] = BucketFigures(bucket=row["bucket"], **values)
        else:
            total = Figures(**values)
    for row in people_rows:
        target = groups.get(row["group_id"]) if row["by_group"] else total
        if target is not None:
            target.people = row["people"]
            target.new_people = row["new_people"]
            target.returning_people = row["returning_people"]
    for row in bucket_rows:
        if row["bucket"] in buckets:
            buckets[row["bucket"]].people = row["people"]
    meetings = None
    if meeting_rows is not None:
        meetings = [
            MeetingFigures(
                id=row["id"],
                group_id=row["group_id"],
                starts_at=row["starts_at"],
                time_zone=row["time_zone"],
                title=row["title"],
                group_name=row["group_name"],
                held=row["held"],
                registered=row["registered"],
                attended=row["attended"],
                guests=row["guest_count"],
                going=row["going"],
                no_shows=row["no_shows"],
            )
            for row in meeting_rows
        ]
    return AttendanceData(
        total=total,
        groups=sorted(groups.values(), key=lambda g: (g.name.lower(), g.group_id)),
        buckets=[buckets[key] for key in sorted(buckets)],
        meetings=meetings,
    )


# --- Retention -------------------------------------------------------------------------

_RETENTION = """
    WITH cohort AS (
        SELECT ms.id, ms.group_id, g.name AS group_name, ms.user_id, ms.joined_at,
            date_trunc('month', timezone(g.time_zone, ms.joined_at))::date AS month
        FROM groups_membership AS ms
        JOIN groups_supportgroup AS g ON g.id = ms.group_id
        WHERE (%(every_group)s OR ms.group_id = ANY(%(groups)s)) AND ms.role = ANY(%(roles)s)
            AND ms.joined_at IS NOT NULL
            AND ms.joined_at >= %(lower)s AND ms.joined_at < %(upper)s
            AND timezone(g.time_zone, ms.joined_at)::date BETWEEN %(start)s AND %(end)s
    ),
    mark AS (
        SELECT cohort.id, cohort.group_id, cohort.group_name, cohort.month, w.weeks,
            cohort.joined_at + (w.weeks + %(half)s) * interval '7 days' <= %(now)s AS measured,
            CASE WHEN cohort.joined_at + (w.weeks + %(half)s) * interval '7 days' <= %(now)s
            THEN EXISTS (
                SELECT 1 FROM meetings_meeting AS m
                JOIN meetings_attendance AS a ON a.meeting_id = m.id
                WHERE m.group_id = cohort.group_id AND a.user_id = cohort.user_id
                    AND m.status = %(scheduled)s AND a.status = ANY(%(attended)s)
                    AND m.starts_at >= cohort.joined_at
                        + (w.weeks - %(half)s) * interval '7 days'
                    AND m.starts_at < cohort.joined_at + (w.weeks + %(half)s) * interval '7 days'
            ) ELSE false END AS retained
        FROM cohort
        CROSS JOIN unnest(%(marks)s::int[]) AS w (weeks)
    )
    SELECT GROUPING(group_id, group_name) = 0 AS by_group, GROUPING(month) = 0 AS by_month,
        group_id, group_name, month,
        count(DISTINCT id) AS joined,
        {marks}
    FROM mark
    GROUP BY GROUPING SETS ((group_id, group_name), (month), ())
    ORDER BY by_group, group_name, group_id, month
"""
_RETENTION_MARK_COLUMNS = """
        count(*) FILTER (WHERE weeks = {weeks} AND measured) AS measured_{weeks},
        count(*) FILTER (WHERE weeks = {weeks} AND retained) AS retained_{weeks},
        round(100.0 * count(*) FILTER (WHERE weeks = {weeks} AND retained)
            / nullif(count(*) FILTER (WHERE weeks = {weeks} AND measured), 0)) AS share_{weeks}
"""
RETENTION_SQL = _RETENTION.replace(
    "{marks}",
    ",".join(_RETENTION_MARK_COLUMNS.format(weeks=weeks) for weeks in RETENTION_MARKS),
)


@dataclass
class Cohort:
    joined: int = 0
    measured: dict[int, int] = field(default_factory=dict)
    retained: dict[int, int] = field(default_factory=dict)
    share: dict[int, int | None] = field(default_factory=dict)
    group_id: int | None = None
    name: str = ""
    month: date | None = None


@dataclass
class RetentionData:
    total: Cohort
    months: list[Cohort]
    groups: list[Cohort]


def retention_data(group_ids: list[int] | None, period: Period, *, now: datetime) -> RetentionData:
    """Cohorts of joiners by month and by group, and overall: one query (and a SET LOCAL)."""
    params = {
        **_params(group_ids, period, now),
        "half": RETENTION_HALF_WINDOW_WEEKS,
        "marks": list(RETENTION_MARKS),
    }
    with _report_transaction():
        rows = _fetch(RETENTION_SQL, params)
    total, months, groups = Cohort(), [], []
    for row in rows:
        cohort = Cohort(
            joined=row["joined"],
            measured={weeks: row[f"measured_{weeks}"] for weeks in RETENTION_MARKS},
            retained={weeks: row[f"retained_{weeks}"] for weeks in RETENTION_MARKS},
            share={weeks: _number(row[f"share_{weeks}"]) for weeks in RETENTION_MARKS},
        )
        if row["by_group"]:
            cohort.group_id, cohort.name = row["group_id"], row["group_name"]
            groups.append(cohort)
        elif row["by_month"]:
            cohort.month = row["month"]
            months.append(cohort)
        else:
            total = cohort
    total.measured = {weeks: total.measured.get(weeks, 0) for weeks in RETENTION_MARKS}
    total.retained = {weeks: total.retained.get(weeks, 0) for weeks in RETENTION_MARKS}
    return RetentionData(total=total, months=months, groups=groups)


# --- Programme overview ----------------------------------------------------------------


def _count_of(queryset) -> Subquery:
    """A correlated COUNT(*) of `queryset` as an integer annotation."""
    return Coalesce(
        Subquery(
            queryset.order_by()
            .annotate(count=Func(Value(1), function="COUNT"))
            .values("count")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _staffed(group_ref: str = "pk") -> Exists:
    return Exists(
        Membership.objects.filter(
            group_id=OuterRef(group_ref), status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES
        )
    )


@dataclass
class Overview:
    groups_by_status: dict[str, int]
    unstaffed_groups: list[SupportGroup]  # each row carries `total`, counted by a window
    unstaffed_meetings: list[Meeting]
    load: list[User]
    overdue_requests: list[dict]
    overdue_total: int

    @property
    def unstaffed_group_count(self) -> int:
        return self.unstaffed_groups[0].total if self.unstaffed_groups else 0

    @property
    def unstaffed_meeting_count(self) -> int:
        return self.unstaffed_meetings[0].total if self.unstaffed_meetings else 0


def programme_overview(scope: Scope, *, now: datetime) -> Overview:
    """The coordinator's home: six queries, whatever the size of the programme."""
    groups = scope.groups()
    open_groups = groups.exclude(status=GroupStatus.CLOSED)
    by_status = groups.order_by().aggregate(
        **{
            status: Count("pk", distinct=True, filter=Q(status=status))
            for status in GroupStatus.values
        }
    )
    unstaffed_groups = list(
        open_groups.filter(~_staffed())
        .annotate(next_meeting_at=next_meeting_start(), total=Window(Count("pk")))
        .order_by("name", "id")
    )
    unstaffed_meetings = list(
        Meeting.objects.filter(
            group__in=open_groups,
            status=MeetingStatus.SCHEDULED,
            starts_at__gte=now,
            starts_at__lt=now + UNSTAFFED_HORIZON,
        )
        .filter(~_staffed("group_id"))
        .select_related("group")
        .annotate(total=Window(Count("pk")))
        .order_by("starts_at", "id")
    )
    staff_groups = Membership.objects.filter(
        user_id=OuterRef(OuterRef("pk")),
        status=MembershipStatus.ACTIVE,
        role__in=STAFF_ROLES,
        group__in=open_groups,
    ).values("group_id")
    meetings_of_their_groups = Meeting.objects.filter(
        group_id__in=staff_groups, status=MeetingStatus.SCHEDULED
    )
    load = list(
        User.objects.filter(
            Exists(
                Membership.objects.filter(
                    user_id=OuterRef("pk"),
                    status=MembershipStatus.ACTIVE,
                    role__in=STAFF_ROLES,
                    group__in=open_groups,
                )
            )
        )
        .annotate(
            group_count=_count_of(
                Membership.objects.filter(
                    user_id=OuterRef("pk"),
                    status=MembershipStatus.ACTIVE,
                    role__in=STAFF_ROLES,
                    group__in=open_groups,
                )
            ),
            meetings_past=_count_of(
                meetings_of_their_groups.filter(starts_at__gte=now - LOAD_WINDOW, starts_at__lt=now)
            ),
            meetings_next=_count_of(
                meetings_of_their_groups.filter(starts_at__gte=now, starts_at__lt=now + LOAD_WINDOW)
            ),
        )
        .order_by("display_name", "id")
    )
    overdue = Membership.objects.filter(
        group__in=groups,
        status=MembershipStatus.PENDING,
        requested_at__lt=now - OVERDUE_REQUEST_AGE,
    )
    overdue_requests = list(
        overdue.order_by()
        .values("group_id", "group__name", "group__slug")
        .annotate(
            waiting=Count("id"),
            oldest=Min("requested_at"),
        )
        .order_by("oldest", "group_id")
    )
    return Overview(
        groups_by_status=by_status,
        unstaffed_groups=unstaffed_groups,
        unstaffed_meetings=unstaffed_meetings,
        load=load,
        overdue_requests=overdue_requests,
        overdue_total=overdue.count(),
    )
