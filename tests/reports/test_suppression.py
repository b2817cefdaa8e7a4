"""No figure about fewer than five people in an export, nor by subtraction; exact counts
on the page, which staff read beside the registers they already see.

The attacker in these tests reads an export as anyone it is shared with could: every sum
it shows (a column and its total row, a total repeated in another table, unique = new +
returning) with exactly one hidden cell gives that cell away. The control test shows the
attacker succeeds once complementary suppression is switched off.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes import suppression
from outcomes.documents import attendance_columns, retention_columns, trend_columns
from outcomes.suppression import SUPPRESSED, Cell, Disclosure
from outcomes.tables import Column, Kind, Row, Table
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.reports.conftest import (
    PERIOD_QUERY,
    ROME,
    SUPPRESSED_TEXT,
    as_dicts,
    csv_table,
    local,
    mark,
    meeting,
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


ATTENDANCE_KEYS = ("groups", "trend", "meetings")


def attendance_export(client, query) -> dict:
    """The attendance tables as their CSVs hold them (one file each)."""
    keys = ATTENDANCE_KEYS if "group" in query else ATTENDANCE_KEYS[:2]
    return {key: csv_table(client, "reports:attendance_export", query, key) for key in keys}


def test_no_hidden_value_can_be_recovered_from_the_attendance_exports(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)
    for query in (PERIOD_QUERY, {**PERIOD_QUERY, "group": programme.harbour.pk}):
        tables = attendance_export(client, query)

        assert attack_attendance(tables) == []
        # Other Shore's 4 attendances are hidden, so Harbour's 8 are hidden with them.
        if "group" not in query:
            groups = as_dicts(tables["groups"])
            assert groups["Other Shore"]["Attendances"] == SUPPRESSED_TEXT
            assert groups["Harbour Lights"]["Attendances"] == SUPPRESSED_TEXT
            assert groups[TOTAL]["Attendances"] == "12"


def test_the_page_shows_the_counts_staff_can_read_off_the_registers_exactly(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)

    tables, figures = page_tables(client.get(reverse("reports:attendance"), PERIOD_QUERY))

    groups = as_dicts(tables["groups"])
    assert groups["Other Shore"]["Attendances"] == "4"
    assert groups["Harbour Lights"]["Attendances"] == "8"
    assert groups[TOTAL]["Attendances"] == "12"
    assert figures["summary"]["Attendances"] == "12"  # the card agrees with its section
    every_cell = [cell for rows in tables.values() for row in rows for cell in row]
    assert SUPPRESSED_TEXT not in every_cell


def test_control_without_complementary_suppression_the_attacker_succeeds(
    client, programme, coordinator_with_mfa, monkeypatch
):
    monkeypatch.setattr(Disclosure, "complementary", lambda self, hidden: set(hidden))
    log_in(client, coordinator_with_mfa)

    found = dict(attack_attendance(attendance_export(client, PERIOD_QUERY)))

    assert found["groups/Attendances"] == 4  # Other Shore's hidden attendances
    assert found["groups/Said they were going"] == 4


# Three months of joiners in two groups, every window long closed: Harbour Lights took 6
# people in one month and 7 in the next, Other Shore 3 in a third month. At 4 weeks 5, 6
# and 1 of them were still coming; at 12 weeks 0, 2 and 0. Other Shore's 3 joiners (and
# its 1 still coming) are small cells, each in a column whose total and other parts the
# page shows, by month and by group.
RETENTION_COHORTS = [
    # (months ago, group, joiners, still coming at 4 weeks, at 12 weeks)
    (11, "harbour", 6, 5, 0),
    (10, "harbour", 7, 6, 2),
    (9, "shore", 3, 1, 0),
]


def months_ago(today, months: int):
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return today.replace(year=year, month=month + 1, day=10)


@pytest.fixture
def retention_cohorts(db):
    """Joiners on the 10th of the month, at noon in Rome, nine to eleven months ago: all
    their 4, 12 and 26-week windows have ended, whatever day the test runs."""
    groups = {
        "harbour": SupportGroupFactory(name="Harbour Lights", time_zone="Europe/Rome"),
        "shore": SupportGroupFactory(name="Other Shore", time_zone="Europe/Rome"),
    }
    today = timezone.localdate()
    for ago, key, joiners, at_4, at_12 in RETENTION_COHORTS:
        group = groups[key]
        joined_at = local(ROME, *months_ago(today, ago).timetuple()[:3], 12, 0)
        week_4 = meeting(group, joined_at + timedelta(weeks=4))
        week_12 = meeting(group, joined_at + timedelta(weeks=12))
        for index in range(joiners):
            person = UserFactory(display_name=f"{key}-{ago}-{index}")
            MembershipFactory(group=group, user=person, joined_at=joined_at)
            if index < at_4:
                mark(week_4, person)
            if index < at_12:
                mark(week_12, person)
    return groups


RETENTION_QUERY_DAYS = 365


def retention_export(client):
    """The retention tables as their CSVs hold them."""
    today = timezone.localdate()
    query = {
        "period": "custom",
        "start": (today - timedelta(days=RETENTION_QUERY_DAYS)).isoformat(),
        "end": today.isoformat(),
    }
    return {
        key: csv_table(client, "reports:retention_export", query, key)
        for key in ("cohorts", "retention_groups")
    }


def attack_retention(tables) -> dict[str, object]:
    """Every value the retention page gives away: by subtraction (months and groups add
    up to the total row) and from a share shown beside the count it divides."""
    found = {}
    cohorts = as_dicts(tables["cohorts"])
    total = cohorts.pop(TOTAL)
    groups = as_dicts(tables["retention_groups"])
    counts = [column for column in total if not column.startswith("Share")]
    for table_name, rows in (("cohorts", cohorts), ("groups", groups)):
        for column in counts:
            parts = {name: row[column] for name, row in rows.items()}
            value = recover(total[column], list(parts.values()))
            if value is None:
                continue
            hidden = [name for name, cell in parts.items() if cell == SUPPRESSED_TEXT]
            found[f"{table_name}/{hidden[0] if hidden else TOTAL}/{column}"] = value
    for table_name, rows in (("cohorts", cohorts), ("groups", groups), ("total", {TOTAL: total})):
        for name, row in rows.items():
            for weeks in (4, 12, 26):
                measured = number(row[f"Measured at {weeks} weeks"])
                share = number(row[f"Share at {weeks} weeks"])
                hidden = row[f"Still attending at {weeks} weeks"] == SUPPRESSED_TEXT
                if hidden and all(isinstance(value, int | float) for value in (measured, share)):
                    found[f"{table_name}/{name}/retained at {weeks}"] = round(
                        share * measured / 100
                    )
    return found


def test_no_hidden_value_can_be_recovered_from_the_retention_exports(
    client, retention_cohorts, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)

    tables = retention_export(client)

    cohorts = as_dicts(tables["cohorts"])
    assert len(cohorts) == 4  # three months and the total row
    assert cohorts[TOTAL]["Joined"] == "16"
    groups = as_dicts(tables["retention_groups"])
    assert groups["Other Shore"]["Joined"] == SUPPRESSED_TEXT
    assert groups["Other Shore"]["Still attending at 4 weeks"] == SUPPRESSED_TEXT
    # Harbour Lights' 13 would give Other Shore's 3 away (16 - 13): it goes too.
    assert groups["Harbour Lights"]["Joined"] == SUPPRESSED_TEXT
    assert sorted(row["Joined"] for row in cohorts.values()) == sorted(
        ["16", "7", SUPPRESSED_TEXT, SUPPRESSED_TEXT]
    )
    assert attack_retention(tables) == {}


def test_control_without_complementary_suppression_retention_gives_small_cells_away(
    client, retention_cohorts, coordinator_with_mfa, monkeypatch
):
    monkeypatch.setattr(Disclosure, "complementary", lambda self, hidden: set(hidden))
    log_in(client, coordinator_with_mfa)

    found = attack_retention(retention_export(client))

    assert found["groups/Other Shore/Joined"] == 3  # 16 - 13
    assert found["groups/Other Shore/Still attending at 4 weeks"] == 1  # 12 - 11
    shore_month = [key for key in found if key.startswith("cohorts/") and "Joined" in key]
    assert [found[key] for key in shore_month] == [3]  # 16 - 6 - 7


def test_control_without_derived_suppression_a_share_gives_its_count_away(
    client, retention_cohorts, coordinator_with_mfa, monkeypatch
):
    monkeypatch.setattr(Disclosure, "derived", lambda self, hidden: set(hidden))
    log_in(client, coordinator_with_mfa)

    found = attack_retention(retention_export(client))

    # The month with 7 joiners, 2 of them still coming at 12 weeks: "29%" of 7 is 2.
    by_share = [
        value
        for key, value in found.items()
        if key.startswith("cohorts/") and key.endswith("retained at 12")
    ]
    assert 2 in by_share


# --- Every small cell, everywhere ------------------------------------------------------


def assert_no_small_people_figure(rows, *, where: str, exact: bool = False) -> int:
    """Every people count or average is hidden or at least 5 (or, `exact`, never hidden);
    returns how many cells were hidden."""
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
            elif cell not in ("", "—", None) and not exact:
                assert number(cell) >= suppression.THRESHOLD, f"{where}: {row[0]} {label}={cell}"
    return hidden


def test_every_small_figure_is_hidden_in_csv_and_in_xlsx_and_exact_on_the_page(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.harbour.pk}
    url = reverse("reports:attendance")

    tables, figures = page_tables(client.get(url, query))
    hidden_on_page = sum(
        assert_no_small_people_figure(rows, where=f"page {key}", exact=True)
        for key, rows in tables.items()
    )
    summary = [["Figure", "Value"], *figures["summary"].items()]
    hidden_on_page += assert_no_small_people_figure(summary, where="page summary", exact=True)

    hidden_in_csv = sum(
        assert_no_small_people_figure(
            csv_table(client, "reports:attendance_export", query, key), where=f"csv {key}"
        )
        for key in ("summary", *ATTENDANCE_KEYS)
    )
    _, sheets = xlsx_sections(
        client.get(reverse("reports:attendance_export", kwargs={"fmt": "xlsx"}), query)
    )
    hidden_in_xlsx = sum(
        assert_no_small_people_figure(rows, where=f"xlsx {title}") for title, rows in sheets.items()
    )

    assert hidden_in_csv == hidden_in_xlsx > 10
    assert hidden_on_page == 0
    body = client.get(url, query).content.decode()
    # Harbour Lights' small figures are on the page as they are.
    for raw in ("2.7</", ">38%<", ">3.0<"):
        assert raw in body


def test_outcome_figures_are_hidden_on_screen_too():
    """A health figure (an outcome) is suppressed whether or not the table is shared, with
    its complement; attendance counts beside it stay exact on screen."""
    scores = Table(
        key="scores",
        caption="scores",
        header_column=Column("name", "Name", Kind.TEXT),
        columns=[
            Column("improved", "Improved", outcome=True),
            Column("attended", "Attended"),
        ],
        rows=[
            Row(header="A", values={"improved": 3, "attended": 2}),
            Row(header="B", values={"improved": 9, "attended": 9}),
        ],
        total=Row(header="total", values={"improved": 12, "attended": 11}),
    )
    disclosure = Disclosure(scores)
    disclosure.rows_add_up("scores", "improved", "attended")

    disclosure.apply(shared=False)

    assert [row.values["improved"] for row in scores.rows] == [SUPPRESSED, SUPPRESSED]
    assert scores.total.values["improved"] == 12
    assert [row.values["attended"] for row in scores.rows] == [2, 9]
