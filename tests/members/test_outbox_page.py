"""The coordinator's email outbox: every message found by recipient, status and kind, with
its attempts, error and sent time, and what it said ("I never got the reminder")."""

import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import AuditEvent, Notification, NotificationKind, NotificationState, User
from sessions.models import Rsvp, RsvpResponse, RsvpStatus
from sessions.notifications import reminder_slot
from tests.groups import conftest as groups_conftest
from tests.groups.conftest import ROLES, assert_no_private_data
from tests.meetings.factories import MeetingFactory
from tests.query_budget import assert_flat, query_per_row

pytestmark = pytest.mark.django_db

cast = groups_conftest.cast  # the role cast: one person in every role

URL = "/account/outbox/"


def reminder(cast, *, state=NotificationState.SENT, title="Thursday circle", **extra):
    """A day-before reminder to the member for a meeting of the group tomorrow."""
    meeting = MeetingFactory(
        group=cast.group, starts_at=timezone.now() + timedelta(days=1, hours=2), title=title
    )
    member = cast.people["member"]
    Rsvp.objects.create(
        meeting=meeting, user=member, response=RsvpResponse.GOING, status=RsvpStatus.CONFIRMED
    )
    return Notification.objects.create(
        recipient=member,
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=f"meeting:{meeting.pk}",
        slot=reminder_slot("day-before", meeting.starts_at),
        state=state,
        attempts=1,
        sent_at=timezone.now() if state == NotificationState.SENT else None,
        **extra,
    )


def test_the_url_is_the_outbox():
    assert reverse("members:outbox") == URL


@pytest.mark.parametrize("role", ROLES)
def test_only_coordinators_list_and_read_messages(client, cast, role):
    message = reminder(cast)
    cast.login(client, role)

    listing = client.get(URL)
    reading = client.get(URL, {"message": message.pk})

    if role == "coordinator":
        assert listing.status_code == reading.status_code == 200
        assert "Quillon-Member" in listing.text
        assert "Tomorrow: Thursday circle" in reading.text
    else:
        expected = 302 if role == "visitor" else 403
        assert listing.status_code == reading.status_code == expected
        assert_no_private_data(listing.text)
        assert_no_private_data(reading.text)
        assert "Thursday circle" not in reading.text
        assert not AuditEvent.objects.filter(action="outbox.message.view").exists()


def test_a_coordinator_finds_a_persons_messages_by_email_or_name(client, cast):
    mine = reminder(cast)
    other = Notification.objects.create(
        to_email="invitee@example.org",
        kind=NotificationKind.GROUP_INVITATION,
        subject_key="invitation:1",
        slot="x",
        state=NotificationState.PENDING,
    )
    cast.login(client, "coordinator")

    by_email = client.get(URL, {"recipient": "QUILLON.member@"})
    by_name = client.get(URL, {"recipient": "quillon"})
    by_address = client.get(URL, {"recipient": "invitee@"})

    for response in (by_email, by_name):
        assert f"message={mine.pk}#message" in response.text
        assert f"message={other.pk}#message" not in response.text
        assert "1 message" in response.text
    assert f"message={other.pk}#message" in by_address.text
    assert f"message={mine.pk}#message" not in by_address.text


def test_each_row_says_status_attempts_error_and_when_it_was_sent(client, cast):
    reminder(
        cast,
        state=NotificationState.PENDING,
        last_error="SMTPServerDisconnected: gone away",
    )
    cast.login(client, "coordinator")

    response = client.get(URL, {"state": "pending", "kind": "meeting-reminder"})

    row = response.text.split('id="list-caption"')[1].split("</table>")[0]
    assert "Pending" in row and "SMTPServerDisconnected: gone away" in row
    assert "<td>1</td>" in row  # one attempt
    assert client.get(URL, {"state": "sent"}).text.count("#message") == 0


def test_filters_by_status_and_kind(client, cast):
    sent = reminder(cast)
    failed = reminder(cast, state=NotificationState.FAILED, title="Other day")
    cast.login(client, "coordinator")

    failed_only = client.get(URL, {"state": "failed"}).text
    invitations = client.get(URL, {"kind": "group-invitation"}).text

    assert f"message={failed.pk}#" in failed_only and f"message={sent.pk}#" not in failed_only
    assert "No message matches." in invitations


def test_a_bad_filter_says_so_and_lists_nothing(client, cast):
    reminder(cast)
    cast.login(client, "coordinator")

    response = client.get(URL, {"state": "lost"})

    assert response.status_code == 400
    assert "Choose a status from the list." in response.text
    assert "#message" not in response.text


def test_reading_a_message_shows_it_as_it_would_be_sent_now_and_is_audited(client, cast):
    message = reminder(cast)
    cast.login(client, "coordinator")

    response = client.get(URL, {"message": message.pk})

    assert response.status_code == 200
    assert "Tomorrow: Thursday circle" in response.text  # the subject, rendered now
    assert "quillon.member@example.net" in response.text
    assert "keeps no copy of what it sent" in response.text
    event = AuditEvent.objects.get(action="outbox.message.view")
    assert event.actor == cast.people["coordinator"]
    assert event.subject == cast.people["member"]
    message.refresh_from_db()
    assert message.state == NotificationState.SENT  # reading changed nothing


def test_a_message_that_would_now_be_skipped_says_why(client, cast):
    message = reminder(cast)
    message.slot = "day-before:20000101T0000Z"  # the meeting has moved since
    message.save()
    cast.login(client, "coordinator")

    response = client.get(URL, {"message": message.pk})

    assert "would not be sent (meeting-moved)" in response.text


@pytest.mark.parametrize("value", ["999999", "x1", "²"])
def test_an_unknown_message_is_not_found(client, cast, value):
    cast.login(client, "coordinator")

    assert client.get(URL, {"message": value}).status_code == 404


# --- Query budget ----------------------------------------------------------------------

_numbers = itertools.count()


def add_messages(count: int) -> None:
    """Messages of every kind and state, each to its own new person."""
    numbers = [next(_numbers) for _ in range(count)]
    people = User.objects.bulk_create(
        User(email=f"outbox{n}@example.net", display_name=f"Reader {n:04d}", password="!")
        for n in numbers
    )
    kinds, states = NotificationKind.values, NotificationState.values
    Notification.objects.bulk_create(
        Notification(
            recipient=person,
            kind=kinds[n % len(kinds)],
            subject_key=f"budget:{n}",
            slot="s",
            state=states[n % len(states)],
            last_error="SMTP 451" if n % 3 == 0 else "",
        )
        for n, person in zip(numbers, people, strict=True)
    )


def outbox_search_budget(client):
    return assert_flat(
        small_setup=lambda: add_messages(5),
        large_setup=lambda: add_messages(195),
        request=lambda: client.get(URL, {"recipient": "example.net"}),
        label="outbox search",
    )


def test_the_list_costs_the_same_for_5_and_200_messages(client, cast):
    cast.login(client, "coordinator")
    outbox_search_budget(client)


def test_control_a_query_per_listed_message_fails_the_budget(client, cast, monkeypatch):
    from members import selectors

    query_per_row(monkeypatch, selectors, "outbox_messages")
    cast.login(client, "coordinator")
    with pytest.raises(AssertionError, match=r"outbox search: \d+ queries"):
        outbox_search_budget(client)
