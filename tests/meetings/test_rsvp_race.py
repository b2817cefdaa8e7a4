"""Many members answering at the same moment: the meeting row lock keeps the count right.

Every test here runs real threads, each with its own database connection, released
together by a barrier. The last test removes the lock and shows that the same race then
over-confirms, so the others would notice a broken lock.
"""

import time
from datetime import timedelta
from itertools import pairwise

import pytest
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from groups.models import Role
from sessions import services
from sessions.models import Meeting, Rsvp, RsvpResponse, RsvpStatus
from tests.concurrency import run_at_once
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.meetings.factories import MeetingFactory, member_of

pytestmark = pytest.mark.django_db(transaction=True)

CAPACITY = 10
PEOPLE = 50


def rsvp_call(meeting, person, going=True):
    return lambda: services.meeting_rsvp(meeting_id=meeting.pk, member=person, going=going)


def confirmed(meeting):
    return Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.CONFIRMED)


def waitlist(meeting) -> list[Rsvp]:
    return list(
        Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.WAITLISTED).order_by(
            "waitlisted_at", "id"
        )
    )


def waitlist_positions(meeting) -> dict[int, int]:
    """Each waiting person's place in line: 1 + those ahead by (waitlisted_at, id)."""
    ahead = (
        Rsvp.objects.filter(meeting_id=OuterRef("meeting_id"), status=RsvpStatus.WAITLISTED)
        .filter(
            Q(waitlisted_at__lt=OuterRef("waitlisted_at"))
            | Q(waitlisted_at=OuterRef("waitlisted_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .values("meeting_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return dict(
        Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.WAITLISTED)
        .annotate(position=Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + 1)
        .values_list("user_id", "position")
    )


@pytest.fixture
def group():
    group = SupportGroupFactory(name="Evening Circle")
    MembershipFactory(group=group, role=Role.FACILITATOR)
    return group


@pytest.fixture
def meeting(group):
    """Tomorrow, ten places."""
    return MeetingFactory(
        group=group, capacity=CAPACITY, starts_at=timezone.now() + timedelta(days=1)
    )


@pytest.fixture
def crowd(group):
    return [member_of(group) for _ in range(PEOPLE)]


def test_fifty_members_pressing_going_at_once_fill_ten_places_and_queue_the_rest(meeting, crowd):
    outcomes = run_at_once([rsvp_call(meeting, person) for person in crowd])

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    holders = list(confirmed(meeting))
    waiting = waitlist(meeting)
    assert len(holders) == CAPACITY
    assert len(waiting) == PEOPLE - CAPACITY
    assert Rsvp.objects.filter(meeting=meeting).count() == PEOPLE
    assert {r.user_id for r in holders + waiting} == {person.pk for person in crowd}
    assert {r.response for r in holders + waiting} == {RsvpResponse.GOING}
    # Places 1..40 in line, without gaps or repeats...
    positions = waitlist_positions(meeting)
    assert sorted(positions.values()) == list(range(1, PEOPLE - CAPACITY + 1))
    assert [positions[r.user_id] for r in waiting] == list(range(1, PEOPLE - CAPACITY + 1))
    # ...because the lock serves people one at a time, so arrival times never tie,
    waited_since = [r.waitlisted_at for r in waiting]
    assert all(earlier < later for earlier, later in pairwise(waited_since))
    # and everyone confirmed was served before anyone was queued.
    assert max(r.responded_at for r in holders) < min(waited_since)
    assert all(r.waitlisted_at is None for r in holders)
    # Each caller was told the truth about where they ended up.
    told = {o.user_id: o.status for o in outcomes}
    stored = dict(Rsvp.objects.filter(meeting=meeting).values_list("user_id", "status"))
    assert told == stored


def test_lock_holds_even_when_counting_places_is_slow(meeting, group, monkeypatch):
    """The same slowed-down count as the control below, but with the real lock."""
    monkeypatch.setattr(services, "_has_place", slow_has_place)
    people = [member_of(group) for _ in range(20)]

    run_at_once([rsvp_call(meeting, person) for person in people])

    assert confirmed(meeting).count() == CAPACITY
    assert len(waitlist(meeting)) == 20 - CAPACITY


def test_one_member_pressing_going_ten_times_at_once_gets_one_answer(meeting, group):
    person = member_of(group)

    outcomes = run_at_once([rsvp_call(meeting, person) for _ in range(10)])

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert {o.pk for o in outcomes} == {Rsvp.objects.get(meeting=meeting, user=person).pk}
    assert Rsvp.objects.filter(meeting=meeting).count() == 1
    assert confirmed(meeting).count() == 1


def line_up(meeting, group, *, holders: int, waiting: int):
    """`holders` confirmed people, and `waiting` people queued in a known order.

    The queue is created back to front, so that row ids disagree with the order of
    arrival: only (waitlisted_at, id) can give the right answer.
    """
    holding = [member_of(group) for _ in range(holders)]
    for person in holding:
        Rsvp.objects.create(
            meeting=meeting, user=person, response=RsvpResponse.GOING, status=RsvpStatus.CONFIRMED
        )
    start = timezone.now() - timedelta(hours=5)
    queue = {}
    for position in range(waiting, 0, -1):
        queue[position] = Rsvp.objects.create(
            meeting=meeting,
            user=member_of(group),
            response=RsvpResponse.GOING,
            status=RsvpStatus.WAITLISTED,
            waitlisted_at=start + timedelta(minutes=position),
        )
    return holding, queue


def test_two_confirmed_members_cancelling_at_once_promote_exactly_the_first_two_waiting(
    group,
):
    meeting = MeetingFactory(group=group, capacity=2)
    leaving, queue = line_up(meeting, group, holders=2, waiting=3)

    outcomes = run_at_once([rsvp_call(meeting, person, going=False) for person in leaving])

    assert [o.status for o in outcomes] == [RsvpStatus.DECLINED] * 2
    for rsvp in queue.values():
        rsvp.refresh_from_db()
    assert queue[1].status == RsvpStatus.CONFIRMED
    assert queue[2].status == RsvpStatus.CONFIRMED
    assert queue[3].status == RsvpStatus.WAITLISTED
    assert set(confirmed(meeting).values_list("pk", flat=True)) == {queue[1].pk, queue[2].pk}
    assert waitlist_positions(meeting) == {queue[3].user_id: 1}


def test_each_racing_cancellation_frees_one_place_for_the_next_in_line(group, monkeypatch):
    """Every cancellation promotes exactly one person, in order; nobody is promoted twice."""
    meeting = MeetingFactory(group=group, capacity=4)
    leaving, queue = line_up(meeting, group, holders=4, waiting=6)
    promotions = []
    real_promote = services._promote_waiting

    def recording_promote(locked_meeting):
        promoted = real_promote(locked_meeting)
        promotions.append([rsvp.pk for rsvp in promoted])
        return promoted

    monkeypatch.setattr(services, "_promote_waiting", recording_promote)

    run_at_once([rsvp_call(meeting, person, going=False) for person in leaving])

    assert sorted(len(each) for each in promotions) == [1, 1, 1, 1]
    # Served one at a time, so the promotions follow the line in the order they happened.
    assert [pk for each in promotions for pk in each] == [queue[n].pk for n in (1, 2, 3, 4)]
    assert confirmed(meeting).count() == 4
    assert [r.pk for r in waitlist(meeting)] == [queue[5].pk, queue[6].pk]


def test_a_freed_place_goes_to_the_waitlist_not_to_someone_arriving_at_that_moment(group):
    meeting = MeetingFactory(group=group, capacity=3)
    holding, queue = line_up(meeting, group, holders=3, waiting=2)
    newcomers = [member_of(group) for _ in range(5)]

    outcomes = run_at_once(
        [rsvp_call(meeting, holding[0], going=False)]
        + [rsvp_call(meeting, person) for person in newcomers]
    )

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    queue[1].refresh_from_db()
    assert queue[1].status == RsvpStatus.CONFIRMED
    assert confirmed(meeting).count() == 3
    line = [r.user_id for r in waitlist(meeting)]
    assert line[0] == queue[2].user_id  # was waiting before, still first
    assert set(line[1:]) == {person.pk for person in newcomers}


# --- Negative control -------------------------------------------------------------------


def slow_has_place(meeting: Meeting) -> bool:
    """Count the confirmed places, then dawdle: widens the gap between reading and writing."""
    taken = services._confirmed_count(meeting)
    time.sleep(0.05)
    return meeting.capacity is None or taken < meeting.capacity


def test_control_without_the_row_lock_the_same_race_over_confirms(meeting, crowd, monkeypatch):
    monkeypatch.setattr(
        services,
        "_lock_meeting",
        lambda meeting_id: Meeting.objects.select_related("group").get(pk=meeting_id),
    )
    monkeypatch.setattr(services, "_has_place", slow_has_place)

    run_at_once([rsvp_call(meeting, person) for person in crowd])

    assert confirmed(meeting).count() > CAPACITY
