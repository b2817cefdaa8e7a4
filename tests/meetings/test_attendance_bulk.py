"""Attendance in three taps: mark everyone who said going present, the rest absent, undo.

The services first (what each changes, what it leaves alone, undo restoring exactly the
marks it replaced), then the register page and its bulk endpoint role by role, with and
without htmx, the audit log, the sentence shown before the register opens, and query
budgets.
"""

# The shared role cast (`cast`) is imported as a fixture; tests take it by name.
# ruff: noqa: F811

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import MembershipStatus, Role
from members.audit import label_for
from members.models import AuditEvent
from members.permissions import NotAllowed
from sessions import services
from sessions.errors import MeetingError
from sessions.models import Attendance, AttendanceChange, AttendanceStatus, Rsvp, RsvpStatus
from tests.auth import log_in
from tests.groups.conftest import (  # noqa: F401  (cast: the role cast, shared)
    ROLES,
    assert_no_private_data,
    cast,
    enable_mfa,
)
from tests.meetings.factories import MeetingFactory, member_of
from tests.meetings.test_query_counts import add_members
from tests.query_budget import assert_flat

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
PRESENT, LATE, ABSENT, EXCUSED = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)


def going(meeting, person, status=RsvpStatus.CONFIRMED) -> Rsvp:
    response = "not-going" if status == RsvpStatus.DECLINED else "going"
    return Rsvp.objects.create(meeting=meeting, user=person, response=response, status=status)


def marks(meeting) -> dict:
    return dict(Attendance.objects.filter(meeting=meeting).values_list("user_id", "status"))


class Register:
    """A meeting under way: three who said going, one waiting, one not going, two silent."""

    def __init__(self, group, facilitator):
        self.group = group
        self.facilitator = facilitator
        self.meeting = MeetingFactory(group=group, starts_at=timezone.now() - timedelta(hours=1))
        self.going = [member_of(group) for _ in range(3)]
        self.waiting = member_of(group)
        self.not_going = member_of(group)
        self.silent = [member_of(group) for _ in range(2)]
        for person in self.going:
            going(self.meeting, person)
        going(self.meeting, self.waiting, RsvpStatus.WAITLISTED)
        going(self.meeting, self.not_going, RsvpStatus.DECLINED)

    @property
    def everyone(self) -> list:
        return [self.facilitator, *self.going, self.waiting, self.not_going, *self.silent]


@pytest.fixture
def register(group, facilitator) -> Register:
    return Register(group, facilitator)


def present(register):
    return services.attendance_mark_going_present(
        actor=register.facilitator, meeting_id=register.meeting.pk
    )


def rest_absent(register):
    return services.attendance_mark_rest_absent(
        actor=register.facilitator, meeting_id=register.meeting.pk
    )


# --- Services ---------------------------------------------------------------------------


def test_marking_going_present_marks_only_unmarked_people_with_a_place(register):
    first, second, third = register.going
    services.attendance_mark(
        meeting_id=register.meeting.pk, user_id=first.pk, status=LATE, actor=register.facilitator
    )

    changed = present(register)

    assert {change.user_id for change in changed} == {second.pk, third.pk}
    assert all(change.old == "" and change.new == PRESENT for change in changed)
    assert marks(register.meeting) == {first.pk: LATE, second.pk: PRESENT, third.pk: PRESENT}


def test_marking_the_rest_absent_marks_everyone_unmarked_and_nobody_else(register):
    present(register)

    changed = rest_absent(register)

    others = {register.facilitator, register.waiting, register.not_going, *register.silent}
    assert {change.user_id for change in changed} == {person.pk for person in others}
    assert marks(register.meeting) == {
        **{person.pk: PRESENT for person in register.going},
        **{person.pk: ABSENT for person in others},
    }


def test_a_bulk_mark_keeps_history_and_writes_the_audit_log(register):
    changed = present(register)

    history = set(
        AttendanceChange.objects.filter(meeting=register.meeting).values_list(
            "user_id", "field", "old_value", "new_value", "changed_by"
        )
    )
    assert history == {
        (change.user_id, "status", "", PRESENT, register.facilitator.pk) for change in changed
    }
    audited = set(
        AuditEvent.objects.filter(action="register.marked").values_list("actor", "subject")
    )
    assert audited == {(register.facilitator.pk, person.pk) for person in register.going}


def test_undo_puts_back_exactly_the_marks_a_bulk_action_replaced(register):
    present(register)
    services.attendance_mark(
        meeting_id=register.meeting.pk,
        user_id=register.silent[0].pk,
        status=EXCUSED,
        actor=register.facilitator,
    )
    before = marks(register.meeting)

    changed = rest_absent(register)
    restored = services.attendance_restore(
        actor=register.facilitator, meeting_id=register.meeting.pk, changes=changed
    )

    assert marks(register.meeting) == before
    assert sorted(change.user_id for change in restored) == sorted(c.user_id for c in changed)


def test_undo_leaves_a_mark_tapped_since_as_it_is(register):
    changed = present(register)
    tapped = register.going[0]
    services.attendance_mark(
        meeting_id=register.meeting.pk, user_id=tapped.pk, status=LATE, actor=register.facilitator
    )

    services.attendance_restore(
        actor=register.facilitator, meeting_id=register.meeting.pk, changes=changed
    )

    assert marks(register.meeting) == {tapped.pk: LATE}


def test_a_bulk_mark_with_nothing_to_do_changes_nothing(register):
    present(register)
    history = AttendanceChange.objects.count()

    assert present(register) == []
    assert AttendanceChange.objects.count() == history


@pytest.mark.parametrize("action", [present, rest_absent])
def test_only_the_groups_staff_may_mark_in_bulk(register, action):
    for outsider in (register.going[0], member_of(MeetingFactory().group, role=Role.FACILITATOR)):
        register.facilitator = outsider
        with pytest.raises(NotAllowed):
            action(register)
    assert marks(register.meeting) == {}


@pytest.mark.parametrize(
    ("starts_in", "message"),
    [
        (timedelta(hours=3), "Attendance opens two hours before the meeting"),
        (-timedelta(days=15), "Attendance is locked 14 days after the meeting"),
    ],
)
def test_bulk_marks_keep_to_the_registers_opening_hours(group, facilitator, starts_in, message):
    meeting = MeetingFactory(group=group, starts_at=timezone.now() + starts_in)
    going(meeting, member_of(group))

    with pytest.raises(MeetingError, match=message):
        services.attendance_mark_going_present(actor=facilitator, meeting_id=meeting.pk)
    assert marks(meeting) == {}


def test_no_bulk_marks_for_a_cancelled_meeting(register):
    register.meeting.status = "cancelled"
    register.meeting.save()

    with pytest.raises(MeetingError, match="This meeting was cancelled"):
        present(register)


def test_someone_who_said_going_and_left_since_is_on_the_register(register):
    leaver = register.going[0]
    leaver.memberships.update(status=MembershipStatus.LEFT)

    present(register)

    assert marks(register.meeting)[leaver.pk] == PRESENT


# --- The register page and its bulk endpoint -------------------------------------------


@pytest.fixture
def scene(cast):
    meeting = MeetingFactory(group=cast.group, starts_at=timezone.now() - timedelta(hours=1))
    going(meeting, cast.people["member"])
    return cast, meeting


def bulk_url(meeting) -> str:
    return reverse("meetings:attendance_bulk", args=[meeting.pk])


def register_url(meeting) -> str:
    return reverse("meetings:attendance", args=[meeting.pk])


STAFF = {"facilitator", "coordinator"}


@pytest.mark.parametrize("role", ROLES)
def test_bulk_marking_is_for_the_groups_staff_and_coordinators(client, scene, role):
    roles, meeting = scene
    roles.login(client, role)

    response = client.post(bulk_url(meeting), {"action": "going-present"})

    if role in STAFF:
        assert response.status_code == 302
        assert marks(meeting) == {roles.people["member"].pk: PRESENT}
    else:
        assert response.status_code == (302 if role == "visitor" else 403)
        assert marks(meeting) == {}
        assert_no_private_data(response.content.decode())


def test_the_three_taps_and_an_undo_without_javascript(client, scene):
    roles, meeting = scene
    member = roles.people["member"]
    log_in(client, roles.people["facilitator"])

    page = client.get(register_url(meeting)).content.decode()
    assert "Mark the 1 person who said they were going as present" in page
    assert "Mark the rest absent" not in page  # nobody marked yet: there is no "rest"

    page = client.post(bulk_url(meeting), {"action": "going-present"}, follow=True)
    text = page.content.decode()
    assert "1 person marked present." in text
    assert ">Undo</button>" in text
    assert "1 of 3 members marked" in text
    assert "Mark the rest absent (2)" in text

    client.post(bulk_url(meeting), {"action": "rest-absent"})
    assert marks(meeting) == {
        member.pk: PRESENT,
        roles.people["facilitator"].pk: ABSENT,
        roles.people["peer_moderator"].pk: ABSENT,
    }

    text = client.post(bulk_url(meeting), {"action": "undo"}, follow=True).content.decode()
    assert "Undone: 2 marks put back as they were." in text
    assert marks(meeting) == {member.pk: PRESENT}

    text = client.post(bulk_url(meeting), {"action": "undo"}, follow=True).content.decode()
    assert "There is nothing to undo any more." in text
    assert marks(meeting) == {member.pk: PRESENT}


def test_undo_is_kept_per_session_and_only_for_a_while(client, scene, time_machine):
    roles, meeting = scene
    log_in(client, roles.people["facilitator"])
    client.post(bulk_url(meeting), {"action": "going-present"})

    time_machine.move_to(timezone.now() + timedelta(minutes=16))
    text = client.post(bulk_url(meeting), {"action": "undo"}, follow=True).content.decode()

    assert "There is nothing to undo any more." in text
    assert marks(meeting) == {roles.people["member"].pk: PRESENT}


def test_an_unknown_bulk_action_changes_nothing(client, scene):
    roles, meeting = scene
    log_in(client, roles.people["facilitator"])

    text = client.post(bulk_url(meeting), {"action": "all-late"}, follow=True).content.decode()

    assert "Choose what to mark." in text
    assert marks(meeting) == {}


def test_with_htmx_a_tap_also_redraws_the_quick_marks(client, scene):
    roles, meeting = scene
    log_in(client, roles.people["facilitator"])

    response = client.post(
        register_url(meeting),
        {f"status-{roles.people['peer_moderator'].pk}": "late"},
        headers=HTMX,
    )

    text = response.content.decode()
    assert 'id="attendance-bulk" class="attendance-bulk" hx-swap-oob="outerHTML"' in text
    assert '<p id="attendance-count" hx-swap-oob="innerHTML">1 of 3 members marked' in text
    assert "Mark the 1 person who said they were going as present" in text
    assert "Mark the rest absent (2)" in text


def test_the_register_has_no_save_button_for_taps_that_already_saved(client, scene):
    roles, meeting = scene
    log_in(client, roles.people["facilitator"])

    text = client.get(register_url(meeting)).content.decode()

    assert "Save attendance" not in text
    assert "<noscript>" in text and "Save the marks you chose" in text  # without scripts only
    assert 'aria-live="polite"' in text and 'class="attendance-bar"' in text


def test_before_it_opens_the_register_says_when_instead_of_showing_buttons(
    client, scene, time_machine
):
    roles, _meeting = scene
    # 09:00 in Rome; the meeting starts at 18:00, so the register opens today at 16:00.
    time_machine.move_to(datetime(2027, 3, 9, 8, 0, tzinfo=UTC), tick=False)
    meeting = MeetingFactory(group=roles.group, starts_at=datetime(2027, 3, 9, 17, 0, tzinfo=UTC))
    log_in(client, roles.people["facilitator"])

    text = client.get(register_url(meeting)).content.decode()

    assert "The register opens today at 16:00." in text
    assert 'type="radio"' not in text
    assert "Quillon-Member" not in text
    assert not AuditEvent.objects.filter(action="register.opened").exists()


def test_the_register_on_another_day_names_the_day(client, scene, time_machine):
    roles, _meeting = scene
    time_machine.move_to(datetime(2027, 3, 9, 8, 0, tzinfo=UTC), tick=False)
    meeting = MeetingFactory(group=roles.group, starts_at=datetime(2027, 3, 12, 17, 0, tzinfo=UTC))
    log_in(client, roles.people["facilitator"])

    text = client.get(register_url(meeting)).content.decode()

    assert "The register opens on Friday 12 March at 16:00." in text


def test_opening_the_register_is_written_to_the_audit_log(client, scene):
    roles, meeting = scene
    log_in(client, roles.people["facilitator"])

    client.get(register_url(meeting))

    subjects = set(
        AuditEvent.objects.filter(
            action="register.opened", actor=roles.people["facilitator"]
        ).values_list("subject", flat=True)
    )
    assert subjects == {roles.people["member"].pk, roles.people["peer_moderator"].pk}
    assert str(label_for("register.opened")) == "opened the register of a meeting"
    assert str(label_for("register.marked")) == "marked attendance"


# --- Query budgets ----------------------------------------------------------------------


def test_the_register_page_and_bulk_marks_cost_the_same_for_5_or_200_people(client, group):
    facilitator = member_of(group, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    log_in(client, facilitator)
    meeting = MeetingFactory(group=group, starts_at=timezone.now() - timedelta(hours=1))

    def grow(count):
        people = add_members(group, count)
        Rsvp.objects.bulk_create(
            Rsvp(meeting=meeting, user=person, response="going", status=RsvpStatus.CONFIRMED)
            for person in people[::2]
        )

    def reset():
        Attendance.objects.filter(meeting=meeting).delete()
        session = client.session
        session.pop(f"attendance-undo:{meeting.pk}", None)
        session.save()

    budgets = assert_flat(
        small_setup=lambda: grow(5),
        large_setup=lambda: grow(195),
        request={
            "register": lambda: client.get(register_url(meeting)),
            "going-present": lambda: client.post(bulk_url(meeting), {"action": "going-present"}),
            "rest-absent": lambda: client.post(bulk_url(meeting), {"action": "rest-absent"}),
        },
        prepare=reset,
        status=None,
        label="register",
    )
    assert budgets["register"].small == budgets["register"].large
