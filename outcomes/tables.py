"""Report tables as data: the page, the CSV and the XLSX are all drawn from these objects,
after suppression, so they can only ever show the same numbers."""

import html
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from django.utils import formats, numberformat
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from outcomes.suppression import SUPPRESSED


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"  # a day
    WEEK = "week"  # the Monday a week starts on
    MONTH = "month"  # the first day of a month
    DATETIME = "datetime"  # local wall-clock time, already converted
    COUNT = "count"  # meetings or groups: never hidden
    PEOPLE = "people"  # a count of people: hidden under five
    AVERAGE = "average"  # people per meeting: hidden under five, or with its count
    PERCENT = "percent"  # a share of people: hidden with its numerator or denominator

    @property
    def is_people(self) -> bool:
        return self in (Kind.PEOPLE, Kind.AVERAGE)

    @property
    def is_number(self) -> bool:
        return self in (Kind.COUNT, Kind.PEOPLE, Kind.AVERAGE, Kind.PERCENT)

    @property
    def may_be_hidden(self) -> bool:
        """People counts, averages and shares: an export gives each a flag column."""
        return self in (Kind.PEOPLE, Kind.AVERAGE, Kind.PERCENT)


NOT_APPLICABLE = "—"


@dataclass
class Column:
    key: str
    label: str
    kind: Kind = Kind.PEOPLE
    depends_on: tuple[str, ...] = ()
    missing: str = NOT_APPLICABLE  # shown when there is no figure (not the same as hidden)
    outcome: bool = False  # a health figure (survey scores): suppressed in every view


@dataclass
class Row:
    header: object  # text, or a date for a week or month
    values: dict = field(default_factory=dict)
    url: str = ""


@dataclass
class DisplayCell:
    text: str
    label: str
    kind: str
    suppressed: bool = False
    missing: bool = False

    @property
    def css(self) -> str:
        return cell_css(self.kind, suppressed=self.suppressed, missing=self.missing)


def cell_css(kind: str, *, suppressed: bool = False, missing: bool = False) -> str:
    classes = [] if kind == Kind.TEXT else ["num"]
    if suppressed:
        classes.append("suppressed")
    if missing:
        classes.append("missing")
    return " ".join(classes)


@dataclass
class DisplayRow:
    header: str
    url: str
    cells: list[DisplayCell]
    is_total: bool = False


@dataclass
class Table:
    key: str
    caption: str
    header_column: Column
    columns: list[Column]
    rows: list[Row]
    total: Row | None = None
    empty: str = ""  # said when there are no rows
    csv_url: str = ""  # where the page offers this table alone as a CSV

    def row(self, ref: int | str) -> Row:
        return self.total if ref == "total" else self.rows[ref]

    def addressed_rows(self):
        yield from enumerate(self.rows)
        if self.total is not None:
            yield "total", self.total

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    # -- for templates ----------------------------------------------------------------

    def display_rows(self) -> list[DisplayRow]:
        labels = [(column, str(column.label)) for column in self.columns]
        shown = [
            DisplayRow(
                header=display_header(row.header, self.header_column.kind),
                url=row.url,
                cells=[
                    display_cell(row.values.get(column.key), column, label)
                    for column, label in labels
                ],
            )
            for row in self.rows
        ]
        if self.total is not None:
            shown.append(
                DisplayRow(
                    header=str(self.total.header),
                    url="",
                    cells=[
                        display_cell(self.total.values.get(column.key), column, label)
                        for column, label in labels
                    ],
                    is_total=True,
                )
            )
        return shown

    def body_html(self) -> SafeString:
        """The <tr> rows of display_rows() as HTML, drawn in one pass: a programme's tables
        run to a thousand rows of a dozen cells, too many for a template tag per cell."""
        numbers = NumberFormat()
        suppressed = html.escape(str(SUPPRESSED))
        cells = []
        for column in self.columns:
            opening = f'<td data-label="{html.escape(str(column.label))}" class="'
            cells.append(
                (
                    column.key,
                    column.kind,
                    f'{opening}{cell_css(column.kind)}">',
                    f'{opening}{cell_css(column.kind, suppressed=True)}">{suppressed}</td>',
                    f'{opening}{cell_css(column.kind, missing=True)}">'
                    f"{html.escape(str(column.missing))}</td>",
                )
            )
        header_kind = self.header_column.kind
        lines = []
        for row, is_total in self._rows_for_display():
            if is_total:
                parts = [f'<tr class="report-total"><th scope="row">{html.escape(str(row.header))}']
            else:
                header = html.escape(display_header(row.header, header_kind))
                if row.url:
                    header = f'<a href="{html.escape(row.url)}">{header}</a>'
                parts = [f'<tr><th scope="row">{header}']
            parts.append("</th>")
            values = row.values
            for key, kind, opening, hidden, missing in cells:
                value = values.get(key)
                if value is SUPPRESSED:
                    parts.append(hidden)
                elif value is None:
                    parts.append(missing)
                else:
                    parts.append(f"{opening}{html.escape(numbers.format(value, kind))}</td>")
            parts.append("</tr>")
            lines.append("".join(parts))
        return mark_safe("\n".join(lines))  # noqa: S308 - every value above is escaped

    def _rows_for_display(self):
        for row in self.rows:
            yield row, False
        if self.total is not None:
            yield self.total, True

    # -- for exports ------------------------------------------------------------------
    # A spreadsheet computes on these: a hidden figure is an empty cell, and the column
    # after every figure that may be hidden says, 1 or 0, whether it was.

    def export_header(self) -> list[str]:
        header = [str(self.header_column.label)]
        for column in self.columns:
            header.append(export_label(column))
            if column.kind.may_be_hidden:
                header.append(hidden_label(column))
        return header

    def export_rows(self) -> list[list]:
        rows = [
            [export_header(row.header, self.header_column.kind), *self._export_values(row)]
            for row in self.rows
        ]
        if self.total is not None:
            rows.append([str(self.total.header), *self._export_values(self.total)])
        return rows

    def _export_values(self, row: Row) -> list:
        values = []
        for column in self.columns:
            value = row.values.get(column.key)
            values.append(export_value(value, column))
            if column.kind.may_be_hidden:
                values.append(int(value is SUPPRESSED))
        return values


def export_label(column: Column) -> str:
    return f"{column.label} (%)" if column.kind == Kind.PERCENT else str(column.label)


def hidden_label(column: Column) -> str:
    return _("Hidden: %(figure)s") % {"figure": column.label}


def display_header(value, kind: Kind) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        if kind == Kind.MONTH:
            return formats.date_format(value, "YEAR_MONTH_FORMAT")
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, datetime):
        return formats.date_format(value, "DATETIME_FORMAT")
    return str(value)


def export_header(value, kind: Kind):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    return str(value)


def display_cell(value, column: Column, label: str | None = None) -> DisplayCell:
    label = str(column.label) if label is None else label
    if value is SUPPRESSED:
        return DisplayCell(text=str(SUPPRESSED), label=label, kind=column.kind, suppressed=True)
    if value is None:
        return DisplayCell(text=str(column.missing), label=label, kind=column.kind, missing=True)
    return DisplayCell(text=format_value(value, column.kind), label=label, kind=column.kind)


class NumberFormat:
    """format_value() with the active language's separators looked up once, for a table."""

    def __init__(self) -> None:
        self.decimal = formats.get_format("DECIMAL_SEPARATOR")
        self.thousands = formats.get_format("THOUSAND_SEPARATOR")
        self.grouping = formats.get_format("NUMBER_GROUPING")

    def _number(self, value, decimal_pos=None, force_grouping=False) -> str:
        if (
            type(value) is int
            and decimal_pos is None
            and force_grouping
            and self.grouping == 3  # thousands, as Python's "," groups them
        ):
            text = f"{value:,}"
            return text if self.thousands == "," else text.replace(",", self.thousands)
        return numberformat.format(
            value,
            self.decimal,
            decimal_pos,
            self.grouping,
            self.thousands,
            force_grouping=force_grouping,
            use_l10n=True,
        )

    def format(self, value, kind: Kind) -> str:
        if kind in (Kind.COUNT, Kind.PEOPLE):
            return self._number(value, force_grouping=True)
        if kind == Kind.AVERAGE:
            return self._number(value, decimal_pos=1, force_grouping=True)
        if kind == Kind.PERCENT:
            return f"{self._number(value, decimal_pos=0)}%"
        return format_value(value, kind)


def format_value(value, kind: Kind) -> str:
    if kind in (Kind.COUNT, Kind.PEOPLE):
        return formats.number_format(value, force_grouping=True)
    if kind == Kind.AVERAGE:
        return formats.number_format(value, decimal_pos=1, force_grouping=True)
    if kind == Kind.PERCENT:
        return f"{formats.number_format(value, decimal_pos=0)}%"
    if kind in (Kind.DATE, Kind.WEEK, Kind.MONTH, Kind.DATETIME):
        return display_header(value, kind)
    return str(value)


def export_value(value, column: Column):
    """What a spreadsheet cell holds: the number itself, nothing for a hidden one (its
    flag column says so)."""
    if value is SUPPRESSED:
        return None
    if value is None:
        return ""
    if column.kind == Kind.AVERAGE:
        return round(float(value), 1)
    if column.kind in (Kind.COUNT, Kind.PEOPLE, Kind.PERCENT):
        return int(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return value
    return str(value)


@dataclass
class Document:
    """One report as it is shown and exported: its header block, then its tables."""

    title: str
    filename: str
    header: list[tuple[str, str]]
    tables: list[Table]

    def table(self, key: str) -> Table | None:
        return next((table for table in self.tables if table.key == key), None)


@dataclass
class FigureList:
    """Figures of different kinds, one a row (a summary): read like a two-column table."""

    key: str
    caption: str
    items: list[tuple[Column, object]]
    empty: str = ""
    csv_url: str = ""

    header_column = Column("figure", _("Figure"), Kind.TEXT)
    columns = (Column("value", _("Value"), Kind.TEXT),)
    total = None

    @property
    def rows(self) -> list[tuple[Column, object]]:
        return self.items

    def display_rows(self) -> list[DisplayRow]:
        return [
            DisplayRow(header=str(column.label), url="", cells=[display_cell(value, column)])
            for column, value in self.items
        ]

    def export_header(self) -> list[str]:
        value = self.columns[0]
        return [str(self.header_column.label), str(value.label), hidden_label(value)]

    def export_rows(self) -> list[list]:
        return [
            [export_label(column), export_value(value, column), int(value is SUPPRESSED)]
            for column, value in self.items
        ]
