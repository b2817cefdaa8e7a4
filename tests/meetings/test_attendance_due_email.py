"""After a meeting, its facilitators are asked to take attendance: once each, through the
outbox, with a direct link, and never for a register that is complete by send time."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from groups.models import MembershipStatus, Role
from members import notifications
from members.models import Notification, NotificationKind, NotificationPreferences
from sessions.models import Attendance, MeetingStatus, Rsvp, RsvpStatus
from sessions.notifications import scan_attendance_due
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import MeetingFactory, member_of
from tests.query_budget import assert_flat

pytestmark = pytest.mark.django_db

# Tuesday 9 March 2027: the meeting ran 18:00-19:30 in Rome (17:00-18:30 UTC).
START = datetime(2027, 3, 9, 17, 0, tzinfo=UTC)
END = START + timedelta(minutes=90)


@pytest.fixture(autouse=True)
def after_the_meeting():
    with time_machine.travel(END + timedelta(minutes=10), tick=True):
        yield


class Scene:
    def __init__(self, language: str = "en"):
        self.group = SupportGroupFactory(name="Harbour Lights")
        self.facilitator = UserFactory(display_name="Fiona", language=language)
        MembershipFactory(group=self.group, user=self.facilitator, role=Role.FACILITATOR)
        self.co_facilitator = member_of(self.group, role=Role.CO_FACILITATOR)
        self.member = member_of(self.group)
        self.meeting = MeetingFactory(group=self.group, starts_at=START, title="Evening circle")
        Rsvp.objects.create(
            meeting=self.meeting, user=self.member, response="going", status=RsvpStatus.CONFIRMED
        )


@pytest.fixture
def scene() -> Scene:
    return Scene()


def due_rows() -> set:
    return set(
        Notification.objects.filter(kind=NotificationKind.ATTENDANCE_DUE).values_list(
            "recipient_id", "subject_key", "slot", "due_at"
        )
    )


def now() -> datetime:
    return END + timedelta(minutes=10)


def test_each_facilitator_gets_one_row_however_often_the_scan_runs(scene):
    for _ in range(3):
        scan_attendance_due(now())

    key = f"meeting:{scene.meeting.pk}"
    assert due_rows() == {
        (scene.facilitator.pk, key, "ended", END),
        (scene.co_facilitator.pk, key, "ended", END),
    }


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (END - timedelta(minutes=1), 0),  # still under way
        (END + timedelta(days=1), 2),
        (END + timedelta(days=2, minutes=1), 0),  # too late to ask
    ],
)
def test_rows_come_once_a_meeting_has_ended_and_for_two_days(scene, moment, expected):
    assert scan_attendance_due(moment) == expected


def test_no_row_for_a_cancelled_meeting_members_or_former_staff(scene):
    former = member_of(scene.group, role=Role.FACILITATOR, status=MembershipStatus.LEFT)
    cancelled = MeetingFactory(group=scene.group, starts_at=START, status=MeetingStatus.CANCELLED)

    scan_attendance_due(now())

    recipients = {row[0] for row in due_rows()}
    assert recipients == {scene.facilitator.pk, scene.co_facilitator.pk}
    assert former.pk not in recipients
    assert not any(row[1] == f"meeting:{cancelled.pk}" for row in due_rows())


def test_the_scan_costs_the_same_for_few_or_many_groups_and_staff():
    def grow(count: int):
        for _ in range(count):
            group = SupportGroupFactory()
            for _ in range(2):
                member_of(group, role=Role.FACILITATOR)
            MeetingFactory(group=group, starts_at=START)

    assert_flat(
        small_setup=lambda: grow(2),
        large_setup=lambda: grow(10),
        request=lambda: scan_attendance_due(now()),
        prepare=lambda: Notification.objects.all().delete(),
        status=None,
        label="attendance-due scan",
    )


def send(row) -> str:
    return notifications.notification_send(notification_id=row.pk)


def facilitators_row(scene) -> Notification:
    scan_attendance_due(now())
    return Notification.objects.get(recipient=scene.facilitator)


def test_the_email_links_straight_to_the_register(scene, mailoutbox, settings):
    assert send(facilitators_row(scene)) == "sent"

    (email,) = mailoutbox
    assert email.to == [scene.facilitator.email]
    assert email.subject == "Take attendance: Evening circle"
    link = f"{settings.SITE_URL.rstrip('/')}/meetings/{scene.meeting.pk}/attendance/"
    assert link in email.body
    assert f'href="{link}"' in email.alternatives[0][0]
    assert "1 person said they were going" in email.body


def test_the_email_in_italian(mailoutbox):
    scene = Scene(language="it")
    send(facilitators_row(scene))

    (email,) = mailoutbox
    assert "Evening circle" in email.subject
    assert f"/meetings/{scene.meeting.pk}/attendance/" in email.body


def test_nothing_goes_out_once_the_register_is_complete(scene, mailoutbox):
    row = facilitators_row(scene)
    Attendance.objects.create(meeting=scene.meeting, user=scene.member, status="present")

    assert send(row) == "skipped"
    row.refresh_from_db()
    assert row.skip_reason == "register-complete"
    assert mailoutbox == []


def test_a_register_half_taken_still_asks_for_the_rest(scene, mailoutbox):
    row = facilitators_row(scene)
    another = member_of(scene.group)
    Rsvp.objects.create(
        meeting=scene.meeting, user=another, response="going", status=RsvpStatus.CONFIRMED
    )
    Attendance.objects.create(meeting=scene.meeting, user=another, status="present")

    assert send(row) == "sent"
    assert "1 person who said they were going is not marked yet." in mailoutbox[0].body


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("cancelled", "meeting-cancelled"),
        ("stepped-down", "not-staff"),
        ("opted-out", "opted-out"),
    ],
)
def test_send_time_rechecks_skip_with_a_reason(scene, mailoutbox, change, reason):
    row = facilitators_row(scene)
    if change == "cancelled":
        scene.meeting.status = MeetingStatus.CANCELLED
        scene.meeting.save()
    elif change == "stepped-down":
        scene.facilitator.memberships.update(role=Role.MEMBER)
    else:
        NotificationPreferences.objects.create(user=scene.facilitator, attendance_due=False)

    assert send(row) == "skipped"
    row.refresh_from_db()
    assert row.skip_reason == reason
    assert mailoutbox == []


def test_a_locked_register_is_not_asked_for(scene, mailoutbox):
    row = facilitators_row(scene)

    with time_machine.travel(START + timedelta(days=15), tick=True):
        assert send(row) == "skipped"
    row.refresh_from_db()
    assert row.skip_reason == "register-locked"


def test_the_scanner_is_registered_with_the_outbox(scene):
    counts = notifications.scan_all(now=now())

    assert counts["attendance-due"] == 2
