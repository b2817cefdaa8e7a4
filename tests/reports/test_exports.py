"""CSV and XLSX exports: they open with csv and openpyxl, hold the page's numbers (save the
small ones, hidden because an export is meant for sharing), and a spreadsheet computes on
them: one table per CSV, a hidden figure an empty cell with a 1 in its flag column."""

import csv
import io
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from outcomes import exports
from outcomes.exports import sheet_title
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.reports.conftest import (
    PERIOD_QUERY,
    SUPPRESSED_TEXT,
    as_dicts,
    csv_about,
    csv_rows,
    csv_table,
    number,
    page_tables,
    sheet_of,
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


def assert_page_figures_or_hidden(page_rows, export_rows, where: str) -> int:
    """The export holds the page's figure in every cell, or hides it; returns how many
    it hides."""
    assert export_rows[0] == page_rows[0], where
    hidden = 0
    for page_row, export_row in zip(
        figures_of(page_rows[1:]), figures_of(export_rows[1:]), strict=True
    ):
        for shown, exported in zip(page_row, export_row, strict=True):
            if exported == SUPPRESSED_TEXT:
                hidden += 1
                assert shown not in ("", SUPPRESSED_TEXT), where
            else:
                assert exported == shown, where
    return hidden


@pytest.mark.parametrize("group", [None, "harbour"])
def test_attendance_exports_hold_the_pages_numbers_save_the_small_ones(
    client, programme, coordinator_with_mfa, group
):
    log_in(client, coordinator_with_mfa)
    query = dict(PERIOD_QUERY)
    if group:
        query["group"] = getattr(programme, group).pk
    page, figures = page_tables(client.get(reverse("reports:attendance"), query))
    _, sheets = xlsx_sections(export(client, "reports:attendance_export", "xlsx", query))

    hidden = 0
    for key, caption in ATTENDANCE_TABLES.items():
        if key not in page:
            assert group is None and key == "meetings"
            continue
        from_csv = csv_table(client, "reports:attendance_export", query, key)
        from_xlsx = sheets[sheet_of(caption)]
        hidden += assert_page_figures_or_hidden(page[key], from_csv, f"csv {caption}")
        assert figures_of(from_xlsx[1:]) == figures_of(from_csv[1:]), caption
    assert hidden > 0  # the data set has small cells: the export hides them
    summary = csv_table(client, "reports:attendance_export", query, "summary")
    page_summary = [
        ["Figure", "Value"],
        *([label, value] for label, value in figures["summary"].items()),
    ]
    assert_page_figures_or_hidden(page_summary, summary, "summary")
    assert number(figures["summary"]["Meetings held"]) == (4 if group else 6)


def test_export_about_names_period_filters_when_and_that_small_numbers_are_hidden(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.shore.pk, "format": "in-person"}

    response = export(client, "reports:attendance_export", "csv", {**query, "table": "about"})

    about = csv_about(response)
    assert about["Report"] == "Attendance report"
    assert about["Period"] == "1 March 2025 – 30 April 2025 (Dates I choose)"
    assert about["Group"] == "Other Shore"
    assert about["Format"] == "In person"
    assert about["Access"] == "Every group in the programme"
    assert about["Produced"].endswith("(Europe/Rome)")
    assert about["Small numbers"].startswith("Hidden in this export")
    assert response["Content-Disposition"] == (
        'attachment; filename="attendance-2025-03-01-to-2025-04-30-about.csv"'
    )
    groups = export(client, "reports:attendance_export", "csv", {**query, "table": "groups"})
    assert groups["Content-Disposition"].endswith('-groups.csv"')
    xlsx = export(client, "reports:attendance_export", "xlsx", query)
    assert xlsx["Content-Disposition"].endswith('.xlsx"')
    sheet_about, _ = xlsx_sections(xlsx)
    assert sheet_about["Period"] == about["Period"]
    assert sheet_about["Group"] == "Other Shore"
    assert sheet_about["Small numbers"] == about["Small numbers"]


def test_the_page_says_its_counts_are_exact_and_the_downloads_hide_small_ones(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)

    body = client.get(reverse("reports:attendance"), PERIOD_QUERY).text

    assert "Exact on this page" in body
    assert "Downloads for sharing" in body
    assert "Hidden in this export" not in body


def test_a_csv_holds_one_table_that_a_spreadsheet_computes_on(
    client, programme, coordinator_with_mfa
):
    """Headings on the first line, then rows of numbers: a hidden figure is an empty cell
    and its flag column holds 1, never words in a number column."""
    log_in(client, coordinator_with_mfa)
    response = export(
        client, "reports:attendance_export", "csv", {**PERIOD_QUERY, "table": "groups"}
    )

    header, *body = csv_rows(response)

    assert header[:3] == ["Group", "Meetings held", "Hidden: Meetings held"] or header[:2] == [
        "Group",
        "Meetings held",
    ]
    assert "Hidden: Attendances" in header
    assert len(body) == 3  # two groups and the total row
    flagged = 0
    for row in body:
        for label, cell in zip(header[1:], row[1:], strict=True):
            if label.startswith("Hidden: "):
                assert cell in ("0", "1"), label
                flagged += cell == "1"
            else:
                assert cell == "" or isinstance(number(cell), int | float), (label, cell)
    assert flagged > 0
    assert SUPPRESSED_TEXT not in response.content.decode("utf-8-sig")


def test_an_unknown_table_is_not_found(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)

    response = client.get(
        reverse("reports:attendance_export", kwargs={"fmt": "csv"}), {"table": "people"}
    )

    assert response.status_code == 404


def test_retention_exports_hold_the_pages_numbers_save_the_small_ones(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)
    query = {"period": "past-12-months"}
    page, _ = page_tables(client.get(reverse("reports:retention"), query))
    _, sheets = xlsx_sections(export(client, "reports:retention_export", "xlsx", query))

    for key, caption in RETENTION_TABLES.items():
        from_csv = csv_table(client, "reports:retention_export", query, key)
        assert_page_figures_or_hidden(page[key], from_csv, caption)
        assert figures_of(sheets[sheet_of(caption)][1:]) == figures_of(from_csv[1:]), caption


def test_overview_exports_hold_the_pages_numbers(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)
    page, figures = page_tables(client.get(reverse("reports:overview")))

    load = csv_table(client, "reports:overview_export", {}, "load")
    _, sheets = xlsx_sections(export(client, "reports:overview_export", "xlsx", {}))

    assert as_dicts(load) == as_dicts(page["load"])
    assert as_dicts(sheets["Facilitators' load"]) == {
        name: {label: number(value) for label, value in row.items()}
        for name, row in as_dicts(page["load"]).items()
    }
    glance = csv_table(client, "reports:overview_export", {}, "figures")
    on_page = [
        ["Figure", "Value"],
        *([label, value] for label, value in figures["figures"].items()),
    ]
    # No request has waited: the page says 0, the export hides the 0 (it counts people).
    assert assert_page_figures_or_hidden(on_page, glance, "at a glance") == 1
    assert figures["figures"]["Requests to join waiting more than 7 days"] == "0"


def test_dates_are_dates_in_the_spreadsheet(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)

    _, sheets = xlsx_sections(export(client, "reports:attendance_export", "xlsx", PERIOD_QUERY))

    first_week = sheets["Attendance by week"][1][0]
    assert first_week.date() == date(2025, 2, 24)


@pytest.mark.parametrize("language", ["en", "it"])
def test_every_sheet_name_fits_excels_31_characters(
    client, programme, coordinator_with_mfa, language
):
    log_in(client, coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.harbour.pk}
    with translation.override(language):
        response = client.get(
            reverse("reports:attendance_export", kwargs={"fmt": "xlsx"}),
            query,
            HTTP_ACCEPT_LANGUAGE=language,
        )
    titles = openpyxl.load_workbook(io.BytesIO(response.content)).sheetnames

    assert len(titles) == 5  # about, summary, groups, trend, meetings
    assert all(0 < len(title) <= 31 for title in titles), titles
    assert len({title.lower() for title in titles}) == len(titles)


def test_a_long_caption_is_cut_at_a_word_and_twins_are_numbered():
    taken: set[str] = set()
    caption = "Retention by the month people joined the programme"

    first, second = sheet_title(caption, taken), sheet_title(caption, taken)

    assert first == "Retention by the month people"
    assert second == "Retention by the month people 2"
    assert max(len(first), len(second)) <= 31
    assert len(sheet_title("x" * 40, set())) == 31
    assert sheet_title("Week [1]: a/b", set()) == "Week 1 a b"


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


def _group_table_csv(client, query):
    return export(client, "reports:retention_export", "csv", {**query, "table": "retention_groups"})


def test_a_name_that_looks_like_a_formula_is_exported_as_text(client, coordinator_with_mfa):
    _formula_groups()
    log_in(client, coordinator_with_mfa)
    query = _today_query()

    csv_cells = _csv_first_cells(_group_table_csv(client, query))
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
    query = _today_query(group=str(group.pk))

    if fmt == "csv":
        response = export(client, "reports:attendance_export", fmt, {**query, "table": "about"})
        assert csv_about(response)["Group"] == "'" + group.name
    else:
        about, _ = xlsx_sections(export(client, "reports:attendance_export", fmt, query))
        assert about["Group"] == "'" + group.name


def test_control_without_neutralising_the_names_become_formulas(
    client, coordinator_with_mfa, monkeypatch
):
    """The test above can fail: with the apostrophe switched off, the same export holds
    the raw names, and the spreadsheet reads the first one as a formula."""
    monkeypatch.setattr(exports, "_safe_text", lambda value: value)
    _formula_groups()
    log_in(client, coordinator_with_mfa)
    query = _today_query()

    csv_cells = _csv_first_cells(_group_table_csv(client, query))
    xlsx_cells = _xlsx_cells(export(client, "reports:retention_export", "xlsx", query))

    assert set(FORMULA_NAMES) <= set(csv_cells)
    texts = {cell.value for cell in xlsx_cells if cell.data_type == "s"}
    assert {_as_xml_reads(name) for name in FORMULA_NAMES[1:]} <= texts
    formulas = [cell.value for cell in xlsx_cells if cell.data_type == "f"]
    assert FORMULA_NAMES[0] in formulas


def test_xlsx_sheets_start_with_their_headings_kept_in_view_and_dates_as_dates(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.harbour.pk}
    response = export(client, "reports:attendance_export", "xlsx", query)
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook[ATTENDANCE_TABLES["meetings"]]

    assert workbook.sheetnames[0] == "About this report"
    assert sheet.freeze_panes == "B2"
    assert sheet.cell(row=1, column=1).value == "Meeting"
    assert all(cell.font.bold for cell in sheet[1] if cell.value is not None)
    first_meeting = sheet.cell(row=2, column=1)
    assert isinstance(first_meeting.value, datetime)
    assert first_meeting.number_format == "yyyy-mm-dd hh:mm"
    assert sheet.column_dimensions["A"].width == 34
