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
    Min,
    OuterRef,
    Q,
    QuerySet,
    Window,
)

from config.queries import correlated_count
from groups.models import (
    STAFF_ROLES,
    GroupStatus,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
)
from groups.selectors import staffs_a_group
from members.models import User
from sessions.models import ATTENDED, Meeting, MeetingStatus, RsvpResponse, RsvpStatus
from sessions.selectors import next_meeting_start

RETENTION_MARKS = (4, 12, 26)  # weeks after joining
RETENTION_HALF_WINDOW_WEEKS = 2  # the window runs from N-2 to N+2 weeks
HOURS_A_WEEK = 7 * 24
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
    if staffs_a_group(user):
        return Scope(user_id=user.pk, everything=False)
    return None


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

# Meetings in the period, from outcomes_meeting_tally (kept by triggers: see
# outcomes.models), which holds each meeting's local day beside its counts.
_WITH_MEETINGS = """
    WITH fact AS (
        SELECT t.meeting_id AS id, t.group_id, g.name AS group_name, t.guest_count,
            t.starts_at, date_trunc(%(unit)s, t.day::timestamp)::date AS bucket, t.held,
            t.held AND t.marks > 0 AS registered, t.attended, t.going, t.no_shows
        FROM outcomes_meeting_tally AS t
        JOIN groups_supportgroup AS g ON g.id = t.group_id
        WHERE (%(every_group)s OR t.group_id = ANY(%(groups)s))
            AND t.day BETWEEN %(start)s AND %(end)s AND t.starts_at < %(now)s
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
    SELECT fact.id, fact.group_id, fact.starts_at, m.time_zone, m.title, group_name, held,
        registered, attended, fact.guest_count, going, no_shows
    FROM fact
    JOIN meetings_meeting AS m ON m.id = fact.id
    ORDER BY fact.starts_at, fact.id
"""
# Joined from constant strings only: every value is a query parameter.
_ATTENDANCE_FIGURES = _WITH_MEETINGS + _SELECT_FIGURES
_MEETING_ROWS = _WITH_MEETINGS + _SELECT_MEETINGS

# The people who came in the period, per group and overall, and which of them had come
# before it, from outcomes_group_attendee: one row per group and person, with every local
# day they came on. Days before `settled` (the day before today in UTC) are those of
# meetings that have certainly started; for the days since, when a meeting may still be
# to come, the attendances themselves are looked up (a few rows).
_PEOPLE = """
    WITH recent AS MATERIALIZED (
        SELECT group_id, user_id, day FROM outcomes_attended_day
        WHERE (%(every_group)s OR group_id = ANY(%(groups)s))
            AND day >= %(settled)s AND day <= %(end)s AND starts_at < %(now)s
    ),
    attendee AS MATERIALIZED (
        SELECT a.group_id, a.user_id,
            a.days && daterange(%(start)s, greatest(%(start)s, least(%(end)s + 1, %(settled)s)))
                OR (a.group_id, a.user_id) IN (
                    SELECT group_id, user_id FROM recent WHERE day >= %(start)s
                ) AS came,
            a.first_day < least(%(start)s, %(settled)s)
                OR (a.group_id, a.user_id) IN (
                    SELECT group_id, user_id FROM recent WHERE day < %(start)s
                ) AS came_before
        FROM outcomes_group_attendee AS a
        WHERE (%(every_group)s OR a.group_id = ANY(%(groups)s)) AND a.first_day <= %(end)s
            -- someone who had come by the end of the period: their group's row says 0,
            -- not "no figure", when no one came in it
            AND (a.first_day < %(settled)s OR (a.group_id, a.user_id) IN (
                SELECT group_id, user_id FROM recent
            ))
    )
    SELECT true AS by_group, group_id, count(*) FILTER (WHERE came) AS people,
        count(*) FILTER (WHERE came AND NOT came_before) AS new_people,
        count(*) FILTER (WHERE came AND came_before) AS returning_people
    FROM attendee
    GROUP BY group_id
    UNION ALL
    SELECT false, NULL, count(*) FILTER (WHERE came),
        count(*) FILTER (WHERE came AND NOT came_before),
        count(*) FILTER (WHERE came AND came_before)
    FROM (
        SELECT bool_or(came) AS came, bool_or(came_before) AS came_before
        FROM attendee
        GROUP BY user_id
    ) AS person
    HAVING count(*) > 0
"""

# Different people per week or month: the bucket expression is written out (not a
# parameter) so that it matches the expression indexes on outcomes_attended_day, which
# hand the rows over in (bucket, person) order.
_PEOPLE_PER_BUCKET = """
    SELECT bucket, count(*) AS people
    FROM (
        SELECT DISTINCT date_trunc('{unit}', day::timestamp)::date AS bucket, user_id
        FROM outcomes_attended_day
        WHERE date_trunc('{unit}', day::timestamp)::date
                BETWEEN date_trunc('{unit}', %(start)s::timestamp)::date AND %(end)s
            AND day BETWEEN %(start)s AND %(end)s AND starts_at < %(now)s
            AND (%(every_group)s OR group_id = ANY(%(groups)s))
    ) AS attendee
    GROUP BY bucket
"""
PEOPLE_PER_BUCKET = {unit: _PEOPLE_PER_BUCKET.replace("{unit}", unit) for unit in ("week", "month")}


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
        # Every meeting on a local day before this one has started (UTC-12 at the latest).
        "settled": now.astimezone(UTC).date() - timedelta(days=1),
        "unit": unit,
        "attended": [str(status) for status in ATTENDED],
        "scheduled": str(MeetingStatus.SCHEDULED),
        "going": str(RsvpResponse.GOING),
        "confirmed": str(RsvpStatus.CONFIRMED),
        "roles": [str(role) for role in COHORT_ROLES],
    }


# A report's statements run in one transaction with settings of their own: memory enough
# for the per-group grouping sets and the (bucket, person) counting to stay in memory; no
# JIT compilation (it costs more, on these plans, than the milliseconds it saves); and the
# cost of a random read of a cached index page, which the reporting tables nearly always
# are, so that the planner reads the week and month indexes in order instead of hashing
# every (bucket, person) pair.
REPORT_SETTINGS = (
    "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true),"
    " set_config('random_page_cost', '1.1', true)"
)


@contextmanager
def _report_transaction():
    """One transaction for a report's statements, with the settings above."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(REPORT_SETTINGS)
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
    """Attendance figures per group, per week or month and overall: three queries (and one
    for their settings), plus one for the per-meeting rows when `with_meetings` (one group)."""
    params = _params(group_ids, period, now, unit)
    with _report_transaction():
        figure_rows = _fetch(_ATTENDANCE_FIGURES, params)
        people_rows = _fetch(_PEOPLE, params)
        bucket_rows = _fetch(PEOPLE_PER_BUCKET[unit], params)
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

# Each membership's attendances at its group are one row of outcomes_group_attendee, with
# every meeting start as a multirange: "still attending at N weeks" is one overlap test.
_RETENTION = """
    WITH cohort AS (
        SELECT ms.group_id, g.name AS group_name, ms.user_id, ms.joined_at,
            date_trunc('month', timezone(g.time_zone, ms.joined_at))::date AS month
        FROM groups_membership AS ms
        JOIN groups_supportgroup AS g ON g.id = ms.group_id
        WHERE (%(every_group)s OR ms.group_id = ANY(%(groups)s)) AND ms.role = ANY(%(roles)s)
            AND ms.joined_at IS NOT NULL
            AND ms.joined_at >= %(lower)s AND ms.joined_at < %(upper)s
            AND timezone(g.time_zone, ms.joined_at)::date BETWEEN %(start)s AND %(end)s
    ),
    mark AS (
        SELECT cohort.group_id, cohort.group_name, cohort.month,
            {mark_flags}
        FROM cohort
        LEFT JOIN outcomes_group_attendee AS a
            ON a.group_id = cohort.group_id AND a.user_id = cohort.user_id
    )
    SELECT GROUPING(group_id, group_name) = 0 AS by_group, GROUPING(month) = 0 AS by_month,
        group_id, group_name, month,
        count(*) AS joined,
        {mark_counts}
    FROM mark
    GROUP BY GROUPING SETS ((group_id, group_name), (month), ())
    ORDER BY by_group, group_name, group_id, month
"""
# Measured: the window [N-2, N+2) weeks after joining has ended. Retained: measured, and
# an attendance started in the window. A week is 168 hours (as '7 days' is in the UTC of the
# report's connection), which PostgreSQL adds to an instant without a calendar.
_RETENTION_MARK_FLAGS = """
            cohort.joined_at + interval '{end} hours' <= %(now)s AS measured_{weeks},
            cohort.joined_at + interval '{end} hours' <= %(now)s
                AND coalesce(a.starts && tstzrange(
                    cohort.joined_at + interval '{start} hours',
                    cohort.joined_at + interval '{end} hours'
                ), false) AS retained_{weeks}"""
_RETENTION_MARK_COUNTS = """
        count(*) FILTER (WHERE measured_{weeks}) AS measured_{weeks},
        count(*) FILTER (WHERE retained_{weeks}) AS retained_{weeks},
        round(100.0 * count(*) FILTER (WHERE retained_{weeks})
            / nullif(count(*) FILTER (WHERE measured_{weeks}), 0)) AS share_{weeks}"""
# Joined from constant strings and the integer marks only: every value is a parameter.
RETENTION_SQL = _RETENTION.replace(
    "{mark_flags}",
    ",".join(
        _RETENTION_MARK_FLAGS.format(
            weeks=int(weeks),
            start=int(weeks - RETENTION_HALF_WINDOW_WEEKS) * HOURS_A_WEEK,
            end=int(weeks + RETENTION_HALF_WINDOW_WEEKS) * HOURS_A_WEEK,
        )
        for weeks in RETENTION_MARKS
    ),
).replace(
    "{mark_counts}",
    ",".join(_RETENTION_MARK_COUNTS.format(weeks=int(weeks)) for weeks in RETENTION_MARKS),
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
    """Cohorts of joiners by month and by group, and overall: one query (and one for its
    settings)."""
    params = _params(group_ids, period, now)
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
            group_count=correlated_count(
                Membership.objects.filter(
                    user_id=OuterRef("pk"),
                    status=MembershipStatus.ACTIVE,
                    role__in=STAFF_ROLES,
                    group__in=open_groups,
                )
            ),
            meetings_past=correlated_count(
                meetings_of_their_groups.filter(starts_at__gte=now - LOAD_WINDOW, starts_at__lt=now)
            ),
            meetings_next=correlated_count(
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
