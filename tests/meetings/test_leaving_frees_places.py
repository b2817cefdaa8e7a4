"""Any end of a membership gives up the person's places at the group's coming meetings.

Leaving, being removed and erasing the account all release the person's confirmed and
waitlisted answers to future meetings and promote the first person waiting (who is told
through the outbox); past meetings keep their answers and attendance.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from groups import services as group_services
from groups.models import Role
from members.models import Notification, NotificationKind
from members.services import account_erase
from sessions import services
from sessions.models import Attendance, AttendanceStatus, Meeting, Rsvp, RsvpStatus
from tests.concurrency import run_at_once
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.meetings.factories import MeetingFactory, member_of


def going(meeting, person) -> Rsvp:
    return services.meeting_rsvp(meeting_id=meeting.pk, member=person, going=True)


def status_of(meeting, person) -> str | None:
    return (
        Rsvp.objects.filter(meeting=meeting, user=person).values_list("status", flat=True).first()
    )


def promotions_of(person) -> int:
    return Notification.objects.filter(
        recipient=person, kind=NotificationKind.WAITLIST_PROMOTED
    ).count()


@pytest.fixture
def group(db):
    group = SupportGroupFactory(name="Thursday Circle")
    MembershipFactory(group=group, role=Role.FACILITATOR)
    return group


@pytest.fixture
def scene(group):
    """A full meeting next week (one place) with a line, and one that already happened."""
    leaver, waiting, second = (member_of(group) for _ in range(3))
    upcoming = MeetingFactory(group=group, capacity=1, starts_at=timezone.now() + timedelta(7))
    later = MeetingFactory(group=group, capacity=1, starts_at=timezone.now() + timedelta(14))
    past = MeetingFactory(group=group, capacity=1, starts_at=timezone.now() - timedelta(7))
    for meeting in (upcoming, later):
        going(meeting, leaver)
        going(meeting, waiting)
    going(later, second)  # second in line at the later meeting
    Rsvp.objects.create(meeting=past, user=leaver, response="going", status=RsvpStatus.CONFIRMED)
    Attendance.objects.create(meeting=past, user=leaver, status=AttendanceStatus.PRESENT)
    return {
        "leaver": leaver,
        "waiting": waiting,
        "second": second,
        "upcoming": upcoming,
        "later": later,
        "past": past,
    }


def _leave(scene, group):
    group_services.membership_leave(group_id=group.pk, user=scene["leaver"])


def _removed(scene, group):
    facilitator = group.memberships.get(role=Role.FACILITATOR).user
    membership = group.memberships.get(user=scene["leaver"])
    group_services.membership_remove(
        group_id=group.pk, membership_id=membership.pk, actor=facilitator
    )


def _erased(scene, group):
    account_erase(user=scene["leaver"])


@pytest.mark.parametrize("ending", [_leave, _removed, _erased], ids=["leave", "removed", "erased"])
def test_any_end_of_membership_frees_future_places_and_promotes_the_next_in_line(
    scene, group, ending
):
    ending(scene, group)

    leaver, waiting = scene["leaver"], scene["waiting"]
    for meeting in (scene["upcoming"], scene["later"]):
        assert status_of(meeting, leaver) == RsvpStatus.DECLINED
        assert status_of(meeting, waiting) == RsvpStatus.CONFIRMED
    assert status_of(scene["later"], scene["second"]) == RsvpStatus.WAITLISTED
    assert promotions_of(waiting) == 2  # one message per meeting, through the outbox
    # The past is left as it was: the reports still count the evening they came.
    assert status_of(scene["past"], leaver) == RsvpStatus.CONFIRMED
    assert Attendance.objects.get(meeting=scene["past"], user=leaver).status == "present"


def test_leaving_gives_up_a_waitlist_place_too(group):
    holder, leaver, behind = (member_of(group) for _ in range(3))
    meeting = MeetingFactory(group=group, capacity=1)
    for person in (holder, leaver, behind):
        going(meeting, person)

    group_services.membership_leave(group_id=group.pk, user=leaver)

    assert status_of(meeting, leaver) == RsvpStatus.DECLINED
    assert status_of(meeting, behind) == RsvpStatus.WAITLISTED
    assert services.meeting_rsvp(meeting_id=meeting.pk, member=holder, going=False)
    assert status_of(meeting, behind) == RsvpStatus.CONFIRMED


def test_leaving_one_group_keeps_places_in_another(group):
    leaver = member_of(group)
    other_group = SupportGroupFactory()
    MembershipFactory(group=other_group, user=leaver)
    elsewhere = MeetingFactory(group=other_group, capacity=3)
    going(elsewhere, leaver)

    group_services.membership_leave(group_id=group.pk, user=leaver)

    assert status_of(elsewhere, leaver) == RsvpStatus.CONFIRMED


def test_a_cancelled_meeting_releases_the_place_but_promotes_no_one(group):
    leaver, waiting = member_of(group), member_of(group)
    meeting = MeetingFactory(group=group, capacity=1)
    going(meeting, leaver)
    going(meeting, waiting)
    Meeting.objects.filter(pk=meeting.pk).update(status="cancelled")

    group_services.membership_leave(group_id=group.pk, user=leaver)

    assert status_of(meeting, leaver) == RsvpStatus.DECLINED
    assert status_of(meeting, waiting) == RsvpStatus.WAITLISTED
    assert promotions_of(waiting) == 0


# --- Races ----------------------------------------------------------------------------

ROUNDS = 12


def _free_place_while_someone_waits(meeting) -> bool:
    rsvps = Rsvp.objects.filter(meeting=meeting)
    confirmed = rsvps.filter(status=RsvpStatus.CONFIRMED).count()
    return confirmed < meeting.capacity and rsvps.filter(status=RsvpStatus.WAITLISTED).exists()


@pytest.mark.django_db(transaction=True)
def test_two_members_leaving_at_once_promote_the_two_people_waiting_once_each(group):
    leavers = [member_of(group) for _ in range(2)]
    line = [member_of(group) for _ in range(3)]
    meeting = MeetingFactory(group=group, capacity=2)
    for person in [*leavers, *line]:
        going(meeting, person)

    outcomes = run_at_once(
        [
            lambda person=person: group_services.membership_leave(group_id=group.pk, user=person)
            for person in leavers
        ]
    )

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    confirmed = set(
        Rsvp.objects.filter(meeting=meeting, status=RsvpStatus.CONFIRMED).values_list(
            "user_id", flat=True
        )
    )
    assert confirmed == {line[0].pk, line[1].pk}
    assert status_of(meeting, line[2]) == RsvpStatus.WAITLISTED
    assert [promotions_of(person) for person in line] == [1, 1, 0]


def going_a_moment_later(meeting, person) -> Rsvp:
    """Answer just after the race starts, when the leaving person's place is being freed."""
    time.sleep(0.02)
    return going(meeting, person)


def _race_leaving_against_a_new_answer(group, rounds: int) -> list[int]:
    """Round after round, one member leaves a full meeting as another presses "Going".

    Returns the rounds that ended with a free place while someone waited.
    """
    broken = []
    for round_number in range(rounds):
        leaver, newcomer = member_of(group), member_of(group)
        meeting = MeetingFactory(group=group, capacity=1)
        going(meeting, leaver)
        run_at_once(
            [
                lambda leaver=leaver: group_services.membership_leave(
                    group_id=group.pk, user=leaver
                ),
                lambda meeting=meeting, newcomer=newcomer: going_a_moment_later(meeting, newcomer),
            ]
        )
        if _free_place_while_someone_waits(meeting):
            broken.append(round_number)
    return broken


@pytest.mark.django_db(transaction=True)
def test_leaving_and_a_new_answer_at_once_never_leave_a_free_place_with_a_line(group):
    assert _race_leaving_against_a_new_answer(group, ROUNDS) == []


@pytest.mark.django_db(transaction=True)
def test_control_without_the_meeting_lock_the_same_race_leaves_a_free_place(group, monkeypatch):
    """Shows the race above is real. An answer locks its meeting and, with it, the group's
    row, which a leave holds: so answers wait for a leave in progress. Take both locks
    away (the release reads meetings unlocked, an answer locks only its meeting) and a
    newcomer is queued behind a place that is being freed at the same moment."""
    releasing = threading.local()
    real_release = services.rsvps_release_on_leaving

    def lock_unless_releasing(meeting_id):
        meetings = Meeting.objects.select_related("group")
        if getattr(releasing, "now", False):
            return meetings.get(pk=meeting_id)
        return meetings.select_for_update(of=("self",)).get(pk=meeting_id)

    def release_without_lock(**kwargs):
        releasing.now = True
        try:
            released = real_release(**kwargs)
        finally:
            releasing.now = False
        time.sleep(0.05)  # the leaving transaction stays open, as a slow one would
        return released

    monkeypatch.setattr(services, "_lock_meeting", lock_unless_releasing)
    monkeypatch.setattr(services, "rsvps_release_on_leaving", release_without_lock)

    assert _race_leaving_against_a_new_answer(group, ROUNDS) != []
