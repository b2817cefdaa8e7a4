"""Retention against a hand-built set of joiners, with the windows' edges tested.

"Still attending at N weeks": marked present or late at a meeting of the group that started
at least N-2 and less than N+2 weeks after joining; measured once that window has ended.
"Now" is fixed at 1 December 2025, and the period is January to June 2025.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from groups.models import MembershipStatus, Role
from outcomes.reports import Period, retention_data
from sessions.models import AttendanceStatus, MeetingStatus
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.reports.conftest import ROME, local, mark, meeting

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
PERIOD = Period(date(2025, 1, 1), date(2025, 6, 30))
WEEK = timedelta(weeks=1)
HOUR = timedelta(hours=1)


def joiner(group, name, joined_at, **kwargs):
    person = UserFactory(display_name=name)
    MembershipFactory(group=group, user=person, joined_at=joined_at, **kwargs)
    return person


def came(group, person, at, status=AttendanceStatus.PRESENT, **kwargs):
    mark(meeting(group, at, **kwargs), person, status)


@pytest.fixture
def cohorts():
    rome = SupportGroupFactory(name="Harbour Lights", time_zone="Europe/Rome")
    other = SupportGroupFactory(name="Other Shore", time_zone="Europe/Rome")

    p1 = joiner(rome, "p1", local(ROME, 2025, 1, 6, 10, 0))
    came(rome, p1, p1.memberships.get().joined_at + 3 * WEEK)  # 4-week window
    came(rome, p1, p1.memberships.get().joined_at + 11 * WEEK)  # 12-week window

    p2 = joiner(rome, "p2", local(ROME, 2025, 1, 20, 10, 0))
    joined = p2.memberships.get().joined_at
    came(rome, p2, joined + 1 * WEEK)  # too early for the 4-week window
    came(rome, p2, joined + 6 * WEEK)  # the 4-week window has just closed (it ends at 6)
    came(rome, p2, joined + 4 * WEEK, status=AttendanceStatus.PRESENT)  # see below
    # ... that last meeting was cancelled: the mark counts for nothing.
    p2_cancelled = p2.attendance.order_by("-id").first().meeting
    p2_cancelled.status = MeetingStatus.CANCELLED
    p2_cancelled.save(update_fields=["status"])

    # 31 January 23:30 in Rome is 22:30 UTC: a January joiner either way. She left later.
    p3 = joiner(
        rome,
        "p3",
        local(ROME, 2025, 1, 31, 23, 30),
        status=MembershipStatus.LEFT,
        ended_at=local(ROME, 2025, 9, 1, 12, 0),
    )
    joined = p3.memberships.get().joined_at
    for weeks in (5, 13, 25):
        came(rome, p3, joined + weeks * WEEK)

    # 1 February 00:30 in Rome is still 31 January in UTC: a February joiner.
    p4 = joiner(rome, "p4", local(ROME, 2025, 2, 1, 0, 30))
    came(rome, p4, p4.memberships.get().joined_at + 2 * WEEK)  # the window's first moment

    p5 = joiner(rome, "p5", local(ROME, 2025, 2, 10, 18, 0))
    joined = p5.memberships.get().joined_at
    came(rome, p5, joined + 4 * WEEK, status=AttendanceStatus.ABSENT)
    came(rome, p5, joined + 12 * WEEK, status=AttendanceStatus.EXCUSED)
    came(rome, p5, joined + 26 * WEEK + 3 * HOUR, status=AttendanceStatus.LATE)

    # Joined in June: measured at 4 and 12 weeks by 1 December, not yet at 26.
    p6 = joiner(rome, "p6", local(ROME, 2025, 6, 1, 12, 0))
    came(rome, p6, p6.memberships.get().joined_at + 4 * WEEK)

    q1 = joiner(other, "q1", local(ROME, 2025, 3, 3, 12, 0))
    joined = q1.memberships.get().joined_at
    for weeks in (4, 12, 26):
        came(other, q1, joined + weeks * WEEK)

    # Not in any cohort: staff, a pending request, someone who joined outside the period.
    fiona = joiner(rome, "Fiona", local(ROME, 2025, 1, 6, 9, 0), role=Role.FACILITATOR)
    came(rome, fiona, fiona.memberships.get().joined_at + 4 * WEEK)
    joiner(rome, "pending", None, status=MembershipStatus.PENDING)
    late = joiner(rome, "late", local(ROME, 2025, 7, 1, 0, 30))
    came(rome, late, late.memberships.get().joined_at + 4 * WEEK)
    return rome, other


def as_tuple(cohort):
    marks = [
        (cohort.measured[weeks], cohort.retained[weeks], cohort.share[weeks])
        for weeks in (4, 12, 26)
    ]
    return (cohort.joined, *marks)


def test_cohorts_by_month_of_joining_in_the_groups_time_zone(cohorts):
    rome, other = cohorts

    data = retention_data([rome.pk, other.pk], PERIOD, now=NOW)

    assert [(cohort.month, *as_tuple(cohort)) for cohort in data.months] == [
        # p1 p2 p3: p1 and p3 at 4 and 12 weeks, p3 at 26 weeks
        (date(2025, 1, 1), 3, (3, 2, 67), (3, 2, 67), (3, 1, 33)),
        # p4 p5: p4 at 4 weeks (the window's first moment), p5 at 26 (late counts)
        (date(2025, 2, 1), 2, (2, 1, 50), (2, 0, 0), (2, 1, 50)),
        # q1
        (date(2025, 3, 1), 1, (1, 1, 100), (1, 1, 100), (1, 1, 100)),
        # p6: too recent to be measured at 26 weeks
        (date(2025, 6, 1), 1, (1, 1, 100), (1, 0, 0), (0, 0, None)),
    ]


def test_retention_per_group_and_overall(cohorts):
    rome, other = cohorts

    data = retention_data([rome.pk, other.pk], PERIOD, now=NOW)

    assert {cohort.name: as_tuple(cohort) for cohort in data.groups} == {
        "Harbour Lights": (6, (6, 4, 67), (6, 2, 33), (5, 2, 40)),
        "Other Shore": (1, (1, 1, 100), (1, 1, 100), (1, 1, 100)),
    }
    assert as_tuple(data.total) == (7, (7, 5, 71), (7, 3, 43), (6, 3, 50))


def test_a_mark_is_only_measured_once_its_window_has_ended(cohorts):
    rome, _ = cohorts
    # p6 joined on 1 June: on 5 August her 4-week window (to 13 July) has ended, her
    # 12-week one (to 7 September) has not; on 1 December only the 26-week one is open.
    data = retention_data([rome.pk], Period(date(2025, 6, 1), date(2025, 6, 30)), now=NOW)
    early = retention_data(
        [rome.pk],
        Period(date(2025, 6, 1), date(2025, 6, 30)),
        now=datetime(2025, 8, 5, tzinfo=UTC),
    )

    assert as_tuple(data.total) == (1, (1, 1, 100), (1, 0, 0), (0, 0, None))
    assert as_tuple(early.total) == (1, (1, 1, 100), (0, 0, None), (0, 0, None))


def test_no_joiners_gives_an_empty_report(cohorts):
    rome, _ = cohorts

    data = retention_data([rome.pk], Period(date(2024, 1, 1), date(2024, 6, 30)), now=NOW)

    assert data.months == [] and data.groups == []
    assert as_tuple(data.total) == (0, (0, 0, None), (0, 0, None), (0, 0, None))
