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


def _write_row(sheet, row_number: int, values, *, bold: bool = False) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row_number, column=column, value=_safe_text(value))
        if isinstance(value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        if bold:
            cell.font = Font(bold=True)


def xlsx_bytes(document: Document) -> bytes:
    """One sheet per table, each opening with the same header block."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for table in document.tables:
        sheet = workbook.create_sheet(_sheet_title(table.caption, taken))
        row_number = 1
        _write_row(sheet, row_number, [document.title], bold=True)
        for line in _header_block(document):
            row_number += 1
            _write_row(sheet, row_number, line)
        row_number += 2
        _write_row(sheet, row_number, [table.caption], bold=True)
        row_number += 1
        header = table.export_header()
        _write_row(sheet, row_number, header, bold=True)
        sheet.freeze_panes = sheet.cell(row=row_number + 1, column=2)
        for values in table.export_rows():
            row_number += 1
            _write_row(sheet, row_number, values)
        if not table.rows and table.empty:
            _write_row(sheet, row_number + 1, [table.empty])
        sheet.column_dimensions["A"].width = 34
        for index in range(2, len(header) + 1):
            sheet.column_dimensions[get_column_letter(index)].width = 16
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
