"""Members answering "going" or "not going", and the waitlist of a full meeting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from groups.models import MembershipStatus
from sessions import services
from sessions.errors import MeetingError
from sessions.models import MeetingStatus, Rsvp, RsvpResponse, RsvpStatus
from tests.factories import CoordinatorFactory, UserFactory
from tests.meetings.factories import MeetingFactory, local_start, member_of

pytestmark = pytest.mark.django_db


def answer(meeting, person, going=True) -> Rsvp:
    return services.meeting_rsvp(meeting_id=meeting.pk, member=person, going=going)


def waitlist(meeting) -> list[int]:
    """User ids on the waitlist, first in line first."""
    return list(
        Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.WAITLISTED)
        .order_by("waitlisted_at", "id")
        .values_list("user_id", flat=True)
    )


def confirmed(meeting) -> set[int]:
    return set(
        Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.CONFIRMED).values_list(
            "user_id", flat=True
        )
    )


@pytest.fixture
def meeting(group):
    return MeetingFactory(group=group)


@pytest.fixture
def small_meeting(group):
    """Two places."""
    return MeetingFactory(group=group, capacity=2)


@pytest.fixture
def people(group):
    return [member_of(group) for _ in range(5)]


# --- Answers ----------------------------------------------------------------------------


def test_going_to_a_meeting_with_room_confirms_a_place(meeting, member):
    rsvp = answer(meeting, member)

    assert rsvp.response == RsvpResponse.GOING
    assert rsvp.status == RsvpStatus.CONFIRMED
    assert rsvp.waitlisted_at is None
    assert Rsvp.objects.get(meeting=meeting, user=member) == rsvp


def test_not_going_is_recorded_as_declined(meeting, member):
    rsvp = answer(meeting, member, going=False)

    assert rsvp.response == RsvpResponse.NOT_GOING
    assert rsvp.status == RsvpStatus.DECLINED


def test_a_meeting_without_a_limit_takes_everyone(meeting, people):
    for person in people:
        answer(meeting, person)

    assert confirmed(meeting) == {person.pk for person in people}


def test_changing_ones_mind_updates_the_one_answer(meeting, member):
    first = answer(meeting, member)
    answer(meeting, member, going=False)
    again = answer(meeting, member)

    assert Rsvp.objects.filter(meeting=meeting, user=member).count() == 1
    assert again.pk == first.pk
    assert again.response == RsvpResponse.GOING
    assert again.status == RsvpStatus.CONFIRMED


def test_saying_going_twice_changes_nothing(small_meeting, people):
    first = answer(small_meeting, people[0])

    again = answer(small_meeting, people[0])

    assert again.pk == first.pk
    assert again.responded_at == first.responded_at
    assert Rsvp.objects.filter(meeting=small_meeting).count() == 1


# --- Waitlist ---------------------------------------------------------------------------


def test_full_meeting_puts_next_members_on_the_waitlist_in_order(small_meeting, people):
    answers = [answer(small_meeting, person) for person in people]

    assert [a.status for a in answers] == [RsvpStatus.CONFIRMED] * 2 + [RsvpStatus.WAITLISTED] * 3
    assert all(a.response == RsvpResponse.GOING for a in answers)
    assert confirmed(small_meeting) == {people[0].pk, people[1].pk}
    assert waitlist(small_meeting) == [people[2].pk, people[3].pk, people[4].pk]
    waited_since = [a.waitlisted_at for a in answers[2:]]
    assert waited_since == sorted(waited_since)


def test_cancelling_a_confirmed_place_promotes_the_first_waiting(small_meeting, people):
    for person in people:
        answer(small_meeting, person)

    answer(small_meeting, people[0], going=False)

    assert confirmed(small_meeting) == {people[1].pk, people[2].pk}
    assert waitlist(small_meeting) == [people[3].pk, people[4].pk]
    promoted = Rsvp.objects.get(meeting=small_meeting, user=people[2])
    assert promoted.waitlisted_at is None


def test_leaving_the_waitlist_promotes_nobody_and_closes_the_gap(small_meeting, people):
    for person in people:
        answer(small_meeting, person)

    answer(small_meeting, people[3], going=False)

    assert confirmed(small_meeting) == {people[0].pk, people[1].pk}
    assert waitlist(small_meeting) == [people[2].pk, people[4].pk]


def test_coming_back_after_declining_joins_the_end_of_the_waitlist(small_meeting, people):
    for person in people:
        answer(small_meeting, person)
    answer(small_meeting, people[2], going=False)

    answer(small_meeting, people[2])

    assert waitlist(small_meeting) == [people[3].pk, people[4].pk, people[2].pk]


def test_waitlist_order_is_time_of_arrival_then_id(small_meeting, group):
    """Promotion is first come first served, with the row id breaking a tie."""
    since = timezone.now() - timedelta(hours=1)
    holders = [member_of(group) for _ in range(2)]
    for person in holders:
        answer(small_meeting, person)
    # Rows created so that ids disagree with the order of arrival, and two arrive together.
    late, tie_b, tie_a = (member_of(group) for _ in range(3))
    rows = {}
    for person, minutes in ((late, 30), (tie_a, 10), (tie_b, 10)):
        rows[person.pk] = Rsvp.objects.create(
            meeting=small_meeting,
            user=person,
            response=RsvpResponse.GOING,
            status=RsvpStatus.WAITLISTED,
            waitlisted_at=since + timedelta(minutes=minutes),
        )
    first_of_tie = min((tie_a, tie_b), key=lambda person: rows[person.pk].pk)
    second_of_tie = max((tie_a, tie_b), key=lambda person: rows[person.pk].pk)

    answer(small_meeting, holders[0], going=False)
    assert first_of_tie.pk in confirmed(small_meeting)
    answer(small_meeting, holders[1], going=False)
    assert second_of_tie.pk in confirmed(small_meeting)
    assert waitlist(small_meeting) == [late.pk]


def test_raising_the_places_promotes_the_waiting_in_order(small_meeting, people, facilitator):
    for person in people:
        answer(small_meeting, person)

    services.meeting_capacity_set(meeting_id=small_meeting.pk, capacity=4, actor=facilitator)

    assert confirmed(small_meeting) == {p.pk for p in people[:4]}
    assert waitlist(small_meeting) == [people[4].pk]


def test_removing_the_limit_promotes_everyone_waiting(small_meeting, people, facilitator):
    for person in people:
        answer(small_meeting, person)

    services.meeting_capacity_set(meeting_id=small_meeting.pk, capacity=None, actor=facilitator)

    assert confirmed(small_meeting) == {p.pk for p in people}
    assert waitlist(small_meeting) == []


def test_more_places_in_the_edit_form_promote_too(small_meeting, people, facilitator):
    for person in people:
        answer(small_meeting, person)
    local = local_start(small_meeting)

    services.meeting_update(
        meeting_id=small_meeting.pk,
        actor=facilitator,
        starts_on=local.date(),
        start_time=local.time(),
        duration_minutes=90,
        title="",
        capacity=3,
        place={},
    )

    assert confirmed(small_meeting) == {p.pk for p in people[:3]}
    small_meeting.refresh_from_db()
    assert small_meeting.starts_at == local  # not moved


# --- Who may answer, and when -----------------------------------------------------------


def test_no_answer_to_a_cancelled_meeting(meeting, member, facilitator):
    services.meeting_cancel(meeting_id=meeting.pk, actor=facilitator)

    with pytest.raises(MeetingError, match="This meeting has been cancelled"):
        answer(meeting, member)

    assert not Rsvp.objects.filter(meeting=meeting).exists()


@pytest.mark.parametrize(
    "starts_in",
    [timedelta(days=-3), timedelta(minutes=-10)],
    ids=["past", "already-started"],
)
def test_no_answer_to_a_meeting_that_has_started(group, member, starts_in):
    meeting = MeetingFactory(group=group, starts_at=timezone.now() + starts_in)

    for going in (True, False):
        with pytest.raises(MeetingError, match="This meeting has already started"):
            answer(meeting, member, going=going)

    assert not Rsvp.objects.filter(meeting=meeting).exists()


@pytest.mark.parametrize(
    "status",
    [
        MembershipStatus.PENDING,
        MembershipStatus.WAITLISTED,
        MembershipStatus.DECLINED,
        MembershipStatus.LEFT,
        MembershipStatus.REMOVED,
    ],
)
def test_only_active_members_can_answer(meeting, group, status):
    person = member_of(group, status=status)

    with pytest.raises(MeetingError, match="Only members of the group can answer"):
        answer(meeting, person)

    assert not Rsvp.objects.filter(meeting=meeting).exists()


def test_someone_outside_the_group_cannot_answer(meeting):
    with pytest.raises(MeetingError, match="Only members of the group can answer"):
        answer(meeting, UserFactory())

    assert not Rsvp.objects.filter(meeting=meeting).exists()


def test_a_member_of_another_group_cannot_answer(meeting):
    other = MeetingFactory()
    outsider = member_of(other.group)

    with pytest.raises(MeetingError, match="Only members of the group can answer"):
        answer(meeting, outsider)


def test_a_cancelled_meeting_keeps_its_answers_but_promotes_no_one(small_meeting, people):
    for person in people:
        answer(small_meeting, person)
    services.meeting_cancel(meeting_id=small_meeting.pk, actor=CoordinatorFactory())

    with pytest.raises(MeetingError, match="This meeting has been cancelled"):
        answer(small_meeting, people[0], going=False)

    small_meeting.refresh_from_db()
    assert small_meeting.status == MeetingStatus.CANCELLED
    assert confirmed(small_meeting) == {people[0].pk, people[1].pk}
    assert len(waitlist(small_meeting)) == 3
