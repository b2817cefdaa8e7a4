"""The outbox paths the other tests did not reach: the facilitators' daily digest, the
group builders' second thoughts at send time, and the two clock tasks."""

from datetime import UTC, datetime, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.utils import timezone

from config.tasks import clear_expired_sessions
from groups.models import MembershipStatus, Role
from members import notifications
from members.models import Notification, NotificationKind, NotificationState
from members.tasks import notifications_tick
from sessions.models import MeetingStatus
from sessions.notifications import DIGEST_HOUR, scan_digests
from tests.celery_eager import celery_eager
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


def next_local_day(zone: ZoneInfo, days: int = 3) -> datetime:
    """Midnight, `days` days from now, in `zone`: a day computed, never written down."""
    today = timezone.now().astimezone(zone).date()
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def digest_rows() -> list[tuple[int, str, datetime]]:
    return list(
        Notification.objects.filter(kind=NotificationKind.FACILITATOR_DIGEST)
        .order_by("recipient_id")
        .values_list("recipient_id", "slot", "due_at")
    )


@pytest.fixture
def rome_group():
    return SupportGroupFactory(time_zone="Europe/Rome")


def facilitator_of(group, *, time_zone="Europe/Rome", role=Role.FACILITATOR):
    return MembershipFactory(group=group, role=role, user=UserFactory(time_zone=time_zone)).user


# ---------------------------------------------------------------- the daily digest


def test_a_facilitator_gets_tomorrows_meetings_at_six_in_the_evening_their_time(rome_group):
    tomorrow = next_local_day(ROME)
    MeetingFactory(group=rome_group, starts_at=(tomorrow + timedelta(hours=19)).astimezone(UTC))
    facilitator = facilitator_of(rome_group)
    MembershipFactory(group=rome_group)  # a member: no digest
    evening_before = tomorrow - timedelta(days=1) + timedelta(hours=DIGEST_HOUR)

    assert scan_digests(evening_before - timedelta(minutes=1)) == 0
    assert scan_digests(evening_before) == 1
    assert scan_digests(evening_before + timedelta(minutes=5)) == 0  # once, however often
    assert digest_rows() == [(facilitator.pk, f"{tomorrow.date():%Y-%m-%d}", evening_before)]


def test_the_digest_hour_follows_each_facilitators_own_time_zone(rome_group):
    tomorrow = next_local_day(ROME)
    MeetingFactory(group=rome_group, starts_at=(tomorrow + timedelta(hours=20)).astimezone(UTC))
    in_rome = facilitator_of(rome_group)
    in_new_york = facilitator_of(rome_group, time_zone="America/New_York", role=Role.CO_FACILITATOR)
    rome_evening = tomorrow - timedelta(days=1) + timedelta(hours=DIGEST_HOUR)

    assert scan_digests(rome_evening) == 1
    assert [row[0] for row in digest_rows()] == [in_rome.pk]

    ny_day = rome_evening.astimezone(NEW_YORK).date()
    ny_evening = datetime(ny_day.year, ny_day.month, ny_day.day, DIGEST_HOUR, tzinfo=NEW_YORK)
    assert scan_digests(ny_evening) == 1
    assert sorted(row[0] for row in digest_rows()) == sorted([in_rome.pk, in_new_york.pk])


def test_the_digest_lists_tomorrows_meetings_and_is_skipped_when_they_are_cancelled(
    rome_group,
):
    tomorrow = next_local_day(ROME)
    meeting = MeetingFactory(
        group=rome_group, starts_at=(tomorrow + timedelta(hours=19)).astimezone(UTC)
    )
    facilitator_of(rome_group)
    other = facilitator_of(SupportGroupFactory(time_zone="Europe/Rome"))
    MeetingFactory(
        group=other.memberships.get().group,
        starts_at=(tomorrow + timedelta(hours=19)).astimezone(UTC),
        status=MeetingStatus.CANCELLED,
    )
    evening_before = tomorrow - timedelta(days=1) + timedelta(hours=DIGEST_HOUR)
    # The other facilitator's only meeting is cancelled: the scan does not even ask.
    assert scan_digests(evening_before) == 1
    row = Notification.objects.get(kind=NotificationKind.FACILITATOR_DIGEST)

    assert notifications.notification_send(notification_id=row.pk, now=evening_before) == "sent"
    assert len(mail.outbox) == 1
    assert rome_group.name in mail.outbox[0].body

    # The same digest for a day whose meetings were all cancelled after the scan.
    meeting.status = MeetingStatus.CANCELLED
    meeting.save(update_fields=["status"])
    row.state, row.slot = NotificationState.PENDING, f"{tomorrow.date():%Y-%m-%d}"
    row.save(update_fields=["state", "slot"])
    assert notifications.notification_send(notification_id=row.pk, now=evening_before) == "skipped"
    row.refresh_from_db()
    assert row.skip_reason == "no-meetings"


# ---------------------------------------------------------------- group builders at send time


def queued(kind: str, recipient, subject_key: str) -> Notification:
    return Notification.objects.create(
        recipient=recipient,
        kind=kind,
        subject_key=subject_key,
        slot="test",
        due_at=timezone.now() - timedelta(minutes=1),
    )


def send_and_read_reason(notification: Notification) -> str:
    assert notifications.notification_send(notification_id=notification.pk) == "skipped"
    notification.refresh_from_db()
    return notification.skip_reason


def test_a_join_request_answered_before_sending_is_not_sent():
    group = SupportGroupFactory()
    facilitator = facilitator_of(group)
    request = MembershipFactory(group=group, status=MembershipStatus.ACTIVE)
    row = queued(NotificationKind.JOIN_REQUEST, facilitator, f"membership:{request.pk}")
    assert send_and_read_reason(row) == "request-answered"
    assert mail.outbox == []


def test_a_join_request_is_not_sent_to_someone_no_longer_facilitating():
    group = SupportGroupFactory()
    former = MembershipFactory(group=group, role=Role.MEMBER).user
    request = MembershipFactory(group=group, status=MembershipStatus.PENDING)
    row = queued(NotificationKind.JOIN_REQUEST, former, f"membership:{request.pk}")
    assert send_and_read_reason(row) == "not-a-facilitator"


def test_an_answer_to_a_request_withdrawn_meanwhile_is_not_sent():
    membership = MembershipFactory(status=MembershipStatus.LEFT)
    row = queued(NotificationKind.REQUEST_DECIDED, membership.user, f"membership:{membership.pk}")
    assert send_and_read_reason(row) == "request-withdrawn"


def test_an_answer_about_someone_elses_request_is_not_sent():
    membership = MembershipFactory()
    row = queued(NotificationKind.REQUEST_DECIDED, UserFactory(), f"membership:{membership.pk}")
    assert send_and_read_reason(row) == "request-gone"


def test_a_place_in_a_group_left_meanwhile_is_not_announced():
    membership = MembershipFactory(status=MembershipStatus.LEFT)
    row = queued(NotificationKind.WAITLIST_PROMOTED, membership.user, f"membership:{membership.pk}")
    assert send_and_read_reason(row) == "no-longer-a-member"


def test_an_erased_member_is_announced_only_to_current_facilitators():
    group = SupportGroupFactory()
    member = MembershipFactory(group=group).user
    row = queued(NotificationKind.MEMBER_ERASED, member, f"group:{group.pk}")
    assert send_and_read_reason(row) == "not-a-facilitator"

    facilitator = facilitator_of(group)
    row = queued(NotificationKind.MEMBER_ERASED, facilitator, f"group:{group.pk}")
    assert notifications.notification_send(notification_id=row.pk) == "sent"
    assert group.name in mail.outbox[-1].body


# ---------------------------------------------------------------- the clock's tasks


def test_the_minute_tick_creates_what_is_due_and_queues_it(django_capture_on_commit_callbacks):
    group = SupportGroupFactory()
    MembershipFactory(group=group)
    # A join request notification already due and never queued: the tick sends it.
    request = MembershipFactory(group=group, status=MembershipStatus.PENDING)
    facilitator = facilitator_of(group)
    queued(NotificationKind.JOIN_REQUEST, facilitator, f"membership:{request.pk}")

    with celery_eager(), django_capture_on_commit_callbacks(execute=True):
        result = notifications_tick.delay().get()

    assert result["queued"] == 1
    assert set(result) >= {"queued", *notifications._scanners}
    assert Notification.objects.get().state == NotificationState.SENT


def test_clearing_expired_sessions_keeps_the_live_ones():
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    live, expired = store_class(), store_class()
    live["x"], expired["x"] = 1, 2
    live.create()
    expired.create()
    expired.set_expiry(-60)
    expired.save()
    assert Session.objects.filter(session_key=expired.session_key).exists()

    with celery_eager():
        clear_expired_sessions.delay().get()

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
