"""Hand-built programmes for the report tests, and readers for pages, CSV and XLSX.

`programme` is the attendance data set: two groups in two time zones, a period of March
and April 2025 that crosses both daylight-saving changes, with a cancelled meeting, walk-in
guests, a meeting without a register, a member who left, members who came without an RSVP,
a waitlisted member who came anyway, and meetings whose UTC day differs from their local
day. Every expected figure is written out in tests/reports/test_attendance.py.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from groups.models import MembershipStatus, Role
from members.services import coordinator_grant
from sessions.models import (
    Attendance,
    AttendanceStatus,
    MeetingStatus,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")
PERIOD_START = date(2025, 3, 1)
PERIOD_END = date(2025, 4, 30)
PERIOD_QUERY = {"period": "custom", "start": "2025-03-01", "end": "2025-04-30"}
SUPPRESSED_TEXT = "hidden: under 5 people"
HIDDEN_PREFIX = "Hidden: "


def local(zone: ZoneInfo, *args) -> datetime:
    return datetime(*args, tzinfo=zone)


def meeting(group, starts_at, *, status=MeetingStatus.SCHEDULED, guests=0, title=""):
    return MeetingFactory(
        group=group,
        starts_at=starts_at,
        time_zone=group.time_zone,
        status=status,
        guest_count=guests,
        title=title,
    )


def rsvp(meeting, user, *, going=True, status=None):
    return Rsvp.objects.create(
        meeting=meeting,
        user=user,
        response=RsvpResponse.GOING if going else RsvpResponse.NOT_GOING,
        status=status or (RsvpStatus.CONFIRMED if going else RsvpStatus.DECLINED),
    )


def mark(meeting, user, status=AttendanceStatus.PRESENT):
    return Attendance.objects.create(meeting=meeting, user=user, status=status)


@dataclass
class Programme:
    harbour: object  # Rome
    shore: object  # New York
    people: dict
    meetings: dict
    staff: dict = field(default_factory=dict)


@pytest.fixture
def programme(db) -> Programme:
    harbour = SupportGroupFactory(name="Harbour Lights", time_zone="Europe/Rome", city="Genova")
    shore = SupportGroupFactory(
        name="Other Shore", time_zone="America/New_York", city="New York", country="US"
    )
    people = {name: UserFactory(display_name=name) for name in ("a1", "a2", "a3", "a4", "a5")}
    people["a6"] = UserFactory(display_name="a6")
    for name in ("a1", "a2", "a3", "a4", "a5"):
        MembershipFactory(group=harbour, user=people[name])
    MembershipFactory(group=harbour, user=people["a6"], status=MembershipStatus.LEFT)
    for name in ("b1", "b2", "b3"):
        people[name] = UserFactory(display_name=name)
        MembershipFactory(group=shore, user=people[name])
    MembershipFactory(group=shore, user=people["a1"])
    MembershipFactory(group=shore, user=people["a3"])
    fiona = UserFactory(display_name="Facilitator Fiona")
    MembershipFactory(group=harbour, user=fiona, role=Role.FACILITATOR)
    ed = UserFactory(display_name="Elsewhere Ed")
    MembershipFactory(group=shore, user=ed, role=Role.FACILITATOR)
    p = people

    m = {}
    # Harbour Lights, Rome (summer time from 30 March 2025).
    m["M0"] = meeting(harbour, local(ROME, 2025, 2, 24, 19, 0))  # before the period
    mark(m["M0"], p["a1"])
    mark(m["M0"], p["a2"])

    m["M1"] = meeting(harbour, local(ROME, 2025, 3, 3, 19, 0), guests=3)
    for name in ("a1", "a2", "a3", "a4"):
        rsvp(m["M1"], p[name])
    rsvp(m["M1"], p["a5"], going=False)
    mark(m["M1"], p["a1"])
    mark(m["M1"], p["a2"], AttendanceStatus.LATE)
    mark(m["M1"], p["a3"], AttendanceStatus.ABSENT)
    mark(m["M1"], p["a4"], AttendanceStatus.EXCUSED)
    mark(m["M1"], p["a6"])  # no RSVP, came anyway; has since left the group

    m["M2"] = meeting(
        harbour, local(ROME, 2025, 3, 10, 19, 0), status=MeetingStatus.CANCELLED, guests=4
    )
    rsvp(m["M2"], p["a1"])
    mark(m["M2"], p["a1"])  # a mark on a cancelled meeting counts for nothing

    # 00:30 on the night the clocks go forward: 29 March 23:30 UTC, 30 March in Rome.
    m["M3"] = meeting(harbour, local(ROME, 2025, 3, 30, 0, 30))
    for name in ("a1", "a3", "a5"):
        rsvp(m["M3"], p[name])
    rsvp(m["M3"], p["a4"], status=RsvpStatus.WAITLISTED)
    mark(m["M3"], p["a1"])
    mark(m["M3"], p["a5"])
    mark(m["M3"], p["a4"])  # waitlisted, came anyway; a3 said going and was not marked

    m["M6"] = meeting(harbour, local(ROME, 2025, 4, 7, 19, 0), guests=2)  # no register
    rsvp(m["M6"], p["a1"])

    m["M4"] = meeting(harbour, local(ROME, 2025, 4, 30, 23, 30), guests=1)  # 21:30 UTC
    rsvp(m["M4"], p["a2"])
    mark(m["M4"], p["a2"])
    mark(m["M4"], p["a3"])

    m["M5"] = meeting(harbour, local(ROME, 2025, 5, 1, 0, 30))  # 30 April UTC, 1 May in Rome
    mark(m["M5"], p["a1"])

    # Other Shore, New York (summer time from 9 March 2025).
    m["N0"] = meeting(shore, local(NEW_YORK, 2025, 2, 28, 23, 0))  # 1 March 04:00 UTC
    mark(m["N0"], p["b1"])
    mark(m["N0"], p["a3"])

    m["N1"] = meeting(shore, local(NEW_YORK, 2025, 3, 1, 0, 30))
    for name in ("b1", "b2", "b3"):
        rsvp(m["N1"], p[name])
    mark(m["N1"], p["b1"])
    mark(m["N1"], p["b2"])

    m["N2"] = meeting(shore, local(NEW_YORK, 2025, 3, 10, 19, 0), guests=5)
    rsvp(m["N2"], p["b2"])
    mark(m["N2"], p["b2"], AttendanceStatus.LATE)
    mark(m["N2"], p["a1"])

    return Programme(
        harbour=harbour,
        shore=shore,
        people=people,
        meetings=m,
        staff={"fiona": fiona, "ed": ed},
    )


@pytest.fixture
def coordinator_with_mfa(db):
    person = UserFactory(display_name="Coordinator Cora")
    coordinator_grant(user=person)
    enable_mfa(person)
    return person


# --- Reading what the pages and the exports show ----------------------------------------


class _TableReader(HTMLParser):
    """Collects every <table id="table-..."> as rows of cell texts, and the key figures."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.figures: dict[str, dict[str, str]] = {}
        self._table = None
        self._row = None
        self._cell = None
        self._figures = None
        self._term = None
        self._text = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("table-"):
            self._table = self.tables.setdefault(attrs["id"].removeprefix("table-"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "dl" and (attrs.get("id") or "").startswith("figures-"):
            self._figures = self.figures.setdefault(attrs["id"].removeprefix("figures-"), {})
        elif tag in ("dt", "dd") and self._figures is not None:
            self._text = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "dt" and self._text is not None:
            self._term = " ".join("".join(self._text).split())
            self._text = None
        elif tag == "dd" and self._text is not None:
            self._figures[self._term] = " ".join("".join(self._text).split())
            self._text = None
        elif tag == "dl":
            self._figures = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._text is not None:
            self._text.append(data)


def page_tables(response) -> tuple[dict[str, list[list[str]]], dict[str, dict[str, str]]]:
    reader = _TableReader()
    reader.feed(response.content.decode())
    return reader.tables, reader.figures


def as_dicts(rows: list[list]) -> dict[str, dict[str, object]]:
    """A table (header row first) as {row header: {column label: cell}}."""
    header, *body = rows
    return {
        str(row[0]): dict(zip(header[1:], row[1:], strict=True)) for row in body if row and row[0]
    }


def number(text):
    """A figure as the page shows it, as the number the export holds ("" for no figure)."""
    if not isinstance(text, str):
        return "" if text is None else text
    text = text.strip()
    if text in ("—", "not yet", "none planned"):
        return ""
    cleaned = text.replace(",", "").rstrip("%")
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        return float(cleaned)
    except ValueError:
        return text


def csv_rows(response) -> list[list[str]]:
    """A CSV export: one table, its column headings first."""
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def csv_about(response) -> dict[str, str]:
    """The "about" CSV: {label: value}, below its own heading line."""
    return {row[0]: row[1] for row in csv_rows(response)[1:]}


def unflag(rows: list[list]) -> list[list]:
    """An export table read as the page shows it: each "Hidden: X" flag column folded
    back into X (a 1 turns X's empty cell into the words for a hidden figure), the "(%)"
    of a share's heading dropped. Every flagged cell must be empty."""
    header, *body = rows
    plain = [str(label).removesuffix(" (%)") for label in header]
    flags = {
        index: plain.index(label.removeprefix(HIDDEN_PREFIX))
        for index, label in enumerate(header)
        if str(label).startswith(HIDDEN_PREFIX)
    }
    keep = [index for index in range(len(header)) if index not in flags]
    shown = []
    for row in body:
        row = ["" if value is None else value for value in row]
        for flag, column in flags.items():
            assert number(row[flag]) in (0, 1), f"flag {header[flag]} is {row[flag]!r}"
            if number(row[flag]) == 1:
                assert row[column] == "", f"{header[column]} hidden but holds {row[column]!r}"
                row[column] = SUPPRESSED_TEXT
        shown.append([row[index] for index in keep])
    labels = [str(header[index]).removesuffix(" (%)") for index in keep]
    return [labels, *shown]


def csv_table(client, view: str, query: dict, key: str) -> list[list]:
    """One table's CSV, read as the page shows it (see unflag)."""
    from django.urls import reverse

    response = client.get(reverse(view, kwargs={"fmt": "csv"}), {**query, "table": key})
    assert response.status_code == 200, key
    return unflag(csv_rows(response))


def xlsx_sections(response) -> tuple[dict[str, object], dict[str, list[list]]]:
    """The "about" sheet ({label: value}) and each other sheet (title -> rows, headings
    first), read as the page shows them (see unflag)."""
    workbook = load_workbook(io.BytesIO(response.content))
    about_sheet, *sheets = workbook.worksheets
    about = {row[0]: row[1] for row in about_sheet.iter_rows(values_only=True)}
    tables = {
        sheet.title: unflag([list(row) for row in sheet.iter_rows(values_only=True)])
        for sheet in sheets
    }
    return about, tables


def sheet_of(caption: str) -> str:
    """The title a table's sheet gets (at most 31 characters, Excel's limit)."""
    from outcomes.exports import sheet_title

    return sheet_title(caption, set())
