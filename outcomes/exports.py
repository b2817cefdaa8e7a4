"""CSV and XLSX of a report Document: the page's tables, after suppression, cell for cell.

Every export starts with a header block: the report, the period, the filters, when it was
produced, and how small numbers are shown. A text cell that a spreadsheet would take for a
formula (=, +, -, @) is written with a leading apostrophe.
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


def _header_block(document: Document) -> list[list[str]]:
    return [[label, value] for label, value in document.header]


def csv_bytes(document: Document) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([document.title])
    for line in _header_block(document):
        writer.writerow([_safe_text(cell) for cell in line])
    for table in document.tables:
        writer.writerow([])
        writer.writerow([_safe_text(table.caption)])
        writer.writerow([_safe_text(cell) for cell in table.export_header()])
        for row in table.export_rows():
            writer.writerow([_csv_value(cell) for cell in row])
        if not table.rows and table.empty:
            writer.writerow([_safe_text(table.empty)])
    # A byte-order mark, so that spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_title(caption: str, taken: set[str]) -> str:
    base = caption.translate(SHEET_FORBIDDEN).strip()[:28] or "Sheet"
    title, number = base, 2
    while title.lower() in taken:
        title = f"{base[:26]} {number}"
        number += 1
    taken.add(title.lower())
    return title


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
    """One sheet per table, each opening with the same header block. The workbook is
    written row by row (openpyxl's write-only mode), which keeps a large report's export
    to a fraction of the time and memory of building every cell first."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    header_block = _header_block(document)
    for table in document.tables:
        sheet = workbook.create_sheet(_sheet_title(table.caption, taken))
        header = table.export_header()
        # Title, header block, a blank row, the caption and the column headings come first;
        # panes and widths have to be set before the first row is written.
        heading_row = 1 + len(header_block) + 2 + 1
        sheet.freeze_panes = f"B{heading_row + 1}"
        sheet.column_dimensions["A"].width = 34
        for index in range(2, len(header) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 16
        sheet.append(_row(sheet, [document.title], bold=True))
        for line in header_block:
            sheet.append(_row(sheet, line))
        sheet.append([])
        sheet.append(_row(sheet, [table.caption], bold=True))
        sheet.append(_row(sheet, header, bold=True))
        for values in table.export_rows():
            sheet.append(_row(sheet, values))
        if not table.rows and table.empty:
            sheet.append(_row(sheet, [table.empty]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(document: Document, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(xlsx_bytes(document), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(csv_bytes(document), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{document.filename}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response


def small_numbers_note() -> str:
    return _(
        "“fewer than 5” stands for every figure hidden for privacy: a figure about fewer "
        "than 5 people (zero included), or a larger one hidden with it so that the small "
        "one can't be worked out from the totals beside it."
    )
