"""CSV and XLSX exports: they open with csv and openpyxl and hold the page's numbers."""

import csv
import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes import exports
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.reports.conftest import (
    PERIOD_QUERY,
    as_dicts,
    csv_sections,
    number,
    page_tables,
    xlsx_sections,
)

pytestmark = pytest.mark.django_db

ATTENDANCE_TABLES = {
    "groups": "Attendance by group",
    "trend": "Attendance by week",
    "meetings": "Meetings of this group",
}
RETENTION_TABLES = {
    "retention_marks": "Share of joiners still attending",
    "cohorts": "Retention by the month people joined",
    "retention_groups": "Retention by group",
}


def figures_of(rows) -> list[list]:
    """Each row's figures (the row header aside) as numbers, or the words shown."""
    return [[number(cell) for cell in row[1:]] for row in rows]


def export(client, view: str, fmt: str, query: dict):
    response = client.get(reverse(view, kwargs={"fmt": fmt}), query)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("group", [None, "harbour"])
def test_attendance_exports_hold_the_pages_numbers(client, programme, coordinator_with_mfa, group):
    log_in(client, coordinator_with_mfa)
    query = dict(PERIOD_QUERY)
    if group:
        query["group"] = getattr(programme, group).pk
    page, figures = page_tables(client.get(reverse("reports:attendance"), query))
    csv_response = export(client, "reports:attendance_export", "csv", query)
    xlsx_response = export(client, "reports:attendance_export", "xlsx", query)

    header, sections = csv_sections(csv_response)
    sheets = xlsx_sections(xlsx_response)
    for key, caption in ATTENDANCE_TABLES.items():
        if key not in page:
            assert group is None and key == "meetings"
            continue
        csv_rows, (sheet_header, xlsx_rows) = sections[caption], sheets[caption]
        assert figures_of(csv_rows[1:]) == figures_of(page[key][1:]), caption
        assert figures_of(xlsx_rows[1:]) == figures_of(page[key][1:]), caption
        assert [label.removesuffix(" (%)") for label in csv_rows[0]] == page[key][0]
        assert sheet_header == header
    summary = {label: number(value) for label, value in figures["summary"].items()}
    assert {row[0].removesuffix(" (%)"): number(row[1]) for row in sections["Summary"][1:]} == (
        summary
    )
    assert summary["Meetings held"] == (4 if group else 6)


def test_export_header_block_names_period_filters_and_when(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.shore.pk, "format": "in-person"}

    response = export(client, "reports:attendance_export", "csv", query)

    header, _ = csv_sections(response)
    assert header["Period"] == "1 March 2025 – 30 April 2025 (Dates I choose)"
    assert header["Group"] == "Other Shore"
    assert header["Format"] == "In person"
    assert header["Access"] == "Every group in the programme"
    assert header["Produced"].endswith("(Europe/Rome)")
    assert "fewer than 5" in header["Small numbers"]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="attendance-2025-03-01-to-2025-04-30.csv"'
    )
    xlsx = export(client, "reports:attendance_export", "xlsx", query)
    assert xlsx["Content-Disposition"].endswith('.xlsx"')
    for sheet_header, _ in xlsx_sections(xlsx).values():
        assert sheet_header["Period"] == header["Period"]
        assert sheet_header["Group"] == "Other Shore"


def test_retention_exports_hold_the_pages_numbers(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)
    query = {"period": "past-12-months"}
    page, _ = page_tables(client.get(reverse("reports:retention"), query))

    _, sections = csv_sections(export(client, "reports:retention_export", "csv", query))
    sheets = xlsx_sections(export(client, "reports:retention_export", "xlsx", query))

    for key, caption in RETENTION_TABLES.items():
        assert figures_of(sections[caption][1:]) == figures_of(page[key][1:]), caption
        assert figures_of(sheets[caption][1][1:]) == figures_of(page[key][1:]), caption


def test_overview_exports_hold_the_pages_numbers(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)
    page, figures = page_tables(client.get(reverse("reports:overview")))

    _, sections = csv_sections(export(client, "reports:overview_export", "csv", {}))
    sheets = xlsx_sections(export(client, "reports:overview_export", "xlsx", {}))

    assert as_dicts(sections["Facilitators' load"]) == as_dicts(page["load"])
    assert as_dicts(sheets["Facilitators' load"][1]) == {
        name: {label: number(value) for label, value in row.items()}
        for name, row in as_dicts(page["load"]).items()
    }
    assert {row[0]: row[1] for row in sections["At a glance"][1:]} == figures["figures"]


def test_dates_are_dates_in_the_spreadsheet(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)

    sheets = xlsx_sections(export(client, "reports:attendance_export", "xlsx", PERIOD_QUERY))

    first_week = sheets["Attendance by week"][1][1][0]
    assert first_week.date() == date(2025, 2, 24)


# What a spreadsheet would run if a cell began with it: =, + and - start a formula, @ a
# function call, and a leading tab or carriage return hides the = behind it from a naive
# check. Each name comes back with a leading apostrophe, as text.
FORMULA_NAMES = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _formula_groups():
    """One group per dangerous name, each with someone who joined today."""
    groups = []
    for index, name in enumerate(FORMULA_NAMES):
        group = SupportGroupFactory(name=name, slug=f"formula-{index}")
        MembershipFactory(group=group)
        groups.append(group)
    return groups


def _today_query(**extra) -> dict:
    # The factories' members joined today, which can be a day earlier in New York or later
    # in Rome than in UTC: the period takes in both.
    today = timezone.now().date()
    return {
        "period": "custom",
        "start": (today - timedelta(days=30)).isoformat(),
        "end": (today + timedelta(days=1)).isoformat(),
        **extra,
    }


def _csv_first_cells(response) -> list[str]:
    rows = csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))
    return [row[0] for row in rows if row]


def _xlsx_cells(response) -> list:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))  # formulas kept as such
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def _as_xml_reads(text: str) -> str:
    """XML turns a carriage return in a text cell into a line feed when it is read back."""
    return text.replace("\r", "\n")


def test_a_name_that_looks_like_a_formula_is_exported_as_text(client, coordinator_with_mfa):
    _formula_groups()
    log_in(client, coordinator_with_mfa)
    query = _today_query()

    csv_cells = _csv_first_cells(export(client, "reports:retention_export", "csv", query))
    xlsx_cells = _xlsx_cells(export(client, "reports:retention_export", "xlsx", query))

    by_value = {cell.value: cell for cell in xlsx_cells if cell.value is not None}
    for name in FORMULA_NAMES:
        assert "'" + name in csv_cells, f"{name!r} not neutralised in CSV"
        assert name not in csv_cells
        cell = by_value.get(_as_xml_reads("'" + name))
        assert cell is not None, f"{name!r} not neutralised in XLSX"
        assert cell.data_type == "s" and isinstance(cell.value, str)
        assert _as_xml_reads(name) not in by_value
    assert not [cell.coordinate for cell in xlsx_cells if cell.data_type == "f"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_formula_name_in_the_header_block_is_exported_as_text(client, coordinator_with_mfa, fmt):
    group = _formula_groups()[0]
    log_in(client, coordinator_with_mfa)

    response = export(client, "reports:attendance_export", fmt, _today_query(group=str(group.pk)))

    if fmt == "csv":
        header, _ = csv_sections(response)
        assert header["Group"] == "'" + group.name
    else:
        for sheet_header, _ in xlsx_sections(response).values():
            assert sheet_header["Group"] == "'" + group.name


def test_control_without_neutralising_the_names_become_formulas(
    client, coordinator_with_mfa, monkeypatch
):
    """The test above can fail: with the apostrophe switched off, the same export holds
    the raw names, and the spreadsheet reads the first one as a formula."""
    monkeypatch.setattr(exports, "_safe_text", lambda value: value)
    _formula_groups()
    log_in(client, coordinator_with_mfa)
    query = _today_query()

    csv_cells = _csv_first_cells(export(client, "reports:retention_export", "csv", query))
    xlsx_cells = _xlsx_cells(export(client, "reports:retention_export", "xlsx", query))

    assert set(FORMULA_NAMES) <= set(csv_cells)
    texts = {cell.value for cell in xlsx_cells if cell.data_type == "s"}
    assert {_as_xml_reads(name) for name in FORMULA_NAMES[1:]} <= texts
    formulas = [cell.value for cell in xlsx_cells if cell.data_type == "f"]
    assert FORMULA_NAMES[0] in formulas


def test_xlsx_sheets_keep_their_headings_in_view_and_dates_as_dates(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.harbour.pk}
    response = export(client, "reports:attendance_export", "xlsx", query)
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook[ATTENDANCE_TABLES["meetings"]]

    headings = (
        next(row for row in sheet.iter_rows() if row[0].value == ATTENDANCE_TABLES["meetings"])[
            0
        ].row
        + 1
    )
    assert sheet.freeze_panes == f"B{headings + 1}"
    assert sheet.cell(row=1, column=1).font.bold
    assert all(cell.font.bold for cell in sheet[headings] if cell.value is not None)
    first_meeting = sheet.cell(row=headings + 1, column=1)
    assert isinstance(first_meeting.value, datetime)
    assert first_meeting.number_format == "yyyy-mm-dd hh:mm"
    assert sheet.column_dimensions["A"].width == 34
