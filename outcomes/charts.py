"""Charts drawn on the server as SVG: no script, no CDN, no inline styles (CSS classes only).

A chart is a horizontal bar chart, one bar a row, each under its label, so that it reads on
a 390px phone as well as on a desktop: labels wrap between words and are never cut short.
The numbers come from a report table (after suppression, where it applies), and the page
shows that same table beside the chart.
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from outcomes.suppression import SUPPRESSED
from outcomes.tables import Column, display_cell, display_header

WIDTH = 400
VALUE_ROOM = 84  # room right of the longest bar for its number
LINE_HEIGHT = 16  # one line of a label
BAR_HEIGHT = 18
GAP = 12  # between one bar and the next label
TOP = 4
LINE_CHARS = 48  # a label wraps at a word past this; it is never cut short


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


def label_lines(label: str) -> list[str]:
    """The label over as many lines as it needs, broken between words: never clipped."""
    lines, line = [], ""
    words = [
        word[start : start + LINE_CHARS]
        for word in label.split()
        for start in range(0, len(word), LINE_CHARS)
    ]
    for word in words:
        if line and len(line) + 1 + len(word) > LINE_CHARS:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else [""]


def bar_chart(*, chart_id: str, title: str, description: str, bars: list[Bar], scale=None):
    """An accessible SVG bar chart; `scale` is the value of a full bar (the largest if None).

    Each bar has its label on the line(s) above it, across the whole width, so that a long
    group name or an Italian date is read whole on a phone as on a desktop."""
    numbers = [bar.value for bar in bars if isinstance(bar.value, int | float)]
    full = scale or max(numbers, default=0) or 1
    room = WIDTH - VALUE_ROOM
    rows = []
    top = TOP
    for bar in bars:
        lines = label_lines(bar.label)
        label = format_html(
            '<text class="chart-label" x="0" y="{}">{}</text>',
            f"{top + LINE_HEIGHT - 4:.1f}",
            format_html_join(
                "",
                '<tspan x="0" dy="{}">{}</tspan>',
                ((0 if index == 0 else LINE_HEIGHT, line) for index, line in enumerate(lines)),
            ),
        )
        bar_top = top + LINE_HEIGHT * len(lines) + 2
        middle = bar_top + BAR_HEIGHT / 2
        if isinstance(bar.value, int | float):
            length = max(room * float(bar.value) / full, 0)
            shape = format_html(
                '<rect class="chart-bar" x="0" y="{}" width="{}" height="{}" rx="2"></rect>'
                '<text class="chart-value" x="{}" y="{}" dominant-baseline="middle">{}</text>',
                f"{bar_top:.1f}",
                f"{length:.1f}",
                BAR_HEIGHT,
                f"{length + 6:.1f}",
                f"{middle:.1f}",
                bar.text,
            )
        else:
            css = "chart-value chart-suppressed" if bar.value is SUPPRESSED else "chart-value"
            shape = format_html(
                '<text class="{}" x="0" y="{}" dominant-baseline="middle">{}</text>',
                css,
                f"{middle:.1f}",
                bar.text,
            )
        rows.append(format_html('<g class="chart-row">{}{}</g>', label, shape))
        top = bar_top + BAR_HEIGHT + GAP
    height = max(top, TOP * 2 + BAR_HEIGHT)
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" focusable="false" '
        'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH,
        f"{height:.0f}",
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        format_html_join("", "{}", ((row,) for row in rows)) if rows else SafeString(""),
    )
