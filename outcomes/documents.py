"""Each report as tables, with the sums that tie them together, suppressed once.

The builders take the aggregated rows from outcomes.reports, lay them out as Table objects,
declare every sum a reader could check (column totals, totals repeated in another table,
parts of a count), and hide small numbers with outcomes.suppression. Only then are the
chart tables and the summary copied out, so that they carry the same hidden cells.

`shared` says where the document goes: an export or a summary meant for sharing hides
every small count of people; the page a facilitator or coordinator reads shows the
counts they could read off the registers they already see, exactly.
"""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from groups.models import GroupStatus
from outcomes.reports import RETENTION_MARKS, AttendanceData, Overview, RetentionData
from outcomes.suppression import Cell, Disclosure
from outcomes.tables import Column, Document, FigureList, Kind, Row, Table

TOTAL = _("All groups in this report")


# --- Attendance ------------------------------------------------------------------------


def attendance_columns() -> list[Column]:
    return [
        Column("held", _("Meetings held"), Kind.COUNT),
        Column("cancelled", _("Meetings cancelled"), Kind.COUNT),
        Column("registered", _("Meetings with attendance taken"), Kind.COUNT),
        Column("attendances", _("Attendances")),
        Column("people", _("Unique attendees")),
        Column("new_people", _("New attendees")),
        Column("returning_people", _("Returning attendees")),
        Column("guests", _("Walk-in guests")),
        Column("average", _("Average per meeting"), Kind.AVERAGE, depends_on=("attendances",)),
        Column("median", _("Median per meeting"), Kind.AVERAGE, depends_on=("attendances",)),
        Column("going", _("Said they were going")),
        Column("no_shows", _("No-shows")),
        Column("no_show_rate", _("No-show rate"), Kind.PERCENT, depends_on=("going", "no_shows")),
    ]


def trend_columns() -> list[Column]:
    return [
        Column("held", _("Meetings held"), Kind.COUNT),
        Column("attendances", _("Attendances")),
        Column("guests", _("Walk-in guests")),
        Column("people", _("Unique attendees")),
    ]


def meeting_columns() -> list[Column]:
    return [
        Column("status", _("Status"), Kind.TEXT),
        Column("attendances", _("Attendances")),
        Column("guests", _("Walk-in guests")),
        Column("going", _("Said they were going")),
        Column("no_shows", _("No-shows")),
    ]


def _figures(source, columns: list[Column]) -> dict:
    return {column.key: getattr(source, column.key) for column in columns}


def attendance_document(
    data: AttendanceData,
    *,
    header: list[tuple[str, str]],
    filename: str,
    unit: str,
    group_url: Callable[[int], str],
    meeting_url: Callable[[int], str],
    shared: bool = True,
) -> Document:
    columns = attendance_columns()
    groups = Table(
        key="groups",
        caption=str(_("Attendance by group")),
        header_column=Column("group", _("Group"), Kind.TEXT),
        columns=columns,
        rows=[
            Row(header=group.name, values=_figures(group, columns), url=group_url(group.group_id))
            for group in data.groups
        ],
        total=Row(header=TOTAL, values=_figures(data.total, columns)),
        empty=str(_("No meetings in this period.")),
    )
    by_month = unit == "month"
    trend = Table(
        key="trend",
        caption=str(_("Attendance by month") if by_month else _("Attendance by week")),
        header_column=Column(
            "bucket",
            _("Month") if by_month else _("Week starting"),
            Kind.MONTH if by_month else Kind.WEEK,
        ),
        columns=trend_columns(),
        rows=[
            Row(header=bucket.bucket, values=_figures(bucket, trend_columns()))
            for bucket in data.buckets
        ],
        empty=str(_("No meetings in this period.")),
    )
    tables = [groups, trend]
    if data.meetings is not None:
        tables.append(
            Table(
                key="meetings",
                caption=str(_("Meetings of this group")),
                header_column=Column("starts_at", _("Meeting"), Kind.DATETIME),
                columns=meeting_columns(),
                rows=[_meeting_row(meeting, meeting_url) for meeting in data.meetings],
                empty=str(_("No meetings in this period.")),
            )
        )
    # Every sum a reader could check on the page:
    disclosure = Disclosure(*tables)
    # each column of the group table adds up to its total row,
    disclosure.rows_add_up("groups", "attendances", "guests", "going", "no_shows")
    # in every row, unique attendees are the new ones plus the returning ones,
    disclosure.columns_add_up("groups", "people", "new_people", "returning_people")
    # the weeks (or months) add up to the same totals,
    disclosure.rows_add_up_to(
        "trend",
        {"attendances": "attendances", "guests": "guests"},
        total=Cell("groups", "total", ""),
    )
    # and the meetings of a single group add up to that group's row.
    if data.meetings is not None and len(groups.rows) == 1:
        disclosure.rows_add_up_to(
            "meetings",
            {key: key for key in ("attendances", "guests", "going", "no_shows")},
            total=Cell("groups", 0, ""),
        )
    disclosure.apply(shared=shared)
    return Document(
        title=str(_("Attendance report")),
        filename=filename,
        header=header,
        tables=[summary_table(groups, caption=str(_("Summary"))), *tables],
    )


def _meeting_row(meeting, meeting_url) -> Row:
    local = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone))
    if not meeting.held:
        status = pgettext_lazy("meeting", "Cancelled")
        values = {"attendances": None, "guests": None, "going": None, "no_shows": None}
    elif not meeting.registered:
        status = _("Held, attendance not taken")
        values = {"attendances": None, "guests": meeting.guests, "going": None, "no_shows": None}
    else:
        status = pgettext_lazy("meeting", "Held")
        values = {
            "attendances": meeting.attended,
            "guests": meeting.guests,
            "going": meeting.going,
            "no_shows": meeting.no_shows,
        }
    return Row(header=local, values={"status": str(status), **values}, url=meeting_url(meeting.id))


def summary_table(source: Table, *, caption: str) -> FigureList:
    """The total row of `source` turned on its side, after suppression: one figure a row."""
    return FigureList(
        key="summary",
        caption=caption,
        items=[(column, source.total.values.get(column.key)) for column in source.columns],
    )


# --- Retention -------------------------------------------------------------------------


def retention_columns() -> list[Column]:
    columns = [Column("joined", pgettext_lazy("people counted", "Joined"))]
    for weeks in RETENTION_MARKS:
        columns += [
            Column(f"measured_{weeks}", _("Measured at %(weeks)s weeks") % {"weeks": weeks}),
            Column(
                f"retained_{weeks}",
                _("Still attending at %(weeks)s weeks") % {"weeks": weeks},
            ),
            Column(
                f"share_{weeks}",
                _("Share at %(weeks)s weeks") % {"weeks": weeks},
                Kind.PERCENT,
                depends_on=(f"measured_{weeks}", f"retained_{weeks}"),
                missing=_("not yet"),
            ),
        ]
    return columns


def _cohort_values(cohort) -> dict:
    values = {"joined": cohort.joined}
    for weeks in RETENTION_MARKS:
        values[f"measured_{weeks}"] = cohort.measured.get(weeks, 0)
        values[f"retained_{weeks}"] = cohort.retained.get(weeks, 0)
        values[f"share_{weeks}"] = cohort.share.get(weeks)
    return values


def retention_document(
    data: RetentionData,
    *,
    header: list[tuple[str, str]],
    filename: str,
    group_url: Callable[[int], str],
    shared: bool = True,
) -> Document:
    columns = retention_columns()
    cohorts = Table(
        key="cohorts",
        caption=str(_("Retention by the month people joined")),
        header_column=Column("month", _("Joined in"), Kind.MONTH),
        columns=columns,
        rows=[Row(header=month.month, values=_cohort_values(month)) for month in data.months],
        total=Row(header=TOTAL, values=_cohort_values(data.total)),
        empty=str(_("Nobody joined a group in this period.")),
    )
    groups = Table(
        key="retention_groups",
        caption=str(_("Retention by group")),
        header_column=Column("group", _("Group"), Kind.TEXT),
        columns=retention_columns(),
        rows=[
            Row(header=group.name, values=_cohort_values(group), url=group_url(group.group_id))
            for group in data.groups
        ],
        empty=str(_("Nobody joined a group in this period.")),
    )
    counts = ["joined"] + [
        f"{kind}_{weeks}" for weeks in RETENTION_MARKS for kind in ("measured", "retained")
    ]
    disclosure = Disclosure(cohorts, groups)
    disclosure.rows_add_up("cohorts", *counts)
    disclosure.rows_add_up_to(
        "retention_groups", {key: key for key in counts}, total=Cell("cohorts", "total", "")
    )
    disclosure.apply(shared=shared)
    marks = Table(
        key="retention_marks",
        caption=str(_("Share of joiners still attending")),
        header_column=Column("mark", _("Weeks after joining"), Kind.TEXT),
        columns=[
            Column("measured", _("Measured")),
            Column("retained", _("Still attending")),
            Column("share", _("Share"), Kind.PERCENT, missing=_("not yet")),
        ],
        rows=[
            Row(
                header=_("%(weeks)s weeks") % {"weeks": weeks},
                values={
                    "measured": cohorts.total.values[f"measured_{weeks}"],
                    "retained": cohorts.total.values[f"retained_{weeks}"],
                    "share": cohorts.total.values[f"share_{weeks}"],
                },
            )
            for weeks in RETENTION_MARKS
        ],
    )
    return Document(
        title=str(_("Retention report")),
        filename=filename,
        header=header,
        tables=[marks, cohorts, groups],
    )


# --- Programme overview ----------------------------------------------------------------


def overview_document(
    overview: Overview,
    *,
    header: list[tuple[str, str]],
    filename: str,
    open_items: list,
    manage_url: Callable[[str], str],
    meeting_url: Callable[[int], str],
    to_local: Callable,
    shared: bool = True,
) -> Document:
    overdue = Table(
        key="overdue",
        caption=str(_("Requests to join waiting more than 7 days")),
        header_column=Column("group", _("Group"), Kind.TEXT),
        columns=[
            Column("waiting", _("Requests waiting")),
            Column("oldest", _("Waiting since"), Kind.DATE),
        ],
        rows=[
            Row(
                header=row["group__name"],
                values={"waiting": row["waiting"], "oldest": to_local(row["oldest"]).date()},
                url=manage_url(row["group__slug"]),
            )
            for row in overview.overdue_requests
        ],
        total=Row(header=TOTAL, values={"waiting": overview.overdue_total, "oldest": None}),
        empty=str(_("No request has waited more than 7 days.")),
    )
    disclosure = Disclosure(overdue)
    disclosure.rows_add_up("overdue", "waiting")
    disclosure.apply(shared=shared)
    status = overview.groups_by_status
    figures = FigureList(
        key="figures",
        caption=str(_("At a glance")),
        items=[
            (Column("active", _("Active groups"), Kind.COUNT), status.get(GroupStatus.ACTIVE, 0)),
            (Column("paused", _("Paused groups"), Kind.COUNT), status.get(GroupStatus.PAUSED, 0)),
            (Column("closed", _("Closed groups"), Kind.COUNT), status.get(GroupStatus.CLOSED, 0)),
            (
                Column("unstaffed_groups", _("Groups without an active facilitator"), Kind.COUNT),
                overview.unstaffed_group_count,
            ),
            (
                Column(
                    "unstaffed_meetings",
                    _("Meetings in the next 7 days without a facilitator"),
                    Kind.COUNT,
                ),
                overview.unstaffed_meeting_count,
            ),
            (
                Column("overdue", _("Requests to join waiting more than 7 days")),
                overdue.total.values["waiting"],
            ),
        ],
    )
    unstaffed_groups = Table(
        key="unstaffed_groups",
        caption=str(_("Groups without an active facilitator")),
        header_column=Column("group", _("Group"), Kind.TEXT),
        columns=[
            Column("status", _("Status"), Kind.TEXT),
            Column("next_meeting", _("Next meeting"), Kind.DATETIME, missing=_("none planned")),
        ],
        rows=[
            Row(
                header=group.name,
                values={
                    "status": group.get_status_display(),
                    "next_meeting": to_local(group.next_meeting_at)
                    if group.next_meeting_at
                    else None,
                },
                url=manage_url(group.slug),
            )
            for group in overview.unstaffed_groups
        ],
        empty=str(_("Every open group has an active facilitator.")),
    )
    unstaffed_meetings = Table(
        key="unstaffed_meetings",
        caption=str(_("Meetings in the next 7 days without a facilitator")),
        header_column=Column("starts_at", _("Meeting"), Kind.DATETIME),
        columns=[Column("group", _("Group"), Kind.TEXT)],
        rows=[
            Row(
                header=to_local(meeting.starts_at),
                values={"group": meeting.group.name},
                url=meeting_url(meeting.pk),
            )
            for meeting in overview.unstaffed_meetings
        ],
        empty=str(_("Every meeting in the next 7 days has a facilitator.")),
    )
    load = Table(
        key="load",
        caption=str(_("Facilitators' load")),
        header_column=Column("facilitator", _("Facilitator"), Kind.TEXT),
        columns=[
            Column("groups", _("Groups"), Kind.COUNT),
            Column("past", _("Meetings in the last 30 days"), Kind.COUNT),
            Column("next", _("Meetings in the next 30 days"), Kind.COUNT),
        ],
        rows=[
            Row(
                header=person.display_name,
                values={
                    "groups": person.group_count,
                    "past": person.meetings_past,
                    "next": person.meetings_next,
                },
            )
            for person in overview.load
        ],
        empty=str(_("No one facilitates an open group.")),
    )
    others = Table(
        key="open_items",
        caption=str(_("Open items from other areas")),
        header_column=Column("item", _("Item"), Kind.TEXT),
        columns=[
            Column("area", pgettext_lazy("part of the app", "Area"), Kind.TEXT),
            Column("count", _("Count"), Kind.COUNT),
        ],
        rows=[
            Row(header=item.label, values={"area": item.area, "count": item.count}, url=item.url)
            for item in open_items
        ],
        empty=str(_("Nothing from other areas needs attention.")),
    )
    return Document(
        title=str(_("Programme overview")),
        filename=filename,
        header=header,
        tables=[figures, unstaffed_groups, unstaffed_meetings, load, overdue, others],
    )
