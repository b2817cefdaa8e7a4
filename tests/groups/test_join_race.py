"""Many people pressing "Join" at the same moment: the group row lock keeps the count right.

Every test here runs real threads, each with its own database connection, released
together by a barrier. The last test removes the lock and shows that the same race then
over-admits, so the others would notice a broken lock.
"""

import time
from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from groups import services
from groups.errors import MembershipError
from groups.models import Membership, MembershipStatus, Role, SupportGroup
from tests.concurrency import run_at_once
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CAPACITY = 10
PEOPLE = 30
CONDUCT_VERSION = 1  # SupportGroupFactory publishes version 1


def join_call(group, person):
    return lambda: services.membership_join(
        group_id=group.pk,
        user=person,
        accepted_conduct_version=CONDUCT_VERSION,
        contact_shared=False,
    )


@pytest.fixture
def open_group():
    """An open group with room for 10; its facilitator does not take a seat."""
    group = SupportGroupFactory(name="Morning Walkers", capacity=CAPACITY)
    MembershipFactory(group=group, role=Role.FACILITATOR)
    return group


def seat_holders(group):
    return Membership.objects.filter(
        group=group, status=MembershipStatus.ACTIVE, role__in=services.SEAT_ROLES
    )


def waitlist(group):
    return Membership.objects.filter(group=group, status=MembershipStatus.WAITLISTED).order_by(
        "waitlisted_at", "id"
    )


def test_thirty_people_joining_at_once_fill_ten_seats_and_queue_the_rest_in_order(open_group):
    people = [UserFactory() for _ in range(PEOPLE)]

    outcomes = run_at_once([join_call(open_group, person) for person in people])

    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert errors == []
    members = list(seat_holders(open_group))
    waiting = list(waitlist(open_group))
    assert len(members) == CAPACITY
    assert len(waiting) == PEOPLE - CAPACITY
    everyone = Membership.objects.filter(group=open_group, role=Role.MEMBER)
    assert everyone.count() == PEOPLE
    assert len(set(everyone.values_list("user_id", flat=True))) == PEOPLE
    assert {m.user_id for m in members + waiting} == {person.pk for person in people}
    # The lock serves people one at a time, so the queue has no ties...
    waited_since = [membership.waitlisted_at for membership in waiting]
    assert all(earlier < later for earlier, later in pairwise(waited_since))
    # ...and everyone who got a seat was served before anyone was queued.
    assert max(membership.joined_at for membership in members) < min(waited_since)
    assert all(membership.joined_at is None for membership in waiting)
    # Each caller was told the truth about where they ended up.
    told = {outcome.user_id: outcome.status for outcome in outcomes}
    stored = dict(everyone.values_list("user_id", "status"))
    assert told == stored


def test_lock_holds_even_when_counting_seats_is_slow(open_group, monkeypatch):
    """The same slowed-down seat count as the control below, but with the real lock."""
    monkeypatch.setattr(services, "_has_free_seat", slow_has_free_seat)
    people = [UserFactory() for _ in range(PEOPLE)]

    run_at_once([join_call(open_group, person) for person in people])

    assert seat_holders(open_group).count() == CAPACITY
    assert waitlist(open_group).count() == PEOPLE - CAPACITY


def test_one_person_pressing_join_ten_times_gets_one_membership(open_group):
    person = UserFactory()

    outcomes = run_at_once([join_call(open_group, person) for _ in range(10)])

    joined = [outcome for outcome in outcomes if isinstance(outcome, Membership)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, MembershipError)]
    assert len(joined) == 1
    assert len(refused) == 9, outcomes
    assert Membership.objects.filter(group=open_group, user=person).count() == 1
    assert joined[0].status == MembershipStatus.ACTIVE


def test_two_members_leaving_at_once_promote_exactly_the_first_two_waiting(
    eager_celery, mailoutbox
):
    group = SupportGroupFactory(name="Evening Circle", capacity=2)
    MembershipFactory(group=group, role=Role.FACILITATOR)
    leaving = [MembershipFactory(group=group).user for _ in range(2)]
    start = timezone.now() - timedelta(days=3)
    # Created in reverse so that row ids disagree with the order of arrival.
    waiting = {}
    for position in (3, 2, 1):
        waiting[position] = MembershipFactory(
            group=group,
            status=MembershipStatus.WAITLISTED,
            joined_at=None,
            waitlisted_at=start + timedelta(hours=position),
        )

    outcomes = run_at_once(
        [
            lambda person=person: services.membership_leave(group_id=group.pk, user=person)
            for person in leaving
        ]
    )

    assert [outcome.status for outcome in outcomes] == [MembershipStatus.LEFT] * 2
    for membership in waiting.values():
        membership.refresh_from_db()
    assert waiting[1].status == MembershipStatus.ACTIVE
    assert waiting[2].status == MembershipStatus.ACTIVE
    assert waiting[3].status == MembershipStatus.WAITLISTED
    assert seat_holders(group).count() == 2
    promoted_to = sorted(address for message in mailoutbox for address in message.to)
    assert promoted_to == sorted([waiting[1].user.email, waiting[2].user.email])


# --- Negative control -------------------------------------------------------------------


def slow_has_free_seat(group: SupportGroup) -> bool:
    """Count the seats, then dawdle: widens the gap between reading and writing."""
    taken = services._seats_taken(group)
    time.sleep(0.05)
    return group.capacity is None or taken < group.capacity


def test_control_without_the_row_lock_the_same_race_over_admits(open_group, monkeypatch):
    monkeypatch.setattr(
        services, "_lock_group", lambda group_id: SupportGroup.objects.get(pk=group_id)
    )
    monkeypatch.setattr(services, "_has_free_seat", slow_has_free_seat)
    people = [UserFactory() for _ in range(PEOPLE)]

    run_at_once([join_call(open_group, person) for person in people])

    assert seat_holders(open_group).count() > CAPACITY
