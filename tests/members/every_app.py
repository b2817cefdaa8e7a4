"""What the export and erasure scene plants in the meetings, outbox and report tables.

`test_export_and_erasure.scene` calls `plant` for its person, a peer in the same group
and their facilitator; the tests there check the export and the erasure of all of it.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from members.models import (
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationState,
)
from outcomes.models import AttendedDay
from sessions import services as meeting_services
from sessions.models import (
    Attendance,
    AttendanceChange,
    AttendanceStatus,
    CalendarFeedToken,
    Meeting,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)
from tests.meetings.factories import MeetingFactory

PAST_TITLE = "Harbour walk, last week"
ROOMY_TITLE = "Harbour walk, next week"
FULL_TITLE = "Lighthouse visit"
PEER_ONLY_TITLE = "Picnic at the point"


@dataclass
class Planted:
    past: Meeting  # both came: the person late, after being marked present; a note names them
    roomy: Meeting  # both going, confirmed
    full: Meeting  # one place: the peer has it, the person waits
    peer_only: Meeting  # only the peer answered (not going)
    person_outbox: list[tuple[str, str]]  # (kind, state) of the person's outbox rows
    peer_failed: Notification  # the peer's failed email, whose error quotes the person


def _mail_error(address: str) -> str:
    return (
        f"SMTPRecipientsRefused: {{'{address}': "
        f"(550, b'5.1.1 <{address}>: Recipient address rejected: User unknown')}}"
    )


def plant(*, person, peer, facilitator, group, email, old_email, display_name, full_name):
    now = timezone.now()
    past = MeetingFactory(group=group, title=PAST_TITLE, starts_at=now - timedelta(days=2))
    for who in (person, peer):  # answered before it started (the service refuses now)
        Rsvp.objects.create(
            meeting=past,
            user=who,
            response=RsvpResponse.GOING,
            status=RsvpStatus.CONFIRMED,
            responded_at=now - timedelta(days=3),
        )
    for who, status in (
        (person, AttendanceStatus.PRESENT),
        (person, AttendanceStatus.LATE),
        (peer, AttendanceStatus.ABSENT),
    ):
        meeting_services.attendance_mark(
            meeting_id=past.pk, user_id=who.pk, status=status, actor=facilitator
        )
    meeting_services.attendance_details_set(
        meeting_id=past.pk,
        guest_count=1,
        note=(
            f"{display_name} offered lifts home; {full_name} can be reached at {email}. "
            f"{peer.display_name} led the walk."
        ),
        actor=facilitator,
    )

    roomy = MeetingFactory(
        group=group, title=ROOMY_TITLE, starts_at=now + timedelta(days=7), capacity=10
    )
    full = MeetingFactory(
        group=group, title=FULL_TITLE, starts_at=now + timedelta(days=14), capacity=1
    )
    peer_only = MeetingFactory(
        group=group, title=PEER_ONLY_TITLE, starts_at=now + timedelta(days=21)
    )
    for meeting, who, going in (
        (roomy, person, True),
        (roomy, peer, True),
        (full, peer, True),
        (full, person, True),  # waitlisted
        (peer_only, peer, False),
    ):
        meeting_services.meeting_rsvp(meeting_id=meeting.pk, member=who, going=going)

    meeting_services.calendar_token_for(user=person)
    meeting_services.calendar_token_for(user=peer)
    NotificationPreferences.objects.create(
        user=person, reminder_hour_before=True, facilitator_digest=False
    )

    for kind, state, extra in (
        (
            NotificationKind.MEETING_REMINDER,
            NotificationState.FAILED,
            {"attempts": 6, "last_error": _mail_error(email)},
        ),
        (NotificationKind.MEETING_CHANGED, NotificationState.SKIPPED, {"skip_reason": "opted-out"}),
        (
            NotificationKind.WAITLIST_PROMOTED,
            NotificationState.SENT,
            {"attempts": 1, "sent_at": now - timedelta(days=1)},
        ),
        (
            NotificationKind.REQUEST_DECIDED,
            NotificationState.PENDING,
            {"attempts": 2, "last_error": _mail_error(old_email)},
        ),
    ):
        Notification.objects.create(
            recipient=person,
            kind=kind,
            subject_key=f"meeting:{roomy.pk}",
            slot=f"planted:{kind}",
            state=state,
            created_at=now - timedelta(days=2),
            **extra,
        )
    peer_failed = Notification.objects.create(
        recipient=peer,
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=f"meeting:{roomy.pk}",
        slot="planted:peer",
        state=NotificationState.FAILED,
        attempts=6,
        last_error=f"SMTPDataError: (451, b'4.7.1 Too many recipients after <{old_email}>')",
    )
    return Planted(
        past=past,
        roomy=roomy,
        full=full,
        peer_only=peer_only,
        person_outbox=sorted(
            Notification.objects.filter(recipient=person).values_list("kind", "state")
        ),
        peer_failed=peer_failed,
    )


def assert_erased(planted: Planted, *, person, peer) -> None:
    """What the meetings, outbox and report sections leave after erasing `person`."""
    # The meetings' numbers still add up: the person's rows stay, anonymous.
    assert list(Attendance.objects.filter(user=person).values_list("meeting", "status")) == [
        (planted.past.pk, AttendanceStatus.LATE)
    ]
    assert AttendanceChange.objects.filter(user=person).count() == 2
    assert Rsvp.objects.get(meeting=planted.past, user=person).status == RsvpStatus.CONFIRMED
    assert AttendedDay.objects.filter(user_id=person.pk).count() == 1
    # The peer's note survives, without the person in it.
    planted.past.refresh_from_db()
    assert planted.past.facilitator_note == (
        f"[erased] offered lifts home; [erased] can be reached at [erased]. "
        f"{peer.display_name} led the walk."
    )
    assert not CalendarFeedToken.objects.filter(user=person).exists()
    assert CalendarFeedToken.objects.filter(user=peer).exists()
    assert not NotificationPreferences.objects.filter(user=person).exists()

    # The outbox keeps the person's rows for its counts, with no text left in them...
    rows = Notification.objects.filter(recipient=person)
    assert sorted(rows.values_list("kind", "state")) == planted.person_outbox
    assert set(rows.values_list("last_error", "skip_reason")) == {("", "")}
    # ...and another person's error text loses only the person's address.
    planted.peer_failed.refresh_from_db()
    assert planted.peer_failed.last_error == (
        "SMTPDataError: (451, b'4.7.1 Too many recipients after <[erased]>')"
    )
