"""From a schedule a facilitator picks to concrete meeting rows, in the group's time zone.

Fixed dates in the past keep these tests independent of the day they run: a series
with an end (until or count) that started in 2025 is materialised in full.
"""

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sessions import services
from sessions.models import Meeting, MeetingSeries
from sessions.recurrence import Frequency
from tests.factories import SupportGroupFactory
from tests.meetings.factories import (
    NEW_YORK,
    ROME,
    TUESDAY,
    local_start,
    local_today,
    meetings_of,
    series_for,
    weekday_on_or_after,
)

pytestmark = pytest.mark.django_db


def local_dates(series: MeetingSeries) -> list[date]:
    return [local_start(meeting).date() for meeting in meetings_of(series)]


def dates(*texts: str) -> list[date]:
    return [date.fromisoformat(text) for text in texts]


@pytest.fixture
def new_york_group(db):
    return SupportGroupFactory(name="Hudson Caregivers", time_zone=NEW_YORK)


# --- Patterns ---------------------------------------------------------------------------


def test_weekly_series_meets_on_the_first_dates_weekday_at_the_same_local_time(group):
    series = series_for(group, starts_on=date(2025, 1, 7), count=4)

    meetings = meetings_of(series)
    assert [local_start(m).date() for m in meetings] == dates(
        "2025-01-07", "2025-01-14", "2025-01-21", "2025-01-28"
    )
    assert {local_start(m).time() for m in meetings} == {time(19, 0)}
    assert {m.ends_at - m.starts_at for m in meetings} == {timedelta(minutes=90)}
    assert {m.time_zone for m in meetings} == {ROME}
    assert [m.original_start for m in meetings] == [m.starts_at for m in meetings]
    assert series.rrule == "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;COUNT=4"


def test_every_two_weeks_skips_the_week_in_between(group):
    series = series_for(group, starts_on=date(2025, 1, 7), interval=2, count=4)

    assert local_dates(series) == dates("2025-01-07", "2025-01-21", "2025-02-04", "2025-02-18")


@pytest.mark.parametrize("week_of_month", [2, None], ids=["chosen", "from-first-date"])
def test_monthly_on_the_second_tuesday(group, week_of_month):
    series = series_for(
        group,
        frequency=Frequency.MONTHLY_WEEKDAY,
        starts_on=date(2025, 1, 14),
        week_of_month=week_of_month,
        count=4,
    )

    assert local_dates(series) == dates("2025-01-14", "2025-02-11", "2025-03-11", "2025-04-08")
    assert "BYDAY=2TU" in series.rrule


def test_last_thursday_is_the_last_even_in_months_with_five_thursdays(group):
    # 27 February 2025 is both the 4th and the last Thursday; May 2025 has five.
    series = series_for(
        group,
        frequency=Frequency.MONTHLY_WEEKDAY,
        starts_on=date(2025, 2, 27),
        week_of_month=-1,
        count=4,
    )

    assert local_dates(series) == dates("2025-02-27", "2025-03-27", "2025-04-24", "2025-05-29")


def test_a_fifth_weekday_as_first_date_means_the_last_one(group):
    series = series_for(
        group, frequency=Frequency.MONTHLY_WEEKDAY, starts_on=date(2025, 1, 30), count=3
    )

    assert local_dates(series) == dates("2025-01-30", "2025-02-27", "2025-03-27")


@pytest.mark.parametrize(
    ("starts_on", "expected"),
    [
        (
            date(2025, 1, 31),
            ["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"],
        ),
        (
            date(2024, 1, 31),
            ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31"],
        ),
        (
            date(2025, 1, 30),
            ["2025-01-30", "2025-02-28", "2025-03-30", "2025-04-30", "2025-05-30"],
        ),
    ],
    ids=["31st", "31st-leap-year", "30th"],
)
def test_monthly_on_a_late_date_falls_on_the_last_day_of_shorter_months(group, starts_on, expected):
    series = series_for(
        group, frequency=Frequency.MONTHLY_DATE, starts_on=starts_on, count=len(expected)
    )

    assert local_dates(series) == dates(*expected)


def test_monthly_on_an_ordinary_date_keeps_that_date(group):
    series = series_for(
        group, frequency=Frequency.MONTHLY_DATE, starts_on=date(2025, 1, 15), count=3
    )

    assert local_dates(series) == dates("2025-01-15", "2025-02-15", "2025-03-15")


# --- Ends -------------------------------------------------------------------------------


def test_until_includes_a_meeting_on_the_last_date(group):
    series = series_for(group, starts_on=date(2025, 1, 7), until=date(2025, 1, 28))

    assert local_dates(series) == dates("2025-01-07", "2025-01-14", "2025-01-21", "2025-01-28")


def test_until_the_day_before_a_meeting_stops_before_it(group):
    series = series_for(group, starts_on=date(2025, 1, 7), until=date(2025, 1, 27))

    assert local_dates(series) == dates("2025-01-07", "2025-01-14", "2025-01-21")


def test_after_n_meetings_there_are_exactly_n_even_as_the_horizon_moves(group):
    series = series_for(group, starts_on=date(2025, 1, 7), count=3)

    services.series_materialise(series_id=series.pk, now=timezone.now() + timedelta(days=400))

    assert local_dates(series) == dates("2025-01-07", "2025-01-14", "2025-01-21")


def test_a_one_off_meeting_is_a_series_of_one(group):
    starts_on = local_today() + timedelta(days=10)
    series = series_for(
        group, frequency=Frequency.ONCE, starts_on=starts_on, start_time=time(10, 30)
    )

    services.series_materialise(series_id=series.pk, now=timezone.now() + timedelta(days=400))

    meetings = meetings_of(series)
    assert len(meetings) == 1
    assert local_start(meetings[0]).replace(tzinfo=None) == datetime.combine(
        starts_on, time(10, 30)
    )
    assert series.rrule == "FREQ=DAILY;COUNT=1"


# --- Daylight saving time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "starts_on", "offsets_in_hours"),
    [
        # Europe/Rome: summer time from the last Sunday of March to the last of October.
        (ROME, date(2025, 3, 23), [1, 2, 2]),
        (ROME, date(2025, 10, 19), [2, 1, 1]),
        # America/New_York: from the 2nd Sunday of March to the 1st Sunday of November.
        (NEW_YORK, date(2025, 3, 2), [-5, -4, -4]),
        (NEW_YORK, date(2025, 10, 26), [-4, -5, -5]),
    ],
    ids=["rome-march", "rome-october", "new-york-march", "new-york-november"],
)
def test_a_seven_pm_meeting_stays_at_seven_pm_when_the_clocks_change(
    zone, starts_on, offsets_in_hours
):
    """Weekly on Sundays, the middle meeting is on the very day the clocks change."""
    group = SupportGroupFactory(time_zone=zone)
    series = series_for(group, starts_on=starts_on, count=3)

    meetings = meetings_of(series)
    local = [local_start(m) for m in meetings]
    assert [m.time_zone for m in meetings] == [zone] * 3
    assert [moment.time() for moment in local] == [time(19, 0)] * 3
    assert [moment.date() for moment in local] == [starts_on + timedelta(weeks=n) for n in range(3)]
    assert [moment.utcoffset() for moment in local] == [
        timedelta(hours=hours) for hours in offsets_in_hours
    ]
    # The instant in UTC is what moves: 19:00 minus the offset of the day.
    assert [m.starts_at.astimezone(ZoneInfo("UTC")).hour for m in meetings] == [
        (19 - hours) % 24 for hours in offsets_in_hours
    ]
    # Length is kept in real minutes, whatever the day.
    assert {m.ends_at - m.starts_at for m in meetings} == {timedelta(minutes=90)}


@pytest.mark.parametrize(
    ("zone", "starts_on", "expected_local", "expected_utc"),
    [
        (
            ROME,
            date(2025, 3, 23),
            ["02:30", "03:30", "02:30"],
            ["01:30", "01:30", "00:30"],
        ),
        (
            NEW_YORK,
            date(2025, 3, 2),
            ["02:30", "03:30", "02:30"],
            ["07:30", "07:30", "06:30"],
        ),
    ],
    ids=["rome", "new-york"],
)
def test_a_time_in_the_spring_forward_gap_moves_forward_by_the_gap(
    zone, starts_on, expected_local, expected_utc
):
    group = SupportGroupFactory(time_zone=zone)
    series = series_for(group, starts_on=starts_on, start_time=time(2, 30), count=3)

    meetings = meetings_of(series)
    assert [f"{local_start(m):%H:%M}" for m in meetings] == expected_local
    assert [f"{m.starts_at.astimezone(ZoneInfo('UTC')):%H:%M}" for m in meetings] == expected_utc
    assert [local_start(m).date() for m in meetings] == [
        starts_on + timedelta(weeks=n) for n in range(3)
    ]


def test_a_time_that_happens_twice_when_clocks_go_back_is_the_first_one(group):
    series = series_for(group, starts_on=date(2025, 10, 26), start_time=time(2, 30), count=1)

    (meeting,) = meetings_of(series)
    assert meeting.starts_at == datetime(2025, 10, 26, 0, 30, tzinfo=ZoneInfo("UTC"))
    assert local_start(meeting).utcoffset() == timedelta(hours=2)


def test_meetings_are_placed_in_the_groups_time_zone_not_the_servers(new_york_group):
    series = series_for(new_york_group, starts_on=date(2025, 1, 7), count=1)

    (meeting,) = meetings_of(series)
    assert series.time_zone == NEW_YORK
    assert meeting.starts_at == datetime(2025, 1, 8, 0, 0, tzinfo=ZoneInfo("UTC"))


# --- Materialising ----------------------------------------------------------------------


def rows(series: MeetingSeries) -> list[tuple]:
    return list(
        Meeting.objects.filter(series=series)
        .order_by("original_start")
        .values_list("id", "original_start", "starts_at", "sequence")
    )


@pytest.fixture
def open_ended(group):
    """Weekly on Tuesdays from next week, with no end."""
    starts_on = weekday_on_or_after(local_today() + timedelta(days=1), TUESDAY)
    series = series_for(group, starts_on=starts_on)
    series.refresh_from_db()
    return series


def test_meetings_are_created_up_to_six_months_ahead(open_ended):
    meetings = meetings_of(open_ended)
    horizon = open_ended.materialised_until

    assert horizon - timezone.now() == pytest.approx(services.HORIZON, abs=timedelta(minutes=5))
    assert meetings[-1].starts_at < horizon <= meetings[-1].starts_at + timedelta(weeks=1)
    days = [local_start(m).date() for m in meetings]
    assert {b - a for a, b in pairwise(days)} == {timedelta(weeks=1)}


def test_materialising_twice_changes_nothing(open_ended):
    before = rows(open_ended)

    assert services.series_materialise(series_id=open_ended.pk) == 0
    assert rows(open_ended) == before


def test_materialising_again_from_scratch_adds_no_duplicates(open_ended):
    """Even if the bookkeeping is lost, the unique occurrence key keeps one row each."""
    before = rows(open_ended)
    MeetingSeries.objects.filter(pk=open_ended.pk).update(materialised_until=None)

    services.series_materialise(series_id=open_ended.pk)

    assert rows(open_ended) == before


def test_materialising_later_extends_the_series_with_the_horizon(open_ended):
    before = rows(open_ended)
    later = timezone.now() + timedelta(days=28)

    services.series_materialise(series_id=open_ended.pk, now=later)
    services.series_materialise(series_id=open_ended.pk, now=later)

    after = rows(open_ended)
    open_ended.refresh_from_db()
    assert open_ended.materialised_until == later + services.HORIZON
    assert after[: len(before)] == before  # existing rows untouched
    assert len(after) - len(before) == 4  # four more Tuesdays in four more weeks
    meetings = meetings_of(open_ended)
    local = [local_start(m) for m in meetings]
    assert {b.date() - a.date() for a, b in pairwise(local)} == {timedelta(weeks=1)}
    assert {moment.time() for moment in local} == {time(19, 0)}
    assert meetings[-1].starts_at < open_ended.materialised_until


def test_series_due_for_materialising_are_those_whose_horizon_falls_behind(open_ended):
    assert open_ended.pk not in services.series_due_for_materialising()
    assert open_ended.pk in services.series_due_for_materialising(
        timezone.now() + timedelta(days=2)
    )
