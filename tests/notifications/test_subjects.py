"""Email subjects are plain text: a group's name arrives exactly as its facilitator wrote it.

Every kind of notification goes through the outbox here (a row, then `notification_send`)
with a group called "Parkinson's & <Carers> Torino", in English and in Italian, and its
subject is compared whole: no `&#x27;`, `&amp;` or `&lt;`. A name carrying a line break
and a header of its own stays one line of subject text: no header can be injected.
"""

from datetime import UTC, datetime

import pytest
import time_machine

from groups import services as group_services
from groups.models import MembershipStatus, Role
from members import notifications
from members.models import Notification, NotificationKind, NotificationPreferences
from sessions.models import MeetingChange, MeetingStatus, Rsvp, RsvpStatus
from sessions.notifications import reminder_slot
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db

GROUP_NAME = "Parkinson's & <Carers> Torino"
# Tuesday 9 March 2027, 11:00 in Rome: the meeting is tomorrow, Wednesday 10 March.
NOW = datetime(2027, 3, 9, 10, 0, tzinfo=UTC)
MEETING_START = datetime(2027, 3, 10, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def pinned_clock():
    with time_machine.travel(NOW, tick=True):
        yield


class Scene:
    """A group with a facilitator, a member going to tomorrow's meeting, and others."""

    def __init__(self, language: str, group_name: str = GROUP_NAME, meeting_title: str = ""):
        self.language = language
        self.group = SupportGroupFactory(name=group_name, language=language)
        self.facilitator = self.person("Fiona")
        MembershipFactory(group=self.group, user=self.facilitator, role=Role.FACILITATOR)
        self.member = self.person("Marta")
        self.membership = MembershipFactory(group=self.group, user=self.member)
        self.meeting = MeetingFactory(
            group=self.group, starts_at=MEETING_START, title=meeting_title
        )
        Rsvp.objects.create(
            meeting=self.meeting, user=self.member, response="going", status=RsvpStatus.CONFIRMED
        )

    def person(self, name: str):
        return UserFactory(display_name=name, language=self.language, time_zone="Europe/Rome")

    def row(self, recipient, kind: str, subject_key: str, slot: str) -> Notification:
        return Notification.objects.create(
            recipient=recipient, kind=kind, subject_key=subject_key, slot=slot
        )


def reminder_day_before(scene: Scene) -> Notification:
    slot = reminder_slot("day-before", scene.meeting.starts_at)
    meeting_key = f"meeting:{scene.meeting.pk}"
    return scene.row(scene.member, NotificationKind.MEETING_REMINDER, meeting_key, slot)


def reminder_hour_before(scene: Scene) -> Notification:
    NotificationPreferences.objects.create(user=scene.member, reminder_hour_before=True)
    slot = reminder_slot("hour-before", scene.meeting.starts_at)
    meeting_key = f"meeting:{scene.meeting.pk}"
    return scene.row(scene.member, NotificationKind.MEETING_REMINDER, meeting_key, slot)


def _meeting_change(scene: Scene, kind: str) -> Notification:
    if kind == "cancelled":
        scene.meeting.status = MeetingStatus.CANCELLED
        scene.meeting.save()
    change = MeetingChange.objects.create(
        meeting=scene.meeting, kind=kind, details={"reason": "Rain & <wind>"}
    )
    return scene.row(
        scene.member,
        NotificationKind.MEETING_CHANGED,
        f"meeting:{scene.meeting.pk}",
        f"change:{change.pk}",
    )


def meeting_cancelled(scene: Scene) -> Notification:
    return _meeting_change(scene, "cancelled")


def meeting_changed(scene: Scene) -> Notification:
    return _meeting_change(scene, "changed")


def meeting_place_free(scene: Scene) -> Notification:
    return scene.row(
        scene.member,
        NotificationKind.WAITLIST_PROMOTED,
        f"meeting:{scene.meeting.pk}",
        "promoted:1",
    )


def group_place_free(scene: Scene) -> Notification:
    return scene.row(
        scene.member,
        NotificationKind.WAITLIST_PROMOTED,
        f"membership:{scene.membership.pk}",
        "promoted:1",
    )


def request_accepted(scene: Scene) -> Notification:
    return scene.row(
        scene.member,
        NotificationKind.REQUEST_DECIDED,
        f"membership:{scene.membership.pk}",
        "decided:1",
    )


def request_declined(scene: Scene) -> Notification:
    asker = scene.person("Dora")
    declined = MembershipFactory(
        group=scene.group, user=asker, status=MembershipStatus.DECLINED, joined_at=None
    )
    return scene.row(
        asker, NotificationKind.REQUEST_DECIDED, f"membership:{declined.pk}", "decided:1"
    )


def join_request(scene: Scene) -> Notification:
    pending = MembershipFactory(
        group=scene.group,
        user=scene.person("Petra"),
        status=MembershipStatus.PENDING,
        joined_at=None,
    )
    return scene.row(
        scene.facilitator,
        NotificationKind.JOIN_REQUEST,
        f"membership:{pending.pk}",
        "requested:1",
    )


def facilitator_digest(scene: Scene) -> Notification:
    return scene.row(
        scene.facilitator,
        NotificationKind.FACILITATOR_DIGEST,
        f"digest:{scene.facilitator.pk}",
        "2027-03-10",
    )


def member_erased(scene: Scene) -> Notification:
    return scene.row(
        scene.facilitator,
        NotificationKind.MEMBER_ERASED,
        f"group:{scene.group.pk}",
        "erased:1",
    )


def attendance_due(scene: Scene) -> Notification:
    earlier = MeetingFactory(group=scene.group, starts_at=datetime(2027, 3, 9, 7, 0, tzinfo=UTC))
    Rsvp.objects.create(
        meeting=earlier, user=scene.member, response="going", status=RsvpStatus.CONFIRMED
    )
    return scene.row(
        scene.facilitator, NotificationKind.ATTENDANCE_DUE, f"meeting:{earlier.pk}", "ended"
    )


def invitation(scene: Scene) -> Notification:
    group_services.invitation_create(
        group=scene.group, email="invited@example.net", actor=scene.facilitator
    )
    return Notification.objects.get(kind=NotificationKind.GROUP_INVITATION)


G = GROUP_NAME
CASES = {  # how to make the message, its kind, and its subject in English and in Italian
    "reminder_day_before": (
        reminder_day_before,
        NotificationKind.MEETING_REMINDER,
        {"en": f"Tomorrow: {G}", "it": f"Domani: {G}"},
    ),
    "reminder_hour_before": (
        reminder_hour_before,
        NotificationKind.MEETING_REMINDER,
        {"en": f"In one hour: {G}", "it": f"Tra un'ora: {G}"},
    ),
    "meeting_cancelled": (
        meeting_cancelled,
        NotificationKind.MEETING_CHANGED,
        {"en": f"Cancelled: {G}", "it": f"Annullato: {G}"},
    ),
    "meeting_changed": (
        meeting_changed,
        NotificationKind.MEETING_CHANGED,
        {"en": f"Changed: {G}", "it": f"Modificato: {G}"},
    ),
    "meeting_place_free": (
        meeting_place_free,
        NotificationKind.WAITLIST_PROMOTED,
        {"en": f"A place is free for you: {G}", "it": f"C'è un posto libero per te: {G}"},
    ),
    "group_place_free": (
        group_place_free,
        NotificationKind.WAITLIST_PROMOTED,
        {"en": f"A place is free for you in {G}", "it": f"C'è un posto libero per te in {G}"},
    ),
    "request_accepted": (
        request_accepted,
        NotificationKind.REQUEST_DECIDED,
        {"en": f"Welcome to {G}", "it": f"Ti diamo il benvenuto in {G}"},
    ),
    "request_declined": (
        request_declined,
        NotificationKind.REQUEST_DECIDED,
        {"en": f"Your request to join {G}", "it": f"La tua richiesta di adesione a {G}"},
    ),
    "join_request": (
        join_request,
        NotificationKind.JOIN_REQUEST,
        {"en": f"New request to join {G}", "it": f"Nuova richiesta di adesione a {G}"},
    ),
    "facilitator_digest": (
        facilitator_digest,
        NotificationKind.FACILITATOR_DIGEST,
        {
            "en": "Your meetings tomorrow, Wednesday 10 March",
            "it": "I tuoi incontri di domani, mercoledì 10 marzo",
        },
    ),
    "member_erased": (
        member_erased,
        NotificationKind.MEMBER_ERASED,
        {"en": f"A member has left {G}", "it": f"Una persona ha lasciato {G}"},
    ),
    "attendance_due": (
        attendance_due,
        NotificationKind.ATTENDANCE_DUE,
        {"en": f"Take attendance: {G}", "it": f"Registra le presenze: {G}"},
    ),
    "invitation": (
        invitation,
        NotificationKind.GROUP_INVITATION,
        {"en": f"You are invited to join {G}", "it": f"Hai ricevuto un invito per unirti a {G}"},
    ),
}


def test_every_kind_of_notification_has_a_subject_case():
    assert {kind for _make, kind, _subjects in CASES.values()} == set(NotificationKind.values)


def send(row: Notification):
    assert notifications.notification_send(notification_id=row.pk) == "sent"


@pytest.mark.parametrize("language", ["en", "it"])
@pytest.mark.parametrize("case", list(CASES))
def test_subject_is_the_plain_text_of_the_group_name(mailoutbox, case, language):
    make, kind, subjects = CASES[case]
    row = make(Scene(language))
    assert row.kind == kind

    send(row)

    (email,) = mailoutbox
    assert email.subject == subjects[language]
    for escaped in ("&#x27;", "&#39;", "&amp;", "&lt;", "&gt;", "&quot;"):
        assert escaped not in email.body, escaped  # the plain-text part is plain too


INJECTION = "Parkinson's Torino\r\nBcc: x@example.org"


@pytest.mark.parametrize(
    ("scene_args", "make", "subject"),
    [
        (
            {"group_name": INJECTION},
            request_accepted,
            "Welcome to Parkinson's Torino Bcc: x@example.org",
        ),
        (
            {"meeting_title": "Walk\nBcc: x@example.org"},
            meeting_place_free,
            "A place is free for you: Walk Bcc: x@example.org",
        ),
    ],
    ids=["group_name", "meeting_title"],
)
def test_a_line_break_in_a_name_cannot_add_a_header(mailoutbox, scene_args, make, subject):
    scene = Scene("en", **scene_args)

    send(make(scene))

    (email,) = mailoutbox
    assert email.subject == subject
    assert email.bcc == []
    assert email.recipients() == [scene.member.email]
    message = email.message()
    assert message["Bcc"] is None
    assert message["Subject"] == subject
    header_lines = message.as_string().split("\n\n", 1)[0].splitlines()
    assert not [line for line in header_lines if line.lower().startswith("bcc")]


def test_allauths_account_emails_keep_the_subject_prefix_unescaped(mailoutbox, settings, rf):
    """allauth's own subjects are plain text too (its templates turn autoescaping off)."""
    from allauth.account.adapter import get_adapter
    from allauth.core import context

    settings.ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Parkinson's & <Co>] "
    person = UserFactory()
    request = rf.get("/")
    request.user = person
    with context.request_context(request):
        get_adapter(request).send_notification_mail("account/email/password_changed", person)

    (email,) = mailoutbox
    assert email.subject == "[Parkinson's & <Co>] Password Changed"
