"""Past meetings stay reachable: recent meetings with their register, registers waiting,
the meeting page in the past tense, and cancelled meetings that can be put back on."""

# The shared role cast (`cast`) is imported as a fixture; tests take it by name.
# ruff: noqa: F811

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from groups.models import Role
from members import notifications
from members.models import Notification, NotificationKind
from members.permissions import NotAllowed
from members.services import coordinator_grant
from sessions import selectors, services
from sessions.errors import MeetingError
from sessions.models import Attendance, MeetingChange, MeetingStatus, Rsvp, RsvpStatus
from sessions.notifications import scan_changes
from tests.auth import log_in
from tests.factories import UserFactory
from tests.groups.conftest import (  # noqa: F401  (cast: the role cast, shared)
    ROLES,
    assert_no_private_data,
    cast,
)
from tests.meetings.factories import MeetingFactory, member_of
from tests.meetings.test_query_counts import add_members
from tests.query_budget import assert_flat, count_queries

pytestmark = pytest.mark.django_db

NOW = timezone.now


def past(group, *, days_ago: float = 1, **extra):
    return MeetingFactory(group=group, starts_at=NOW() - timedelta(days=days_ago), **extra)


def going(meeting, person, status=RsvpStatus.CONFIRMED):
    return Rsvp.objects.create(meeting=meeting, user=person, response="going", status=status)


def mark(meeting, person, status="present"):
    return Attendance.objects.create(meeting=meeting, user=person, status=status)


def register_of(meetings, meeting) -> tuple:
    (row,) = [m for m in meetings if m.pk == meeting.pk]
    return row.expected_count, row.marked_count, row.unmarked_count, row.came_count


# --- Selectors --------------------------------------------------------------------------


def test_recent_meetings_come_latest_first_with_their_register(group):
    people = [member_of(group) for _ in range(5)]
    older, newer = past(group, days_ago=8), past(group, days_ago=1)
    MeetingFactory(group=group)  # next week: not recent
    for person in people[:4]:
        going(newer, person)
    going(newer, people[4], RsvpStatus.WAITLISTED)  # no place: not expected
    mark(newer, people[0])
    mark(newer, people[1], "absent")
    mark(newer, people[4], "late")  # came from the waitlist: counts as marked

    meetings = selectors.recent_meetings_of(group)

    assert [m.pk for m in meetings] == [newer.pk, older.pk]
    assert register_of(meetings, newer) == (5, 3, 2, 2)
    assert register_of(meetings, older) == (0, 0, 0, 0)


def test_recent_meetings_cost_one_query_however_many_meetings_and_people(group):
    viewer = member_of(group)

    def grow(meetings: int, people: int):
        members = add_members(group, people)
        for n in range(meetings):
            meeting = past(group, days_ago=n + 1)
            for person in members:
                going(meeting, person)
            mark(meeting, members[0])

    budget = assert_flat(
        small_setup=lambda: grow(2, 3),
        large_setup=lambda: grow(10, 20),
        request=lambda: selectors.recent_meetings_of(group, viewer=viewer),
        status=None,
        label="recent meetings",
    )
    assert budget.large == 1


def test_registers_waiting_are_the_last_two_weeks_of_my_groups_not_complete(group, facilitator):
    person = member_of(group)
    waiting = past(group, days_ago=2)
    going(waiting, person)
    not_taken = past(group, days_ago=3)  # nobody answered, nobody marked
    complete = past(group, days_ago=4)
    going(complete, person)
    mark(complete, person)
    past(group, days_ago=15)  # too long ago
    past(group, days_ago=5, status=MeetingStatus.CANCELLED)
    MeetingFactory(group=group, starts_at=NOW() - timedelta(minutes=30))  # not ended yet
    past(MeetingFactory().group, days_ago=2)  # another group's

    meetings = selectors.registers_waiting_for(facilitator)

    assert [m.pk for m in meetings] == [waiting.pk, not_taken.pk]
    assert selectors.register_is_complete(complete.pk)
    assert not selectors.register_is_complete(waiting.pk)


def test_registers_wait_for_facilitators_not_members_or_coordinators(group, member):
    past(group, days_ago=1)
    coordinator = UserFactory()
    coordinator_grant(user=coordinator)

    assert selectors.registers_waiting_for(member) == []
    assert selectors.registers_waiting_for(coordinator) == []
    assert len(selectors.registers_waiting_for(member_of(group, role=Role.CO_FACILITATOR))) == 1


def test_registers_waiting_cost_one_query_however_many(facilitator, group):
    def grow(count: int):
        people = add_members(group, count)
        for n in range(count):
            meeting = past(group, days_ago=0.2 + n * 0.05)
            going(meeting, people[n])

    budget = assert_flat(
        small_setup=lambda: grow(3),
        large_setup=lambda: grow(12),
        request=lambda: selectors.registers_waiting_for(facilitator),
        status=None,
        label="registers waiting",
    )
    assert budget.large == 1


def test_the_registers_waiting_tag_says_nothing_when_there_are_none(group, facilitator):
    template = Template("{% load meeting_lists %}{% registers_waiting person %}")
    assert template.render(Context({"person": facilitator})).strip() == ""

    meeting = past(group, days_ago=1, title="Tuesday circle")
    going(meeting, member_of(group))
    html = template.render(Context({"person": facilitator}))

    assert "A register is waiting for you" in html
    assert f'href="/meetings/{meeting.pk}/attendance/"' in html
    assert "Take attendance: Harbour Lights, Tuesday circle" in html


# --- Group pages ------------------------------------------------------------------------


@pytest.fixture
def history(cast):
    """Last week's meeting: 2 of the 3 who said going are not marked; one came."""
    meeting = past(cast.group, days_ago=7)
    people = [cast.people["member"], cast.people["peer_moderator"], cast.people["facilitator"]]
    for person in people:
        going(meeting, person)
    mark(meeting, cast.people["member"])
    return cast, meeting


SEES_LIST = {"member", "peer_moderator", "facilitator", "coordinator"}
STAFF = {"facilitator", "coordinator"}


@pytest.mark.parametrize("role", ROLES)
def test_the_group_page_lists_recent_meetings_by_role(client, history, role):
    roles, meeting = history
    roles.login(client, role)

    text = client.get(roles.group.get_absolute_url()).content.decode()

    assert ("Recent meetings" in text) == (role in SEES_LIST)
    assert (f"/meetings/{meeting.pk}/attendance/" in text) == (role in STAFF)
    assert ("2 of 3 not marked" in text) == (role in STAFF)
    if role == "member":
        assert "You went" in text
    else:
        assert "You went" not in text


@pytest.mark.parametrize("role", ["facilitator", "coordinator"])
def test_the_manage_page_shows_the_register_state(client, history, role):
    roles, _meeting = history
    roles.login(client, role)

    text = client.get(reverse("groups:manage", args=[roles.group.slug])).content.decode()

    assert "2 of 3 not marked" in text
    assert "Finish the register" in text


# --- The meeting page -------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_a_past_meeting_speaks_in_the_past_tense(client, history, role):
    roles, meeting = history
    meeting.guest_count = 2
    meeting.save()
    roles.login(client, role)

    response = client.get(meeting.get_absolute_url())

    assert response.status_code == 200
    text = response.content.decode()
    assert ("1 came, and 2 walk-in guests" in text) == (role in SEES_LIST)
    assert ("You went." in text) == (role == "member")
    assert "Your answer" not in text
    if role in STAFF:
        assert "Register: 1 present, 0 late, 0 excused, 0 absent." in text
        assert "2 of 3 not marked." in text
        assert "Finish the register" in text
        assert "3 people said they were going" in text
    else:
        assert "Register:" not in text
        assert_no_private_data(text)


def test_only_the_person_themself_hears_they_were_marked_absent(client, cast):
    meeting = past(cast.group)
    mark(meeting, cast.people["member"], "absent")

    log_in(client, cast.people["member"])
    assert "You were marked absent." in client.get(meeting.get_absolute_url()).content.decode()
    log_in(client, cast.people["peer_moderator"])
    assert "marked absent" not in client.get(meeting.get_absolute_url()).content.decode()


def test_before_the_register_opens_staff_read_when_it_opens(client, cast):
    meeting = MeetingFactory(group=cast.group, starts_at=NOW() + timedelta(days=3))
    log_in(client, cast.people["facilitator"])

    text = client.get(meeting.get_absolute_url()).content.decode()

    assert "The register opens on" in text
    assert "Take attendance" not in text


@pytest.mark.parametrize("role", ROLES)
def test_a_cancelled_meeting_shows_no_places_answers_or_register(client, cast, role):
    meeting = MeetingFactory(group=cast.group, capacity=10, starts_at=NOW() + timedelta(days=2))
    going(meeting, cast.people["member"])
    services.meeting_cancel(meeting_id=meeting.pk, actor=cast.people["facilitator"])
    cast.login(client, role)

    text = client.get(meeting.get_absolute_url()).content.decode()

    assert "This meeting is cancelled." in text
    for absent in ("Places", "Your answer", "Take attendance", "people coming", "person coming"):
        assert absent not in text
    assert ("Reinstate this meeting" in text) == (role in STAFF)


# --- Putting a cancelled meeting back on ------------------------------------------------


@pytest.fixture
def cancelled(cast):
    meeting = MeetingFactory(group=cast.group, starts_at=NOW() + timedelta(days=2))
    going(meeting, cast.people["member"])
    going(meeting, cast.people["peer_moderator"], RsvpStatus.WAITLISTED)
    services.meeting_cancel(meeting_id=meeting.pk, actor=cast.people["facilitator"], reason="Ill")
    scan_changes(NOW())
    return cast, meeting


def test_reinstating_puts_the_meeting_back_and_tells_everyone_who_answered(cancelled):
    roles, meeting = cancelled
    sequence = type(meeting).objects.get(pk=meeting.pk).sequence

    services.meeting_reinstate(actor=roles.people["facilitator"], meeting_id=meeting.pk)

    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED
    assert meeting.cancel_reason == ""
    assert meeting.sequence == sequence + 1
    change = MeetingChange.objects.filter(meeting=meeting).latest("id")
    assert change.details == {"reinstated": True}
    scan_changes(NOW())
    told = set(
        Notification.objects.filter(
            kind=NotificationKind.MEETING_CHANGED, slot=f"change:{change.pk}"
        ).values_list("recipient_id", flat=True)
    )
    assert told == {roles.people["member"].pk, roles.people["peer_moderator"].pk}


def test_the_back_on_email_says_so(cancelled, mailoutbox):
    roles, meeting = cancelled
    services.meeting_reinstate(actor=roles.people["facilitator"], meeting_id=meeting.pk)
    scan_changes(NOW())
    change = MeetingChange.objects.filter(meeting=meeting).latest("id")
    row = Notification.objects.get(recipient=roles.people["member"], slot=f"change:{change.pk}")

    assert notifications.notification_send(notification_id=row.pk) == "sent"

    (email,) = mailoutbox
    assert email.subject == f"Back on: {meeting.display_title}"
    assert "is back on after all" in email.body


def test_a_cancellation_not_yet_sent_is_dropped_once_the_meeting_is_back_on(cast, mailoutbox):
    meeting = MeetingFactory(group=cast.group, starts_at=NOW() + timedelta(days=2))
    going(meeting, cast.people["member"])
    services.meeting_cancel(meeting_id=meeting.pk, actor=cast.people["facilitator"])
    scan_changes(NOW())
    row = Notification.objects.get(kind=NotificationKind.MEETING_CHANGED)
    services.meeting_reinstate(actor=cast.people["facilitator"], meeting_id=meeting.pk)

    assert notifications.notification_send(notification_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert row.skip_reason == "meeting-reinstated"


def test_a_meeting_that_has_started_cannot_be_reinstated(cast):
    meeting = MeetingFactory(group=cast.group, starts_at=NOW() - timedelta(minutes=5))
    meeting.status = MeetingStatus.CANCELLED
    meeting.save()

    with pytest.raises(MeetingError, match="already started"):
        services.meeting_reinstate(actor=cast.people["facilitator"], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    assert meeting.is_cancelled


def test_a_meeting_that_is_on_cannot_be_reinstated(cast):
    meeting = MeetingFactory(group=cast.group)

    with pytest.raises(MeetingError, match="not cancelled"):
        services.meeting_reinstate(actor=cast.people["facilitator"], meeting_id=meeting.pk)


@pytest.mark.parametrize("role", ["member", "peer_moderator", "other_facilitator"])
def test_only_staff_may_reinstate(cancelled, role):
    roles, meeting = cancelled

    with pytest.raises(NotAllowed):
        services.meeting_reinstate(actor=roles.people[role], meeting_id=meeting.pk)
    meeting.refresh_from_db()
    assert meeting.is_cancelled


@pytest.mark.parametrize("role", ROLES)
def test_the_reinstate_button_is_for_staff(client, cancelled, role):
    roles, meeting = cancelled
    roles.login(client, role)

    response = client.post(reverse("meetings:reinstate", args=[meeting.pk]))

    meeting.refresh_from_db()
    if role in STAFF:
        assert response.status_code == 302
        assert not meeting.is_cancelled
    else:
        assert response.status_code == (302 if role == "visitor" else 403)
        assert meeting.is_cancelled
        assert_no_private_data(response.content.decode())


def test_the_meeting_page_costs_the_same_queries_with_a_big_register(client, cast):
    meeting = past(cast.group)
    log_in(client, cast.people["facilitator"])

    def grow(count: int):
        for person in add_members(cast.group, count):
            going(meeting, person)
            mark(meeting, person)

    assert_flat(
        small_setup=lambda: grow(3),
        large_setup=lambda: grow(60),
        request=lambda: client.get(meeting.get_absolute_url()),
        label="past meeting page",
    )
    assert count_queries(lambda: selectors.register_summary(meeting)) == 1
