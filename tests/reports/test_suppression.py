"""No figure about fewer than five people, on the page or in an export, nor by subtraction.

The attacker in these tests reads a report as anyone could: every sum the page shows (a
column and its total row, a total repeated in another table, unique = new + returning) with
exactly one hidden cell gives that cell away. The control test shows the attacker succeeds
once complementary suppression is switched off.
"""

import pytest
from django.urls import reverse

from outcomes import suppression
from outcomes.documents import attendance_columns, retention_columns, trend_columns
from outcomes.suppression import SUPPRESSED, Cell, Disclosure
from outcomes.tables import Column, Kind, Row, Table
from tests.reports.conftest import (
    PERIOD_QUERY,
    SUPPRESSED_TEXT,
    as_dicts,
    csv_sections,
    number,
    page_tables,
    xlsx_sections,
)

pytestmark = pytest.mark.django_db

TOTAL = "All groups in this report"
PEOPLE_LABELS = {
    str(column.label)
    for column in attendance_columns() + trend_columns() + retention_columns()
    if column.kind in (Kind.PEOPLE, Kind.AVERAGE)
}
ADDITIVE = ["Attendances", "Walk-in guests", "Said they were going", "No-shows"]


def table(key, rows, total=None, columns=("count",)):
    return Table(
        key=key,
        caption=key,
        header_column=Column("name", "Name", Kind.TEXT),
        columns=[Column(name, name) for name in columns],
        rows=[Row(header=name, values=dict(values)) for name, values in rows],
        total=Row(header="total", values=dict(total)) if total else None,
    )


# --- The rules, on small tables --------------------------------------------------------


def test_a_lone_small_cell_takes_the_smallest_other_part_with_it():
    groups = table(
        "groups",
        [("A", {"count": 20}), ("B", {"count": 4}), ("C", {"count": 8})],
        total={"count": 32},
    )
    disclosure = Disclosure(groups)
    disclosure.rows_add_up("groups", "count")

    disclosure.apply()

    assert [row.values["count"] for row in groups.rows] == [20, SUPPRESSED, SUPPRESSED]
    assert groups.total.values["count"] == 32


def test_when_no_other_part_is_left_the_total_is_hidden():
    groups = table("groups", [("A", {"count": 3})], total={"count": 3})
    other = table("other", [("x", {"count": 7})], total={"count": 10})
    disclosure = Disclosure(groups, other)
    disclosure.rows_add_up("groups", "count")

    disclosure.apply()

    assert groups.rows[0].values["count"] is SUPPRESSED
    assert groups.total.values["count"] is SUPPRESSED
    assert other.rows[0].values["count"] == 7


def test_hiding_spreads_across_tables_that_share_a_total():
    by_group = table("groups", [("A", {"n": 9}), ("B", {"n": 6})], {"n": 15}, columns=["n"])
    by_week = table("weeks", [("w1", {"n": 12}), ("w2", {"n": 3})], columns=["n"])
    disclosure = Disclosure(by_group, by_week)
    disclosure.rows_add_up("groups", "n")
    disclosure.rows_add_up_to("weeks", {"n": "n"}, total=Cell("groups", "total", ""))

    disclosure.apply()

    # w2 is small: w1 must go too (15 - 12 = 3); the groups table keeps its figures.
    assert [row.values["n"] for row in by_week.rows] == [SUPPRESSED, SUPPRESSED]
    assert [row.values["n"] for row in by_group.rows] == [9, 6]


def test_a_share_goes_with_the_count_it_comes_from():
    rates = Table(
        key="rates",
        caption="rates",
        header_column=Column("name", "Name", Kind.TEXT),
        columns=[
            Column("going", "going"),
            Column("no_shows", "no-shows"),
            Column("rate", "rate", Kind.PERCENT, depends_on=("going", "no_shows")),
            Column("average", "average", Kind.AVERAGE, depends_on=("going",)),
        ],
        rows=[
            Row("A", {"going": 40, "no_shows": 3, "rate": 8, "average": 6.5}),
            Row("B", {"going": 40, "no_shows": 10, "rate": 25, "average": 4.5}),
        ],
    )

    Disclosure(rates).apply()

    assert rates.rows[0].values == {
        "going": 40,
        "no_shows": SUPPRESSED,
        "rate": SUPPRESSED,
        "average": 6.5,
    }
    assert rates.rows[1].values["average"] is SUPPRESSED  # fewer than 5 people a meeting
    assert rates.rows[1].values["rate"] == 25


def test_zero_is_fewer_than_five_but_meetings_are_never_hidden():
    counts = Table(
        key="counts",
        caption="counts",
        header_column=Column("name", "Name", Kind.TEXT),
        columns=[Column("held", "held", Kind.COUNT), Column("guests", "guests")],
        rows=[Row("A", {"held": 2, "guests": 0})],
    )

    Disclosure(counts).apply()

    assert counts.rows[0].values == {"held": 2, "guests": SUPPRESSED}


# --- The attacker ----------------------------------------------------------------------


def recover(total, parts):
    """The hidden cell's value if exactly one of `total` and `parts` is hidden."""
    cells = [total, *parts]
    hidden = [cell for cell in cells if cell == SUPPRESSED_TEXT]
    if len(hidden) != 1 or any(cell in ("—", "") for cell in cells):
        return None
    if total == SUPPRESSED_TEXT:
        return sum(number(part) for part in parts)
    return number(total) - sum(number(part) for part in parts if part != SUPPRESSED_TEXT)


def attack_attendance(tables) -> list[tuple[str, object]]:
    """Every value the attendance page gives away by subtraction."""
    found = []
    groups = as_dicts(tables["groups"])
    total = groups.pop(TOTAL)
    for column in ADDITIVE:
        value = recover(total[column], [row[column] for row in groups.values()])
        if value is not None:
            found.append((f"groups/{column}", value))
    for name, row in [*groups.items(), (TOTAL, total)]:
        value = recover(row["Unique attendees"], [row["New attendees"], row["Returning attendees"]])
        if value is not None:
            found.append((f"{name}/new+returning", value))
    weeks = as_dicts(tables["trend"])
    for column in ("Attendances", "Walk-in guests"):
        value = recover(total[column], [row[column] for row in weeks.values()])
        if value is not None:
            found.append((f"trend/{column}", value))
    if "meetings" in tables and len(groups) == 1:
        (group,) = groups.values()
        meetings = as_dicts(tables["meetings"])
        for column in ADDITIVE:
            parts = [row[column] for row in meetings.values() if row[column] != "—"]
            value = recover(group[column], parts)
            if value is not None:
                found.append((f"meetings/{column}", value))
    return found


def test_no_hidden_value_can_be_recovered_from_the_attendance_page(
    client, programme, coordinator_with_mfa
):
    client.force_login(coordinator_with_mfa)
    for query in (PERIOD_QUERY, {**PERIOD_QUERY, "group": programme.harbour.pk}):
        response = client.get(reverse("reports:attendance"), query)
        tables, _ = page_tables(response)

        assert attack_attendance(tables) == []
        # Other Shore's 4 attendances are hidden, so Harbour's 8 are hidden with them.
        if "group" not in query:
            groups = as_dicts(tables["groups"])
            assert groups["Other Shore"]["Attendances"] == SUPPRESSED_TEXT
            assert groups["Harbour Lights"]["Attendances"] == SUPPRESSED_TEXT
            assert groups[TOTAL]["Attendances"] == "12"


def test_control_without_complementary_suppression_the_attacker_succeeds(
    client, programme, coordinator_with_mfa, monkeypatch
):
    monkeypatch.setattr(Disclosure, "complementary", lambda self, hidden: set(hidden))
    client.force_login(coordinator_with_mfa)

    response = client.get(reverse("reports:attendance"), PERIOD_QUERY)

    found = dict(attack_attendance(page_tables(response)[0]))
    assert found["groups/Attendances"] == 4  # Other Shore's hidden attendances
    assert found["groups/Said they were going"] == 4


def test_no_hidden_value_can_be_recovered_from_the_retention_page(
    client, programme, coordinator_with_mfa
):
    client.force_login(coordinator_with_mfa)

    response = client.get(
        reverse("reports:retention"),
        {"period": "custom", "start": "2025-01-01", "end": "2026-12-31"},
    )

    tables, _ = page_tables(response)
    cohorts = as_dicts(tables["cohorts"])
    total = cohorts.pop(TOTAL)
    groups = as_dicts(tables["retention_groups"])
    for column, value in total.items():
        if column.startswith("Share"):
            continue
        assert recover(value, [row[column] for row in cohorts.values()]) is None
        assert recover(value, [row[column] for row in groups.values()]) is None


# --- Every small cell, everywhere ------------------------------------------------------


def assert_no_small_people_figure(rows, *, where: str) -> int:
    """Every people count or average is 'fewer than 5' or at least 5; returns how many
    cells were hidden."""
    header, *body = rows
    hidden = 0
    for row in body:
        for label, cell in zip(header[1:], row[1:], strict=True):
            if label.removesuffix(" (%)") not in PEOPLE_LABELS and label != "Value":
                continue
            if label == "Value" and row[0] not in PEOPLE_LABELS:
                continue
            if cell == SUPPRESSED_TEXT:
                hidden += 1
            elif cell not in ("", "—", None):
                assert number(cell) >= suppression.THRESHOLD, f"{where}: {row[0]} {label}={cell}"
    return hidden


def test_every_small_figure_is_hidden_on_the_page_in_csv_and_in_xlsx(
    client, programme, coordinator_with_mfa
):
    client.force_login(coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.harbour.pk}
    url = reverse("reports:attendance")

    tables, figures = page_tables(client.get(url, query))
    hidden_on_page = sum(
        assert_no_small_people_figure(rows, where=f"page {key}") for key, rows in tables.items()
    )
    summary = [["Figure", "Value"], *figures["summary"].items()]
    hidden_on_page += assert_no_small_people_figure(summary, where="page summary")

    _, sections = csv_sections(
        client.get(reverse("reports:attendance_export", kwargs={"fmt": "csv"}), query)
    )
    hidden_in_csv = sum(
        assert_no_small_people_figure(rows, where=f"csv {caption}")
        for caption, rows in sections.items()
    )
    sheets = xlsx_sections(
        client.get(reverse("reports:attendance_export", kwargs={"fmt": "xlsx"}), query)
    )
    hidden_in_xlsx = sum(
        assert_no_small_people_figure(rows, where=f"xlsx {caption}")
        for caption, (_, rows) in sheets.items()
    )

    assert hidden_on_page == hidden_in_csv == hidden_in_xlsx > 10
    body = client.get(url, query).content.decode()
    # The raw small numbers of Harbour Lights never reach the page as figures.
    for raw in ("2.7</", ">38%<", ">3.0<"):
        assert raw not in body
