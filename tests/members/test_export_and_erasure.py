"""A person downloads everything stored about them, then erases their account.

The scene plants the person in every app: groups (memberships, requests, invitations),
meetings (RSVPs confirmed and waitlisted, attendance and its history, a note naming
them, a calendar feed), the outbox (a failed email whose error quotes their address),
preferences, consents, the audit log, allauth's addresses and authenticator and Django's
admin log (see also every_app.py). After erasure their email, full name and display name
must be nowhere in the database: every text-like column of every table is searched. The
rows that make group numbers add up stay (anonymous), the seat they held goes to the
next person waiting, and the facilitators hear that a member left without being told who.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import SESSION_KEY, authenticate
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from groups import services as group_services
from groups.models import Invitation, JoinPolicy, Membership, MembershipStatus, Role
from members import personal_data
from members.models import AuditEvent, ConsentKind, User
from members.services import account_erase, audit_record, consent_record, consents_update
from sessions.models import CalendarFeedToken
from tests.auth import log_in
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, SupportGroupFactory, UserFactory
from tests.foundation.helpers import totp_code
from tests.members import every_app

pytestmark = pytest.mark.django_db

EMAIL = "zebulon.quartz.8841@example.org"
OLD_EMAIL = "zq.previous-8841@example.org"
FULL_NAME = "Zebulon Quartzmann"
DISPLAY_NAME = "Zebulon-Quartz"
# Anything that would identify the person; "zebulon" alone catches partial leftovers.
NEEDLES = [EMAIL, OLD_EMAIL, FULL_NAME, DISPLAY_NAME, "zebulon", "quartzmann"]

PEER_EMAIL = "ophelia.otherling@example.net"
PEER_DISPLAY_NAME = "Ophelia-Otherling"
PEER_FULL_NAME = "Ophelia Otherling-Brandt"


@dataclass
class Scene:
    person: User
    totp_secret: str
    peer: User
    facilitator: User
    co_facilitator: User
    first_waiting: Membership
    second_waiting: Membership
    walkers: object  # the full group the person has a seat in
    readers: object  # an approval group where the person asked to join
    choir: object  # a group that declined the person, by name
    planted: every_app.Planted  # meetings, outbox and report rows, in the walkers group


@pytest.fixture
def scene(password) -> Scene:
    person = UserFactory(email=EMAIL, display_name=DISPLAY_NAME, full_name=FULL_NAME)
    EmailAddress.objects.create(user=person, email=OLD_EMAIL, verified=True, primary=False)
    totp_secret = generate_totp_secret()
    TOTP.activate(person, totp_secret)
    peer = UserFactory(email=PEER_EMAIL, display_name=PEER_DISPLAY_NAME, full_name=PEER_FULL_NAME)
    facilitator = UserFactory(email="fenna.facilitator@example.net", display_name="Fenna")
    co_facilitator = UserFactory(email="cai.cofacilitator@example.net", display_name="Cai")

    walkers = SupportGroupFactory(name="Harbour Walkers", capacity=2)
    MembershipFactory(group=walkers, user=facilitator, role=Role.FACILITATOR)
    MembershipFactory(group=walkers, user=co_facilitator, role=Role.CO_FACILITATOR)
    MembershipFactory(group=walkers, user=person, contact_shared=True)
    MembershipFactory(group=walkers, user=peer, contact_shared=True)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    second_waiting = MembershipFactory(
        group=walkers,
        status=MembershipStatus.WAITLISTED,
        joined_at=None,
        waitlisted_at=an_hour_ago + timedelta(minutes=5),
    )
    first_waiting = MembershipFactory(
        group=walkers,
        status=MembershipStatus.WAITLISTED,
        joined_at=None,
        waitlisted_at=an_hour_ago,
    )

    readers = SupportGroupFactory(name="Quiet Readers", join_policy=JoinPolicy.APPROVAL)
    MembershipFactory(group=readers, user=facilitator, role=Role.FACILITATOR)
    group_services.membership_request(
        group_id=readers.pk,
        user=person,
        message=f"Hello, I am {FULL_NAME}; my friends call me {DISPLAY_NAME}.",
        accepted_conduct_version=1,
        contact_shared=True,
    )

    choir = SupportGroupFactory(name="Sunday Choir", join_policy=JoinPolicy.INVITATION)
    MembershipFactory(group=choir, user=facilitator, role=Role.FACILITATOR)
    MembershipFactory(
        group=choir,
        user=person,
        status=MembershipStatus.DECLINED,
        joined_at=None,
        decision_reason=f"Sorry {DISPLAY_NAME}, we are full this season.",
    )
    Invitation.objects.create(
        group=choir,
        email=EMAIL.upper(),
        token_hash="a" * 64,
        invited_by=facilitator,
        expires_at=timezone.now() + timedelta(days=14),
    )
    Invitation.objects.create(  # to the second address, never used
        group=readers,
        email=OLD_EMAIL,
        token_hash="c" * 64,
        invited_by=facilitator,
        expires_at=timezone.now() + timedelta(days=3),
    )
    Invitation.objects.create(
        group=walkers,
        email=OLD_EMAIL,
        token_hash="b" * 64,
        invited_by=facilitator,
        expires_at=timezone.now() - timedelta(days=1),
        accepted_at=timezone.now() - timedelta(days=2),
        accepted_by=person,
    )

    consents_update(
        user=person,
        choices={
            ConsentKind.TERMS: True,
            ConsentKind.EMAIL_CONTACT: True,
            ConsentKind.RESEARCH_USE: False,
        },
    )
    consent_record(user=person, kind=ConsentKind.RESEARCH_USE, given=True)
    audit_record(
        actor=facilitator, subjects=[person, peer], action="group.roster.view", context="Walkers"
    )
    LogEntry.objects.create(
        user=facilitator,
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(person.pk),
        object_repr=str(person),
        action_flag=CHANGE,
        change_message=f'[{{"changed": {{"fields": ["Full name"]}}}}, "{FULL_NAME}"]',
    )
    planted = every_app.plant(
        person=person,
        peer=peer,
        facilitator=facilitator,
        group=walkers,
        email=EMAIL,
        old_email=OLD_EMAIL,
        display_name=DISPLAY_NAME,
        full_name=FULL_NAME,
    )
    return Scene(
        person=person,
        totp_secret=totp_secret,
        peer=peer,
        facilitator=facilitator,
        co_facilitator=co_facilitator,
        first_waiting=first_waiting,
        second_waiting=second_waiting,
        walkers=walkers,
        readers=readers,
        choir=choir,
        planted=planted,
    )


# --- Searching the whole database -------------------------------------------------------

TEXT_TYPES = ("character varying", "character", "text", "json", "jsonb")


def text_columns() -> set[tuple[str, str]]:
    """Every text-like column of every table in the schema, models or not."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema()
              AND t.table_type = 'BASE TABLE'
              AND c.data_type = ANY(%s)
            """,
            [list(TEXT_TYPES)],
        )
        return set(cursor.fetchall())


def model_text_columns() -> set[tuple[str, str]]:
    """Text-like columns as Django's models (all apps, through tables too) declare them."""
    columns = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                columns.add((model._meta.db_table, field.column))
    return columns


def places_holding(needles: list[str]) -> list[str]:
    """'table.column: needle' for every column whose text contains a needle (any case)."""
    quote = connection.ops.quote_name
    found = []
    with connection.cursor() as cursor:
        for table, column in sorted(text_columns()):
            for needle in needles:
                cursor.execute(
                    f"SELECT count(*) FROM {quote(table)} "  # names come from the catalogue
                    f"WHERE strpos(lower({quote(column)}::text), lower(%s)) > 0",
                    [needle],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column}: {needle}")
    return found


def sessions_holding(needles: list[str]) -> list[str]:
    """Session data is signed and compressed, so decode it before looking inside."""
    found = []
    for session in Session.objects.all():
        text = json.dumps(session.get_decoded(), default=str).lower()
        found += [f"session {session.pk}: {n}" for n in needles if n.lower() in text]
    return found


def test_the_search_covers_every_models_text_columns_including_allauth_and_django(scene):
    scanned = text_columns()

    assert model_text_columns() <= scanned
    tables = {table for table, _column in scanned}
    for table in (
        "members_user",
        "account_emailaddress",
        "mfa_authenticator",
        "django_admin_log",
        "django_session",
        "groups_membership",
        "groups_invitation",
        "meetings_meeting",
        "meetings_attendancechange",
        "members_notification",
    ):
        assert table in tables
    # ...and it does find the person before erasure, in the places we planted them.
    before = places_holding(NEEDLES)
    for place in (
        f"members_user.email: {EMAIL}",
        f"account_emailaddress.email: {OLD_EMAIL}",
        f"groups_membership.request_message: {FULL_NAME}",
        f"groups_membership.decision_reason: {DISPLAY_NAME}",
        f"groups_invitation.email: {EMAIL}",
        f"django_admin_log.object_repr: {DISPLAY_NAME}",
        f"members_notification.last_error: {EMAIL}",
        f"members_notification.last_error: {OLD_EMAIL}",
        f"meetings_meeting.facilitator_note: {DISPLAY_NAME}",
        f"meetings_attendancechange.new_value: {FULL_NAME}",
    ):
        assert place in before


# --- Export -----------------------------------------------------------------------------


def test_export_is_a_json_download_of_the_persons_own_data_only(client, scene):
    log_in(client, scene.person)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})

    response = client.get(reverse("members:export"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert ".json" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["profile"]["email"] == EMAIL
    assert data["profile"]["display_name"] == DISPLAY_NAME
    assert data["profile"]["full_name"] == FULL_NAME
    assert {address["email"] for address in data["email_addresses"]} == {EMAIL, OLD_EMAIL}
    consents = [(c["kind"], c["given"]) for c in data["consents"]]
    assert consents == [  # the whole history, newest first
        (ConsentKind.RESEARCH_USE, True),
        (ConsentKind.RESEARCH_USE, False),
        (ConsentKind.EMAIL_CONTACT, True),
        (ConsentKind.TERMS, True),
    ]
    assert {c["version"] for c in data["consents"]} == {"2026-11"}
    memberships = {m["group"]: m for m in data["group_memberships"]}
    assert set(memberships) == {"Harbour Walkers", "Quiet Readers", "Sunday Choir"}
    assert memberships["Harbour Walkers"]["status"] == MembershipStatus.ACTIVE
    assert memberships["Quiet Readers"]["request_message"].startswith("Hello, I am")
    assert memberships["Sunday Choir"]["decision_reason"].startswith("Sorry")
    # The roster opened, and the person's attendance marked twice (present, then late).
    assert sorted(event["action"] for event in data["staff_access_to_your_data"]) == [
        "group.roster.view",
        "register.marked",
        "register.marked",
    ]
    body = response.content.decode()
    for other in (PEER_EMAIL, PEER_DISPLAY_NAME, PEER_FULL_NAME, scene.facilitator.email):
        assert other not in body


def test_export_has_every_apps_sections_with_the_persons_rows_only(client, scene):
    log_in(client, scene.person)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})

    response = client.get(reverse("members:export"))

    data = json.loads(response.content)
    assert {section.name for section in personal_data.sections()} <= set(data)
    planted = scene.planted
    rsvps = {r["meeting"]: r for r in data["meeting_rsvps"]}
    assert set(rsvps) == {every_app.PAST_TITLE, every_app.ROOMY_TITLE, every_app.FULL_TITLE}
    assert rsvps[every_app.ROOMY_TITLE]["status"] == "confirmed"
    assert rsvps[every_app.FULL_TITLE]["status"] == "waitlisted"
    assert rsvps[every_app.FULL_TITLE]["waitlist_position"] == 1
    assert rsvps[every_app.PAST_TITLE]["group"] == "Harbour Walkers"
    assert [(a["meeting"], a["status"]) for a in data["meeting_attendance"]] == [
        (every_app.PAST_TITLE, "late")
    ]
    changes = [(c["old_value"], c["new_value"]) for c in data["meeting_attendance_changes"]]
    assert changes == [("", "present"), ("present", "late")]  # not the peer's, not the note
    token = CalendarFeedToken.objects.get(user=scene.person)
    assert data["calendar_feed"] == {"private_address_created_at": token.created_at.isoformat()}
    assert data["notification_preferences"]["reminder_hour_before"] is True
    assert data["notification_preferences"]["facilitator_digest"] is False
    outbox = sorted((n["kind"], n["state"]) for n in data["email_notifications"])
    assert outbox == planted.person_outbox
    assert {n["skip_reason"] for n in data["email_notifications"]} == {"", "opted-out"}
    assert data["meetings_staff_work"] == {
        "series_scheduled": [],
        "meeting_changes_announced": [],
        "attendance_marks_made": 0,
        "attendance_sheet_changes_made": 0,
    }
    day = planted.past.starts_at.astimezone(ZoneInfo(planted.past.time_zone)).date()
    assert data["attendance_counted_in_reports"] == [
        {
            "group": "Harbour Walkers",
            "first_day_counted": day.isoformat(),
            "days_counted": [day.isoformat()],
        }
    ]
    body = response.content.decode()
    for other in (
        every_app.PEER_ONLY_TITLE,  # only the peer answered for it
        token.token,  # the secret of the private address
        "Recipient address rejected",  # mail servers' answers
        "offered lifts home",  # the facilitator's note
        PEER_EMAIL,
        PEER_DISPLAY_NAME,
        PEER_FULL_NAME,
    ):
        assert other not in body


def test_a_facilitators_export_counts_their_marks_without_the_people_marked(client, scene):
    log_in(client, scene.facilitator)
    client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})

    data = json.loads(client.get(reverse("members:export")).content)

    work = data["meetings_staff_work"]
    assert work["attendance_marks_made"] == 2  # the person (present, then late) and the peer
    assert work["attendance_sheet_changes_made"] == 5  # three marks, the guests, the note
    assert data["meeting_rsvps"] == []
    body = json.dumps(data)
    for other in (EMAIL, DISPLAY_NAME, FULL_NAME, PEER_EMAIL, PEER_DISPLAY_NAME):
        assert other not in body


def test_export_needs_a_signed_in_person(client, scene):
    response = client.get(reverse("members:export"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert EMAIL not in response.content.decode()


# --- Erasure ----------------------------------------------------------------------------


def rows_per_group(*groups) -> dict[int, int]:
    return {group.pk: Membership.objects.filter(group=group).count() for group in groups}


def assert_erased_everywhere(scene: Scene, rows_before: dict[int, int], mailoutbox) -> None:
    assert places_holding(NEEDLES) == []
    assert sessions_holding(NEEDLES) == []

    # The anonymous rows stay, so the numbers from before still add up.
    groups = (scene.walkers, scene.readers, scene.choir)
    assert rows_per_group(*groups) == rows_before
    person = User.objects.get(pk=scene.person.pk)
    assert not person.is_active
    assert not person.has_usable_password()
    statuses = dict(Membership.objects.filter(user=person).values_list("group__name", "status"))
    assert statuses == {
        "Harbour Walkers": MembershipStatus.LEFT,
        "Quiet Readers": MembershipStatus.LEFT,
        "Sunday Choir": MembershipStatus.DECLINED,
    }
    assert not EmailAddress.objects.filter(user=person).exists()
    assert not Authenticator.objects.filter(user=person).exists()
    assert AuditEvent.objects.filter(subject=person).count() == 3  # the facts, not the name

    # The seat went to the person who had waited longest; the other still waits.
    scene.first_waiting.refresh_from_db()
    scene.second_waiting.refresh_from_db()
    assert scene.first_waiting.status == MembershipStatus.ACTIVE
    assert scene.second_waiting.status == MembershipStatus.WAITLISTED
    assert group_services._seats_taken(scene.walkers) == 2

    # Facilitators hear that someone left, not who.
    erased_mails = [m for m in mailoutbox if m.subject.startswith("A member has left")]
    told = sorted((address, m.subject) for m in erased_mails for address in m.to)
    assert told == sorted(
        [
            (scene.facilitator.email, "A member has left Harbour Walkers"),
            (scene.co_facilitator.email, "A member has left Harbour Walkers"),
            (scene.facilitator.email, "A member has left Quiet Readers"),
        ]
    )
    for message in mailoutbox:
        text = f"{message.subject}\n{message.body}".lower()
        assert all(needle.lower() not in text for needle in NEEDLES), message.body
        assert not {EMAIL, OLD_EMAIL} & set(message.to)
    promoted = [m for m in mailoutbox if scene.first_waiting.user.email in m.to]
    assert len(promoted) == 1

    every_app.assert_erased(scene.planted, person=person, peer=scene.peer)


def assert_cannot_sign_in(client, scene: Scene, password: str) -> None:
    erased_email = User.objects.get(pk=scene.person.pk).email
    for login in (EMAIL, OLD_EMAIL, erased_email):
        assert authenticate(email=login, password=password) is None
    response = client.post(reverse("account_login"), {"login": EMAIL, "password": password})
    assert SESSION_KEY not in client.session
    assert response.status_code == 200  # the form again, with an error


def test_erasure_removes_the_person_from_every_table_and_keeps_the_counts(
    client, scene, password, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    other_device = Client()  # signed in fully, with password and authenticator code
    other_device.post(reverse("account_login"), {"login": EMAIL, "password": password})
    other_device.post(reverse("mfa_authenticate"), {"code": totp_code(scene.totp_secret)})
    assert other_device.session.get(SESSION_KEY) == str(scene.person.pk)
    half_signed_in = Client()  # stopped at the two-factor step; the session holds the email
    half_signed_in.post(reverse("account_login"), {"login": OLD_EMAIL, "password": password})
    assert SESSION_KEY not in half_signed_in.session
    assert len(sessions_holding([EMAIL, OLD_EMAIL])) == 2
    rows_before = rows_per_group(scene.walkers, scene.readers, scene.choir)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        account_erase(user=scene.person)

    assert_erased_everywhere(scene, rows_before, mailoutbox)
    assert other_device.get(reverse("members:account")).status_code == 302
    assert_cannot_sign_in(client, scene, password)


def test_erasure_through_the_delete_page_after_reauthenticating(
    client, scene, password, eager_celery, mailoutbox, django_capture_on_commit_callbacks
):
    log_in(client, scene.person)
    delete_url = reverse("members:delete")

    response = client.get(delete_url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))

    response = client.post(response["Location"], {"password": password})
    assert response.status_code == 302
    assert response["Location"] == delete_url

    assert client.get(delete_url).status_code == 200
    response = client.post(delete_url, {})  # the box is not ticked: nothing happens
    assert response.status_code == 200
    assert User.objects.get(pk=scene.person.pk).email == EMAIL

    rows_before = rows_per_group(scene.walkers, scene.readers, scene.choir)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(delete_url, {"confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert SESSION_KEY not in client.session
    assert_erased_everywhere(scene, rows_before, mailoutbox)
    assert client.get(reverse("members:export")).status_code == 302
    assert_cannot_sign_in(client, scene, password)
