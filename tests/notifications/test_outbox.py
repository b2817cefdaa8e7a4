"""The outbox: scans create each message once, sending re-checks, people stay in control."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from groups.models import MembershipStatus
from members import notifications
from members.models import (
    ConsentKind,
    Notification,
    NotificationPreferences,
    NotificationState,
)
from members.services import consent_record
from sessions.models import Meeting, MeetingStatus, Rsvp, RsvpStatus
from sessions.notifications import scan_reminders
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import ROLES
from tests.query_budget import count_queries

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")


def meeting_at(group, local_start: datetime) -> Meeting:
    start = local_start.astimezone(UTC)
    return Meeting.objects.create(
        group=group,
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
        time_zone=group.time_zone,
        format="in-person",
        venue_name="Casa",
        address="Via Roma 1",
    )


def going(meeting, user, status=RsvpStatus.CONFIRMED) -> Rsvp:
    return Rsvp.objects.create(meeting=meeting, user=user, response="going", status=status)


@pytest.fixture
def group(db):
    return SupportGroupFactory(time_zone="Europe/Rome")


def reminder_rows():
    return list(
        Notification.objects.filter(kind="meeting-reminder").values_list(
            "recipient_id", "subject_key", "slot", "due_at"
        )
    )


@pytest.mark.django_db
def test_scanning_the_same_minute_three_times_creates_each_reminder_once(group):
    meeting = meeting_at(group, datetime(2027, 3, 10, 19, 0, tzinfo=ROME))
    people = [MembershipFactory(group=group).user for _ in range(3)]
    for person in people:
        going(meeting, person)
    minute = datetime(2027, 3, 9, 18, 0, tzinfo=ROME)
    for _ in range(3):
        scan_reminders(minute)
    rows = reminder_rows()
    assert len(rows) == 3
    assert {row[0] for row in rows} == {p.pk for p in people}
    assert {row[2] for row in rows} == {"day-before:20270310T1800Z"}


@pytest.mark.django_db
def test_no_reminder_rows_for_people_not_going_or_opted_out(group):
    meeting = meeting_at(group, datetime(2027, 3, 10, 19, 0, tzinfo=ROME))
    confirmed = MembershipFactory(group=group).user
    waitlisted = MembershipFactory(group=group).user
    declined = MembershipFactory(group=group).user
    opted_out = MembershipFactory(group=group).user
    going(meeting, confirmed)
    going(meeting, waitlisted, RsvpStatus.WAITLISTED)
    Rsvp.objects.create(meeting=meeting, user=declined, response="not-going", status="declined")
    going(meeting, opted_out)
    NotificationPreferences.objects.create(user=opted_out, reminder_day_before=False)
    scan_reminders(datetime(2027, 3, 9, 18, 0, tzinfo=ROME))
    assert [row[0] for row in reminder_rows()] == [confirmed.pk]


@pytest.mark.django_db
def test_reminder_is_not_created_before_it_is_due_nor_long_after(group):
    meeting = meeting_at(group, datetime(2027, 3, 10, 19, 0, tzinfo=ROME))
    going(meeting, MembershipFactory(group=group).user)
    assert scan_reminders(datetime(2027, 3, 9, 17, 59, tzinfo=ROME)) == 0
    assert scan_reminders(datetime(2027, 3, 10, 1, 0, tzinfo=ROME)) == 0  # past the grace
    assert scan_reminders(datetime(2027, 3, 9, 23, 0, tzinfo=ROME)) == 1


@pytest.mark.django_db
def test_new_york_member_is_reminded_at_six_pm_new_york_time_for_a_rome_meeting(group):
    member = MembershipFactory(group=group, user=UserFactory(time_zone="America/New_York")).user
    # 10 March 2027, 09:00 in Rome is 03:00 the same day in New York (EST, UTC-5).
    meeting = meeting_at(group, datetime(2027, 3, 10, 9, 0, tzinfo=ROME))
    going(meeting, member)
    scan_reminders(datetime(2027, 3, 9, 18, 0, tzinfo=NEW_YORK))
    (row,) = reminder_rows()
    assert row[3] == datetime(2027, 3, 9, 18, 0, tzinfo=NEW_YORK)


@pytest.mark.django_db
def test_day_before_reminder_is_at_local_time_across_the_dst_change(group):
    member = MembershipFactory(group=group).user
    # Rome moves to summer time on Sunday 28 March 2027 at 02:00.
    meeting = meeting_at(group, datetime(2027, 3, 29, 19, 0, tzinfo=ROME))
    going(meeting, member)
    scan_reminders(datetime(2027, 3, 28, 18, 0, tzinfo=ROME))
    (row,) = reminder_rows()
    assert row[3] == datetime(2027, 3, 28, 16, 0, tzinfo=UTC)  # 18:00 CEST


@pytest.mark.django_db
def test_hour_before_reminder_when_chosen(group):
    member = MembershipFactory(group=group).user
    NotificationPreferences.objects.create(
        user=member, reminder_day_before=False, reminder_hour_before=True
    )
    meeting = meeting_at(group, datetime(2027, 3, 10, 19, 0, tzinfo=ROME))
    going(meeting, member)
    assert scan_reminders(datetime(2027, 3, 10, 17, 59, tzinfo=ROME)) == 0
    assert scan_reminders(datetime(2027, 3, 10, 18, 0, tzinfo=ROME)) == 1
    (row,) = reminder_rows()
    assert row[2] == "hour-before:20270310T1800Z"


@pytest.mark.django_db
def test_the_scan_costs_one_query_whatever_the_number_of_members(group):
    meeting = meeting_at(group, datetime(2027, 3, 10, 19, 0, tzinfo=ROME))
    minute = datetime(2027, 3, 9, 18, 0, tzinfo=ROME)

    def scan_queries() -> int:
        return count_queries(lambda: scan_reminders(minute))

    going(meeting, MembershipFactory(group=group).user)
    small = scan_queries()
    for _ in range(40):
        going(meeting, MembershipFactory(group=group).user)
    assert scan_queries() == small == 1
    assert Notification.objects.count() == 41


def _due_reminder(group, person, *, starts_in=timedelta(hours=20)) -> Notification:
    from django.utils import timezone

    meeting = meeting_at(group, timezone.now() + starts_in)
    going(meeting, person)
    return Notification.objects.create(
        recipient=person,
        kind="meeting-reminder",
        subject_key=f"meeting:{meeting.pk}",
        slot=f"day-before:{meeting.starts_at.astimezone(UTC):%Y%m%dT%H%MZ}",
    )


@pytest.mark.django_db
def test_sending_renders_both_parts_with_unsubscribe_headers_and_calendar(group, mailoutbox):
    person = MembershipFactory(group=group, user=UserFactory(display_name="Ada")).user
    row = _due_reminder(group, person)
    assert notifications.notification_send(notification_id=row.pk) == "sent"
    (email,) = mailoutbox
    assert email.to == [person.email]
    assert email.subject.startswith("Tomorrow:")
    assert "Hello Ada" in email.body
    assert email.alternatives[0][1] == "text/html"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in email.extra_headers["List-Unsubscribe"]
    assert email.extra_headers["Message-ID"].startswith(f"<notification-{row.pk}@")
    assert [name for name, _content, _type in email.attachments] == ["meeting.ics"]
    row.refresh_from_db()
    assert row.state == NotificationState.SENT and row.attempts == 1


@pytest.mark.django_db
def test_a_second_send_of_the_same_row_sends_nothing(group, mailoutbox):
    row = _due_reminder(group, MembershipFactory(group=group).user)
    assert notifications.notification_send(notification_id=row.pk) == "sent"
    assert notifications.notification_send(notification_id=row.pk) == "sent"
    assert len(mailoutbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("cancelled", "meeting-cancelled"),
        ("moved", "meeting-moved"),
        ("not-going", "not-going"),
        ("left", "not-a-member"),
        ("unverified", "email-unverified"),
        ("opted-out", "opted-out"),
        ("consent", "consent-withdrawn"),
    ],
)
def test_send_time_rechecks_skip_with_a_reason(group, mailoutbox, change, reason):
    membership = MembershipFactory(group=group)
    person = membership.user
    row = _due_reminder(group, person)
    meeting = Meeting.objects.get(pk=int(row.subject_key.split(":")[1]))
    if change == "cancelled":
        meeting.status = MeetingStatus.CANCELLED
        meeting.save()
    elif change == "moved":
        meeting.starts_at += timedelta(hours=1)
        meeting.ends_at += timedelta(hours=1)
        meeting.save()
    elif change == "not-going":
        Rsvp.objects.filter(meeting=meeting).update(response="not-going", status="declined")
    elif change == "left":
        membership.status = MembershipStatus.LEFT
        membership.save()
    elif change == "unverified":
        person.emailaddress_set.update(verified=False)
    elif change == "opted-out":
        NotificationPreferences.objects.create(user=person, reminder_day_before=False)
    else:
        consent_record(user=person, kind=ConsentKind.EMAIL_CONTACT, given=False)
    assert notifications.notification_send(notification_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert (row.state, row.skip_reason) == ("skipped", reason)
    assert mailoutbox == []


@pytest.mark.django_db
def test_italian_member_gets_italian_email_with_both_local_times(group, mailoutbox):
    person = MembershipFactory(
        group=group, user=UserFactory(language="it", time_zone="America/New_York")
    ).user
    row = _due_reminder(group, person)
    notifications.notification_send(notification_id=row.pk)
    (email,) = mailoutbox
    assert email.subject.startswith("Domani:")
    assert "Ciao" in email.body
    meeting = Meeting.objects.get(pk=int(row.subject_key.split(":")[1]))
    for zone in (ROME, NEW_YORK):  # the group's own time is shown too
        assert f"{meeting.starts_at.astimezone(zone):%H:%M}" in email.body


@pytest.mark.django_db
def test_meeting_change_reaches_everyone_going_once(
    group, eager_celery, django_capture_on_commit_callbacks, mailoutbox
):
    from sessions import services
    from sessions.notifications import scan_changes

    facilitator = MembershipFactory(group=group, role="facilitator").user
    person = MembershipFactory(group=group).user
    meeting = meeting_at(group, datetime.now(ROME) + timedelta(days=3))
    going(meeting, person)
    services.meeting_cancel(meeting_id=meeting.pk, actor=facilitator, reason="Venue flooded")
    now = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert scan_changes(now) == 1
        assert scan_changes(now) == 0
        notifications.dispatch_due(now=now)
    (email,) = mailoutbox
    assert email.subject.startswith("Cancelled:")
    assert "Venue flooded" in email.body


@pytest.mark.django_db
def test_dispatch_queues_a_row_once_then_again_only_after_it_was_lost(group):
    from django.utils import timezone

    row = _due_reminder(group, MembershipFactory(group=group).user)
    now = timezone.now()
    assert notifications.dispatch_due(now=now) == 1
    assert notifications.dispatch_due(now=now + timedelta(minutes=1)) == 0
    assert (
        notifications.dispatch_due(now=now + notifications.REQUEUE_AFTER + timedelta(seconds=1))
        == 1
    )
    row.refresh_from_db()
    assert row.state == NotificationState.PENDING


@pytest.mark.django_db
def test_unsubscribe_link_works_logged_out_for_that_kind_only(client, group):
    person = UserFactory()
    token = notifications.unsubscribe_token(person, "meeting-reminder")
    url = reverse("unsubscribe", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert not NotificationPreferences.objects.filter(user=person).exists()  # GET asks only
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    prefs = NotificationPreferences.objects.get(user=person)
    assert not prefs.reminder_day_before and not prefs.reminder_hour_before
    assert prefs.meeting_changed and prefs.waitlist_promoted


@pytest.mark.django_db
def test_unsubscribe_tokens_cannot_be_forged_or_moved_to_another_person_or_kind(client):
    person, other = UserFactory(), UserFactory()
    token = notifications.unsubscribe_token(person, "meeting-reminder")
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.post(reverse("unsubscribe", args=[forged])).status_code == 404
    other_token = notifications.unsubscribe_token(other, "meeting-changed")
    spliced = other_token.split(":")[0] + ":" + token.split(":", 1)[1]
    assert client.post(reverse("unsubscribe", args=[spliced])).status_code == 404
    assert not NotificationPreferences.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_preferences_page_is_each_persons_own(client, cast, role):
    cast.login(client, role)
    response = client.get(reverse("members:notifications"))
    if role == "visitor":
        assert response.status_code == 302
        return
    assert response.status_code == 200
    response = client.post(
        reverse("members:notifications"),
        {
            "reminder_day_before_hour": "9",
            "reminder_hour_before": "on",
            "meeting_changed": "on",
        },
    )
    assert response.status_code == 302
    prefs = NotificationPreferences.objects.get(user=cast.people[role])
    assert prefs.reminder_day_before_hour == 9 and prefs.reminder_hour_before
    assert not prefs.reminder_day_before
    # The facilitators' choices are shown, and so changed, only to people who facilitate;
    # everyone else's stay as they were (on by default) whatever the form sends.
    facilitates = role in ("facilitator", "other_facilitator")
    assert prefs.join_request is not facilitates


@pytest.mark.parametrize("role", ROLES)
def test_outbox_page_is_for_coordinators(client, cast, role):
    failed = Notification.objects.create(
        recipient=cast.people["member"],
        kind="meeting-reminder",
        subject_key="meeting:1",
        slot="x",
        state=NotificationState.FAILED,
        last_error="SMTPServerDisconnected: gone",
    )
    cast.login(client, role)
    response = client.get(reverse("members:outbox"))
    expected = 200 if role == "coordinator" else (302 if role == "visitor" else 403)
    assert response.status_code == expected
    if role == "coordinator":
        assert "SMTPServerDisconnected" in response.text
        client.post(reverse("members:outbox"), {"retry": failed.pk})
        failed.refresh_from_db()
        assert failed.state == NotificationState.PENDING
    else:
        assert "Quillon-Member" not in response.text
