"""Charts drawn on the server as SVG: no script, no CDN, no inline styles (CSS classes only).

A chart is a horizontal bar chart, one bar a row, so that it reads on a 390px phone as well
as on a desktop (the labels never crowd under the bars). The numbers come from a report
table after suppression, and the page shows that same table beside the chart.
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from outcomes.suppression import SUPPRESSED
from outcomes.tables import Column, display_cell, display_header

WIDTH = 400
LABEL_WIDTH = 118
VALUE_ROOM = 84  # room right of the longest bar for its number
ROW_HEIGHT = 30
BAR_HEIGHT = 18
TOP = 6
MAX_LABEL = 20


@dataclass(frozen=True)
class Bar:
    label: str
    value: object  # a number, SUPPRESSED, or None
    text: str  # the number as the table beside shows it


def bars_from(table, column_key: str) -> list[Bar]:
    """One bar per row of `table` (total row excluded) for the column `column_key`."""
    column: Column = table.column(column_key)
    bars = []
    for row in table.rows:
        value = row.values.get(column_key)
        bars.append(
            Bar(
                label=display_header(row.header, table.header_column.kind),
                value=value,
                text=display_cell(value, column).text,
            )
        )
    return bars


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def bar_chart(*, chart_id: str, title: str, description: str, bars: list[Bar], scale=None):
    """An accessible SVG bar chart; `scale` is the value of a full bar (the largest if None)."""
    numbers = [bar.value for bar in bars if isinstance(bar.value, int | float)]
    full = scale or max(numbers, default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    height = TOP * 2 + ROW_HEIGHT * max(len(bars), 1)
    rows = []
    for index, bar in enumerate(bars):
        top = TOP + index * ROW_HEIGHT
        middle = top + ROW_HEIGHT / 2
        label = format_html(
            '<text class="chart-label" x="{}" y="{}" dominant-baseline="middle" '
            'text-anchor="end">{}</text>',
            LABEL_WIDTH - 8,
            f"{middle:.1f}",
            _short(bar.label),
        )
        if isinstance(bar.value, int | float):
            length = max(room * float(bar.value) / full, 0)
            shape = format_html(
                '<rect class="chart-bar" x="{}" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<text class="chart-value" x="{}" y="{}" dominant-baseline="middle">{}</text>',
                LABEL_WIDTH,
                f"{middle - BAR_HEIGHT / 2:.1f}",
                f"{length:.1f}",
                BAR_HEIGHT,
                f"{LABEL_WIDTH + length + 6:.1f}",
                f"{middle:.1f}",
                bar.text,
            )
        else:
            css = "chart-value chart-suppressed" if bar.value is SUPPRESSED else "chart-value"
            shape = format_html(
                '<text class="{}" x="{}" y="{}" dominant-baseline="middle">{}</text>',
                css,
                LABEL_WIDTH + 6,
                f"{middle:.1f}",
                bar.text,
            )
        rows.append(format_html('<g class="chart-row">{}{}</g>', label, shape))
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" focusable="false" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        '<line class="chart-axis" x1="{}" y1="0" x2="{}" y2="{}"></line>{}</svg>',
        WIDTH,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        LABEL_WIDTH,
        LABEL_WIDTH,
        height,
        format_html_join("", "{}", ((row,) for row in rows)) if rows else SafeString(""),
    )
