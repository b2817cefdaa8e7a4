"""Every attendance figure against the hand-built programme in conftest.py.

The data set, in short (local times; Harbour Lights is in Rome, Other Shore in New York):

  M0 24 Feb 19:00  before the period: a1, a2 present
  M1  3 Mar 19:00  going a1 a2 a3 a4, not going a5; a1 present, a2 late, a3 absent,
                   a4 excused, a6 present without an RSVP (a6 has left since); 3 guests
  M2 10 Mar 19:00  cancelled: going a1, a1 "present", 4 guests - none of it counts
  M3 30 Mar 00:30  the night Rome's clocks go forward (29 Mar 23:30 UTC): going a1 a3 a5,
                   a4 waitlisted; a1, a5 and a4 present, a3 not marked
  M6  7 Apr 19:00  held with no register: a1 going, 2 guests
  M4 30 Apr 23:30  going a2; a2, a3 present; 1 guest
  M5  1 May 00:30  after the period (30 Apr 22:30 UTC): a1 present
  N0 28 Feb 23:00  before the period (1 Mar 04:00 UTC): b1, a3 present
  N1  1 Mar 00:30  going b1 b2 b3; b1, b2 present, b3 not marked
  N2 10 Mar 19:00  after New York's clocks went forward: going b2; b2 late, a1 present;
                   5 guests
"""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from outcomes.reports import Period, attendance_data
from tests.reports.conftest import PERIOD_END, PERIOD_START, meeting

pytestmark = pytest.mark.django_db

PERIOD = Period(PERIOD_START, PERIOD_END)


def report(programme, *groups, period=PERIOD, unit="week", with_meetings=False):
    ids = [group.pk for group in groups or (programme.harbour, programme.shore)]
    return attendance_data(ids, period, now=timezone.now(), unit=unit, with_meetings=with_meetings)


def figures(source) -> dict:
    return {
        "held": source.held,
        "cancelled": source.cancelled,
        "registered": source.registered,
        "attendances": source.attendances,
        "guests": source.guests,
        "going": source.going,
        "no_shows": source.no_shows,
        "no_show_rate": source.no_show_rate,
        "average": source.average,
        "median": source.median,
        "people": source.people,
        "new_people": source.new_people,
        "returning_people": source.returning_people,
    }


def test_harbour_lights_figures_count_held_meetings_marks_guests_and_answers(programme):
    data = report(programme)
    harbour = next(group for group in data.groups if group.group_id == programme.harbour.pk)

    assert figures(harbour) == {
        "held": 4,  # M1, M3, M6, M4
        "cancelled": 1,  # M2
        "registered": 3,  # M1, M3, M4 (M6 had no register)
        "attendances": 8,  # M1: a1 a2 a6; M3: a1 a5 a4; M4: a2 a3
        "guests": 6,  # 3 + 0 + 2 + 1; the cancelled M2's 4 don't count
        "going": 8,  # M1: 4; M3: 3 (a4 was waitlisted); M4: 1; M6 has no register
        "no_shows": 3,  # M1: a3 absent, a4 excused; M3: a3 not marked
        "no_show_rate": 38,  # 3 / 8 = 37.5%
        "average": 2.7,  # (3 + 3 + 2) / 3
        "median": 3.0,
        "people": 6,  # a1 a2 a3 a4 a5 a6, a6 although she has left
        "new_people": 4,  # a3 a4 a5 a6 (a3 had only been to Other Shore)
        "returning_people": 2,  # a1 a2 came to M0
    }


def test_other_shore_figures_use_new_york_days(programme):
    data = report(programme)
    shore = next(group for group in data.groups if group.group_id == programme.shore.pk)

    assert figures(shore) == {
        "held": 2,  # N1, N2 (N0 was 28 February in New York)
        "cancelled": 0,
        "registered": 2,
        "attendances": 4,  # N1: b1 b2; N2: b2 a1
        "guests": 5,
        "going": 4,  # N1: 3; N2: 1
        "no_shows": 1,  # b3
        "no_show_rate": 25,
        "average": 2.0,
        "median": 2.0,
        "people": 3,  # b1 b2 a1
        "new_people": 2,  # b2, a1 (new to this group)
        "returning_people": 1,  # b1 came to N0
    }


def test_totals_count_people_once_and_new_means_new_to_every_group_in_the_report(programme):
    data = report(programme)

    assert figures(data.total) == {
        "held": 6,
        "cancelled": 1,
        "registered": 5,
        "attendances": 12,
        "guests": 11,
        "going": 12,
        "no_shows": 4,
        "no_show_rate": 33,  # 4 / 12
        "average": 2.4,  # 12 / 5
        "median": 2.0,  # 3 3 2 2 2
        "people": 8,  # a1..a6, b1, b2: a1 went to both groups
        "new_people": 4,  # a4 a5 a6 b2
        "returning_people": 4,  # a1 a2 (M0), b1 a3 (N0)
    }
    assert [group.name for group in data.groups] == ["Harbour Lights", "Other Shore"]


def test_weekly_trend_places_meetings_in_the_week_of_their_local_day(programme):
    data = report(programme, unit="week")

    assert [
        (
            bucket.bucket,
            bucket.held,
            bucket.cancelled,
            bucket.attendances,
            bucket.guests,
            bucket.people,
        )
        for bucket in data.buckets
    ] == [
        (date(2025, 2, 24), 1, 0, 2, 0, 2),  # N1 on Saturday 1 March
        (date(2025, 3, 3), 1, 0, 3, 3, 3),  # M1
        (date(2025, 3, 10), 1, 1, 2, 5, 2),  # N2 held, M2 cancelled
        (date(2025, 3, 24), 1, 0, 3, 0, 3),  # M3 on Sunday 30 March in Rome
        (date(2025, 4, 7), 1, 0, 0, 2, 0),  # M6, no register
        (date(2025, 4, 28), 1, 0, 2, 1, 2),  # M4
    ]
    assert sum(bucket.attendances for bucket in data.buckets) == data.total.attendances


def test_monthly_trend_counts_unique_attendees_per_month(programme):
    data = report(programme, unit="month")

    assert [
        (bucket.bucket, bucket.held, bucket.attendances, bucket.guests, bucket.people)
        for bucket in data.buckets
    ] == [
        (date(2025, 3, 1), 4, 10, 8, 7),  # a1 a2 a4 a5 a6 b1 b2
        (date(2025, 4, 1), 2, 2, 3, 2),  # a2 a3
    ]


@pytest.mark.parametrize(
    ("period", "group", "held", "attendances"),
    [
        # Ends the day before the clocks change: M3 (29 March in UTC) is not in it.
        (Period(date(2025, 3, 1), date(2025, 3, 29)), "harbour", 1, 3),
        # The day the clocks change: M3 is.
        (Period(date(2025, 3, 30), date(2025, 3, 30)), "harbour", 1, 3),
        # 1 May in Rome, 30 April in UTC.
        (Period(date(2025, 5, 1), date(2025, 5, 1)), "harbour", 1, 1),
        # 28 February in New York, 1 March in UTC.
        (Period(date(2025, 2, 28), date(2025, 2, 28)), "shore", 1, 2),
        (Period(date(2025, 3, 1), date(2025, 3, 1)), "shore", 1, 2),
    ],
)
def test_a_meeting_belongs_to_the_day_of_its_own_time_zone(
    programme, period, group, held, attendances
):
    data = report(programme, getattr(programme, group), period=period)

    assert (data.total.held, data.total.attendances) == (held, attendances)


def test_meetings_that_have_not_started_are_not_counted(programme):
    today = timezone.localdate()
    meeting(programme.harbour, timezone.now() + timedelta(days=2))
    future = Period(today, today + timedelta(days=30))

    data = report(programme, period=future)

    assert (data.total.held, data.total.cancelled) == (0, 0)


def test_drill_down_lists_each_meeting_of_the_group_in_order(programme):
    data = report(programme, programme.harbour, with_meetings=True)

    m = programme.meetings
    assert [
        (
            row.id,
            row.held,
            row.registered,
            row.attended,
            row.guests,
            row.going,
            row.no_shows,
        )
        for row in data.meetings
    ] == [
        (m["M1"].pk, True, True, 3, 3, 4, 2),
        (m["M2"].pk, False, False, 1, 4, 1, 0),  # shown as "cancelled"
        (m["M3"].pk, True, True, 3, 0, 3, 1),
        (m["M6"].pk, True, False, 0, 2, 1, 1),  # shown without answers
        (m["M4"].pk, True, True, 2, 1, 1, 0),
    ]


def test_no_groups_means_no_figures(programme):
    data = attendance_data([], PERIOD, now=timezone.now())

    assert figures(data.total)["held"] == 0
    assert data.groups == [] and data.buckets == []
