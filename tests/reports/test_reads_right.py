"""Reports that read right: a hidden figure says so in words, the same figure reads the
same in every view, plain words, a "past 3 months" period, wide tables that say they
scroll and chart labels never cut short."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from outcomes.charts import LINE_CHARS, Bar, bar_chart, label_lines
from outcomes.forms import PeriodChoice, period_for
from outcomes.reports import Period
from outcomes.suppression import SUPPRESSED
from outcomes.tables import Column, Kind, display_cell
from tests.auth import log_in
from tests.reports.conftest import PERIOD_QUERY, as_dicts, page_tables

pytestmark = pytest.mark.django_db

TOTAL = "All groups in this report"


def test_a_hidden_figure_is_labelled_hidden_never_fewer_than_for_any_kind():
    for kind in (Kind.PEOPLE, Kind.AVERAGE, Kind.PERCENT):
        with translation.override("en"):  # whatever language an earlier test left on
            cell = display_cell(SUPPRESSED, Column("x", "X", kind))
            assert cell.text == "hidden: under 5 people"
        assert cell.suppressed


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (date(2027, 5, 31), date(2027, 3, 1)),
        (date(2028, 5, 31), date(2028, 3, 1)),  # a leap year's February in between
        (date(2028, 1, 15), date(2027, 10, 16)),  # across the turn of the year
    ],
)
def test_past_3_months_ends_today_and_starts_three_months_back(today, start):
    assert period_for(PeriodChoice.PAST_3_MONTHS, today) == Period(start, today)


def test_the_filters_offer_past_3_months(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)

    response = client.get(reverse("reports:attendance"), {"period": "past-3-months"})

    assert response.status_code == 200
    assert '<option value="past-3-months" selected>Past 3 months</option>' in response.text
    assert "(Past 3 months)" in response.text


def test_plain_words_for_meetings_with_attendance_taken(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)
    query = {**PERIOD_QUERY, "group": programme.harbour.pk}

    response = client.get(reverse("reports:attendance"), query)

    tables, _ = page_tables(response)
    assert "Meetings with attendance taken" in tables["groups"][0]
    assert "Held, attendance not taken" in [row[1] for row in tables["meetings"][1:]]
    assert "register" not in " ".join(tables["groups"][0]).lower()


def test_the_same_figure_reads_the_same_in_the_list_the_drill_down_and_the_summary(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)
    url = reverse("reports:attendance")

    listed, summary = page_tables(client.get(url, PERIOD_QUERY))
    drilled, drilled_summary = page_tables(
        client.get(url, {**PERIOD_QUERY, "group": programme.harbour.pk})
    )

    in_list = as_dicts(listed["groups"])["Harbour Lights"]
    in_drill_down = as_dicts(drilled["groups"])["Harbour Lights"]
    assert in_list == in_drill_down
    # The summary card is the total row, figure for figure.
    assert summary["summary"] == as_dicts(listed["groups"])[TOTAL]
    assert drilled_summary["summary"] == as_dicts(drilled["groups"])[TOTAL]


def test_a_wide_table_says_it_scrolls_and_a_narrow_one_does_not(
    client, programme, coordinator_with_mfa
):
    log_in(client, coordinator_with_mfa)

    body = client.get(reverse("reports:attendance"), PERIOD_QUERY).text
    overview = client.get(reverse("reports:overview")).text

    assert 'aria-describedby="hint-groups"' in body  # thirteen columns
    assert "scroll sideways to see every column" in body
    assert 'id="hint-load"' not in overview  # three columns fit


def test_each_table_offers_its_own_csv(client, programme, coordinator_with_mfa):
    log_in(client, coordinator_with_mfa)

    body = client.get(reverse("reports:attendance"), PERIOD_QUERY).text

    for key in ("summary", "groups", "trend"):
        assert f"table={key}" in body
    assert "Download every table (XLSX)" in body


def test_chart_labels_wrap_between_words_and_are_never_cut_short():
    name = "Caregivers of people living with early-onset dementia, Genova Nervi"

    chart = str(bar_chart(chart_id="c", title="t", description="d", bars=[Bar(name, 12, "12")]))

    lines = label_lines(name)
    assert len(lines) == 2 and " ".join(lines) == name
    assert all(len(line) <= LINE_CHARS for line in lines)
    for line in lines:
        assert f">{line}</tspan>" in chart
    assert "…" not in chart


def test_a_single_very_long_word_is_broken_rather_than_clipped():
    word = "x" * (LINE_CHARS * 2 + 3)

    assert "".join(label_lines(word)) == word
    assert all(len(line) <= LINE_CHARS for line in label_lines(word))
