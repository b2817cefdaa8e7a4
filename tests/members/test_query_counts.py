"""Query budgets for the account pages and the coordinator's audit log and outbox: the same
count with a small and a large data set.

Every dimension a page loops over grows between the two sizes: audit rows (and the people
acting and looked at), outbox rows of every kind and state (and their recipients), a
person's consent history, and for the personal data export everything that is theirs:
memberships, answers, marks, changes to their marks, consents, staff access, emails.
The small sizes stay under the pages' limits (fifty rows a page of the audit log, a
hundred failed messages on the outbox). See tests/query_budget.py.
"""

import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Membership, MembershipStatus, Role
from members import notifications, selectors
from members.models import (
    AuditEvent,
    ConsentKind,
    ConsentRecord,
    Notification,
    NotificationKind,
    NotificationState,
    User,
)
from members.services import coordinator_grant
from sessions.models import Attendance, AttendanceChange, Meeting, MeetingFormat, Rsvp
from tests.auth import log_in
from tests.factories import DEFAULT_PASSWORD, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.query_budget import assert_flat, query_per_row

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 200

_numbers = itertools.count()


def new_people(count: int) -> list[User]:
    numbers = [next(_numbers) for _ in range(count)]
    return User.objects.bulk_create(
        User(email=f"acct{n}@example.net", display_name=f"Someone {n:04d}", password="!")
        for n in numbers
    )


@pytest.fixture
def coordinator_client(client):
    person = UserFactory(display_name="Coordinator Cora")
    coordinator_grant(user=person)
    enable_mfa(person)
    log_in(client, person)
    return client


# --- The audit log ---------------------------------------------------------------------


def add_audit_rows(count: int) -> None:
    """Rows by different members of staff about different people; one in ten about an
    erased account (no subject)."""
    actors, subjects = new_people(count), new_people(count)
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            subject=None if index % 10 == 9 else subject,
            action="group.roster.view",
            context=f"Group {index}",
            created_at=now - timedelta(minutes=index),
        )
        for index, (actor, subject) in enumerate(zip(actors, subjects, strict=True))
    )


def audit_log_budget(client):
    url = reverse("members:audit_log")

    def large():
        add_audit_rows(LARGE - SMALL)
        assert client.get(url).text.count("<tr>") > SMALL + 10  # a full page of 50

    return assert_flat(
        small_setup=lambda: add_audit_rows(SMALL),
        large_setup=large,
        request=lambda: client.get(url),
        label="audit log",
    )


def test_audit_log_costs_the_same_for_5_and_200_rows(coordinator_client):
    audit_log_budget(coordinator_client)


def test_audit_log_budget_notices_rows_read_without_their_people(coordinator_client, monkeypatch):
    """Negative control: audit rows read without select_related are an N+1."""
    original = selectors.audit_events
    monkeypatch.setattr(
        selectors, "audit_events", lambda **kwargs: original(**kwargs).select_related(None)
    )
    with pytest.raises(AssertionError, match=r"audit log: \d+ queries with the small data set"):
        audit_log_budget(coordinator_client)


# --- The outbox ------------------------------------------------------------------------


def add_outbox_rows(count: int) -> None:
    """Messages of every kind in every state, each to its own person (one in ten to an
    address with no account); one in five failed, with its error."""
    recipients = new_people(count)
    now = timezone.now()
    kinds, states = NotificationKind.values, NotificationState.values
    first = Notification.objects.count()
    rows = []
    for index, person in enumerate(recipients, start=first):
        state = states[index % len(states)]
        to_address = index % 10 == 9
        rows.append(
            Notification(
                recipient=None if to_address else person,
                to_email=f"address{index}@example.net" if to_address else "",
                kind=kinds[index % len(kinds)],
                subject_key=f"budget:{index}",
                slot=f"slot{index}",
                due_at=now - timedelta(minutes=index),
                state=state,
                last_error="SMTP 451: try again later" if state == "failed" else "",
            )
        )
    Notification.objects.bulk_create(rows)


def outbox_budget(client):
    url = reverse("members:outbox")

    def large():
        add_outbox_rows(LARGE - SMALL)
        assert client.get(url).text.count('name="retry"') == LARGE // len(NotificationState)

    return assert_flat(
        small_setup=lambda: add_outbox_rows(SMALL),
        large_setup=large,
        request=lambda: client.get(url),
        label="outbox",
    )


def test_outbox_costs_the_same_for_5_and_200_messages(coordinator_client):
    outbox_budget(coordinator_client)


def test_outbox_budget_notices_a_query_per_failed_message(coordinator_client, monkeypatch):
    """Negative control: one more query for each failed message fails the budget."""
    query_per_row(monkeypatch, selectors, "outbox_overview", rows=lambda page: page["failed"])
    with pytest.raises(AssertionError, match=r"outbox: \d+ queries with the small data set"):
        outbox_budget(coordinator_client)


def test_health_check_costs_the_same_for_5_and_200_messages(client):
    assert_flat(
        small_setup=lambda: add_outbox_rows(SMALL),
        large_setup=lambda: add_outbox_rows(LARGE - SMALL),
        request=lambda: client.get(reverse("healthz")),
        label="healthz",
    )


# --- A person's own pages --------------------------------------------------------------


def give_history(person: User, count: int) -> None:
    """`count` more of everything a person has: groups (one in five of which they left),
    a meeting in each with their answer and mark, changes to that mark, consent decisions,
    staff looking at their data, and emails."""
    groups = [SupportGroupFactory() for _ in range(count)]
    Membership.objects.bulk_create(
        Membership(
            group=group,
            user=person,
            role=Role.MEMBER,
            status=MembershipStatus.LEFT if index % 5 == 4 else MembershipStatus.ACTIVE,
            joined_at=timezone.now(),
            accepted_conduct=group.codes_of_conduct.first(),
        )
        for index, group in enumerate(groups)
    )
    start = timezone.now() - timedelta(days=2)
    meetings = Meeting.objects.bulk_create(
        Meeting(
            group=group,
            format=MeetingFormat.IN_PERSON,
            time_zone=group.time_zone,
            starts_at=start,
            ends_at=start + timedelta(minutes=90),
        )
        for group in groups
    )
    Rsvp.objects.bulk_create(
        Rsvp(meeting=meeting, user=person, response="going", status="confirmed")
        for meeting in meetings
    )
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, user=person, status="present") for meeting in meetings
    )
    staff = new_people(1)[0]
    AttendanceChange.objects.bulk_create(
        AttendanceChange(
            meeting=meeting,
            user=person,
            field="status",
            old_value="",
            new_value="present",
            changed_by=staff,
        )
        for meeting in meetings
    )
    kinds = [ConsentKind.EMAIL_CONTACT, ConsentKind.RESEARCH_USE]
    ConsentRecord.objects.bulk_create(
        ConsentRecord(user=person, kind=kinds[index % 2], version="1", given=index % 3 != 0)
        for index in range(count)
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=staff, subject=person, action="group.roster.view") for _ in range(count)
    )
    first = Notification.objects.count()
    Notification.objects.bulk_create(
        Notification(
            recipient=person,
            kind=NotificationKind.MEETING_REMINDER,
            subject_key=f"meeting:{meeting.pk}",
            slot=f"slot{first + index}",
            state=NotificationState.SENT,
        )
        for index, meeting in enumerate(meetings)
    )


OWN_PAGES = [
    "home",
    "privacy",
    "members:account",
    "members:privacy",
    "members:notifications",
    "members:export",
    "members:delete",
]


@pytest.mark.parametrize("name", OWN_PAGES)
def test_own_pages_cost_the_same_for_a_short_and_a_long_history(client, name):
    person = UserFactory()
    log_in(client, person)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    url = reverse(name)

    def large():
        give_history(person, LARGE - SMALL)
        if name == "members:export":
            exported = client.get(url).json()
            assert len(exported["meeting_attendance"]) == LARGE

    assert_flat(
        small_setup=lambda: give_history(person, SMALL),
        large_setup=large,
        request=lambda: client.get(url),
        label=name,
    )


def test_unsubscribe_page_costs_the_same_for_a_short_and_a_long_history(client):
    person = UserFactory()
    token = notifications.unsubscribe_token(person, NotificationKind.MEETING_REMINDER)
    url = reverse("unsubscribe", args=[token])
    assert_flat(
        small_setup=lambda: give_history(person, SMALL),
        large_setup=lambda: give_history(person, LARGE - SMALL),
        request=lambda: client.get(url),
        label="unsubscribe",
    )
