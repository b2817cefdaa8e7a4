"""CSV and XLSX of a report Document: the page's tables, after suppression, cell for cell.

A CSV holds one table, its headings on the first line; the XLSX holds every table, a sheet
each, after a sheet about the report: the period, the filters, when it was produced, and
how small numbers are hidden (exports are meant for sharing, so they are hidden there:
an empty cell, and a 1 in the flag column beside it). A text cell that a spreadsheet
would take for a formula (=, +, -, @) is written with a leading apostrophe.
"""

import csv
import io
from datetime import date, datetime

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from outcomes.tables import Document

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_FORBIDDEN = str.maketrans({char: " " for char in "[]:*?/\\"})
SHEET_TITLE_MAX = 31  # Excel refuses a longer sheet name
ABOUT = "about"


def _safe_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return _safe_text(value)


def about_rows(document: Document) -> list[list[str]]:
    """What the export is: the report, then its header block (period, filters, when, how
    small numbers are shown), as two columns."""
    return [[_("Report"), document.title], *([label, value] for label, value in document.header)]


def csv_bytes(document: Document, table_key: str | None = None) -> bytes:
    """One table per file, its column headings on the first line, so that a spreadsheet
    or a script reads it as it is. `table_key` "about" gives the header block instead."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if table_key == ABOUT:
        writer.writerow([_("About this report"), ""])
        for line in about_rows(document):
            writer.writerow([_safe_text(cell) for cell in line])
    else:
        table = document.table(table_key) if table_key else document.tables[0]
        writer.writerow([_safe_text(cell) for cell in table.export_header()])
        for row in table.export_rows():
            writer.writerow([_csv_value(cell) for cell in row])
    # A byte-order mark, so that spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def sheet_title(caption: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: at most 31 characters, cut at a word where it can be,
    none of []:*?/\\, and unique in the workbook (case aside)."""
    base = " ".join(caption.translate(SHEET_FORBIDDEN).split()).strip("'") or "Sheet"
    base = _cut(base, SHEET_TITLE_MAX)
    title, number = base, 2
    while title.lower() in taken:
        suffix = f" {number}"
        title = _cut(base, SHEET_TITLE_MAX - len(suffix)) + suffix
        number += 1
    taken.add(title.lower())
    return title


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    words = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else ""
    return (words if len(words) >= limit // 2 else text[:limit]).rstrip()


DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
BOLD = Font(bold=True)


def _row(sheet, values, *, bold: bool = False) -> list:
    """A row for a write-only sheet: plain values as they are, a styled cell where a value
    needs a format (dates) or the row is a heading."""
    row = []
    for value in values:
        value = _safe_text(value)
        if not bold and not isinstance(value, date):
            row.append(value)
            continue
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
        if bold:
            cell.font = BOLD
        row.append(cell)
    return row


def xlsx_bytes(document: Document) -> bytes:
    """A first sheet about the report (its header block), then one sheet per table, each
    starting at A1 with its column headings. The workbook is written row by row
    (openpyxl's write-only mode), which keeps a large report's export to a fraction of
    the time and memory of building every cell first."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    about = workbook.create_sheet(sheet_title(str(_("About this report")), taken))
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 90
    for line in about_rows(document):
        about.append(_row(about, line))
    for table in document.tables:
        sheet = workbook.create_sheet(sheet_title(table.caption, taken))
        header = table.export_header()
        # Panes and widths have to be set before the first row is written.
        sheet.freeze_panes = "B2"
        sheet.column_dimensions["A"].width = 34
        for index in range(2, len(header) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 16
        sheet.append(_row(sheet, header, bold=True))
        for values in table.export_rows():
            sheet.append(_row(sheet, values))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(document: Document, fmt: str, table_key: str | None = None) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(xlsx_bytes(document), content_type=XLSX_TYPE)
        filename = f"{document.filename}.xlsx"
    else:
        response = HttpResponse(csv_bytes(document, table_key), content_type=CSV_TYPE)
        key = table_key or document.tables[0].key
        filename = f"{document.filename}-{key.replace('_', '-')}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def export_table_keys(document: Document) -> set[str]:
    return {table.key for table in document.tables} | {ABOUT}


def small_numbers_note(*, shared: bool) -> str:
    if shared:
        return _(
            "Hidden in this export, which is meant for sharing: every figure about fewer "
            "than 5 people (zero included) is left empty, and so is a larger one hidden "
            "with it so that the small one can't be worked out from the totals beside it. "
            "The column after each figure says 1 where it was hidden."
        )
    return _(
        "Exact on this page: these counts come from registers and rosters you can "
        "already see. The downloads are meant for sharing and hide every figure about "
        "fewer than 5 people (and any figure that would give one away). Outcome figures "
        "from surveys are hidden everywhere."
    )
