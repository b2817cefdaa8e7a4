"""The account pages no other walk reaches: email choices, the calendar address, the
outbox, deleting an account, unsubscribing, an invitation, two-factor set-up and recovery
codes, resetting and changing the password; and a refused form that keeps what was typed.

Every test runs on a phone and on a desktop; controls are found by role and accessible
name, as a screen reader user finds them, and axe checks every page on the way.
"""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from django.utils import timezone
from playwright.sync_api import expect

from config.celery import app as celery_app
from groups import services as group_services
from groups.models import JoinPolicy, Membership, MembershipStatus, Role
from members.models import (
    Notification,
    NotificationKind,
    NotificationPreferences,
    NotificationState,
    User,
)
from members.notifications import unsubscribe_token
from members.services import coordinator_grant
from sessions.models import CalendarFeedToken
from tests.browser.accessibility import assert_accessible
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, SupportGroupFactory, UserFactory
from tests.foundation.helpers import totp_code
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.browser

NEW_PASSWORD = "nine-lanterns-on-the-quay-58"
LINK = re.compile(r"https?://\S+")


@pytest.fixture
def eager_celery():
    """Run the email tasks in the server thread, so their emails reach mailoutbox and the
    shared broker is left alone."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def heading(page):
    return page.get_by_role("main").get_by_role("heading", level=1)


def link_in(message, path_prefix: str) -> str:
    """The path (and query) of the first link in an email under `path_prefix`."""
    for url in LINK.findall(message.body):
        parts = urlsplit(url)
        if parts.path.startswith(path_prefix):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    raise AssertionError(f"No link to {path_prefix} in:\n{message.body}")


# --- Email choices and the calendar address -------------------------------------------


def test_member_changes_email_choices_and_gets_a_new_calendar_address(page, sign_in):
    member = UserFactory(display_name="Marta")
    sign_in(member)
    main = page.get_by_role("main")

    page.goto("/account/")
    expect(heading(page)).to_have_text("My account")
    assert_accessible(page)
    main.get_by_role("link", name="Emails and reminders").click()

    expect(heading(page)).to_have_text("Emails we send you")
    assert_accessible(page)
    main.get_by_label("At what time the day before").select_option(label="20:00")
    main.get_by_label("One hour before").check()
    main.get_by_label("When a meeting changes or is cancelled").uncheck()
    main.get_by_role("button", name="Save my choices").click()

    expect(page.get_by_role("status")).to_contain_text("Your email choices have been saved.")
    expect(main.get_by_label("At what time the day before")).to_have_value("20")
    expect(main.get_by_label("One hour before")).to_be_checked()
    expect(main.get_by_label("When a meeting changes or is cancelled")).not_to_be_checked()
    assert_accessible(page)
    prefs = NotificationPreferences.objects.get(user=member)
    assert (prefs.reminder_day_before_hour, prefs.reminder_hour_before) == (20, True)
    assert prefs.meeting_changed is False

    page.goto("/account/")
    assert_accessible(page)
    main.get_by_role("link", name="Calendar subscription").click()

    expect(heading(page)).to_have_text("Meetings in your calendar")
    address = main.get_by_label("Calendar address", exact=True)
    expect(address).to_have_accessible_description(re.compile("Keep this address to yourself"))
    first = address.input_value()
    assert re.search(r"/calendar/[\w-]+\.ics$", first), first
    assert_accessible(page)
    main.get_by_role("button", name="Get a new address").click()

    expect(page.get_by_role("status")).to_contain_text("Your calendar has a new address.")
    second = main.get_by_label("Calendar address", exact=True).input_value()
    assert second != first
    assert second.endswith(CalendarFeedToken.objects.get(user=member).token + ".ics")
    assert_accessible(page)


# --- Unsubscribing from an email ------------------------------------------------------


def test_a_link_in_an_email_unsubscribes_without_signing_in(page):
    member = UserFactory(display_name="Ugo")
    token = unsubscribe_token(member, NotificationKind.WAITLIST_PROMOTED)

    page.goto(f"/unsubscribe/{token}/")
    expect(heading(page)).to_have_text("Unsubscribe")
    expect(page.get_by_role("main")).to_contain_text("Stop these emails: A place frees up for me?")
    assert_accessible(page)
    page.get_by_role("main").get_by_role("button", name="Yes, unsubscribe").click()

    expect(page.get_by_role("main")).to_contain_text("Done: we won't send you these emails")
    assert_accessible(page)
    assert NotificationPreferences.objects.get(user=member).waitlist_promoted is False

    page.goto(f"/unsubscribe/{token[:-4]}abcd/")
    expect(page.get_by_role("main")).to_contain_text("This unsubscribe link is not valid.")
    assert_accessible(page)


# --- The coordinator's email outbox ---------------------------------------------------


def test_coordinator_sees_the_outbox_and_retries_a_failed_message(page, sign_in, eager_celery):
    coordinator = UserFactory(display_name="Cora")
    coordinator_grant(user=coordinator)
    enable_mfa(coordinator)
    member = UserFactory(display_name="Bruno")
    failed = Notification.objects.create(
        recipient=member,
        kind=NotificationKind.REQUEST_DECIDED,
        subject_key="membership:0",
        slot="decided",
        state=NotificationState.FAILED,
        attempts=6,
        last_error="550 mailbox unavailable",
    )
    sign_in(coordinator)
    main = page.get_by_role("main")

    page.goto("/account/")
    assert_accessible(page)
    main.get_by_role("link", name="Email outbox").click()

    expect(heading(page)).to_have_text("Email outbox")
    expect(
        main.get_by_role("table", name=re.compile("^Messages created in the last"))
    ).to_be_visible()
    failures = main.get_by_role(
        "table", name="Messages that could not be delivered after every retry"
    )
    expect(failures.get_by_role("row", name=re.compile("Bruno"))).to_contain_text(
        "550 mailbox unavailable"
    )
    assert_accessible(page)
    failures.get_by_role("button", name="Retry the message to Bruno").click()

    # The page has two live regions: the messages, and the count of messages found.
    expect(
        page.get_by_role("status").filter(has_text="The message is back in the queue.")
    ).to_be_visible()
    expect(main.get_by_text("No failed messages.")).to_be_visible()
    assert_accessible(page)
    failed.refresh_from_db()
    assert failed.state != NotificationState.FAILED


# --- Deleting an account --------------------------------------------------------------


def test_member_deletes_their_account_after_entering_the_password_again(
    page, sign_in, eager_celery
):
    group = SupportGroupFactory(name="Harbour Lights")
    member = UserFactory(display_name="Dario", email="dario@example.net")
    MembershipFactory(group=group, user=member)
    sign_in(member)  # signing in is not enough: erasing asks for the password again
    main = page.get_by_role("main")

    page.goto("/account/")
    assert_accessible(page)
    main.get_by_role("link", name="Delete my account").click()

    expect(heading(page)).to_have_text("Confirm Access")
    assert_accessible(page)
    main.get_by_label("Password", exact=True).fill("not-my-password")
    main.get_by_role("button", name="Confirm").click()
    password = main.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile("incorrect", re.IGNORECASE))
    assert_accessible(page)
    password.fill(DEFAULT_PASSWORD)
    main.get_by_role("button", name="Confirm").click()

    expect(heading(page)).to_have_text("Delete my account")
    assert_accessible(page)
    main.get_by_role("button", name="Erase my account").click()
    agree = main.get_by_label(
        "I understand that my account and my personal data will be erased for good"
    )
    expect(agree).to_have_attribute("aria-invalid", "true")
    expect(agree).to_have_accessible_description(re.compile("This field is required"))
    assert User.objects.get(pk=member.pk).is_active
    assert_accessible(page)
    agree.check()
    main.get_by_role("button", name="Erase my account").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Your account and your personal data have been erased."
    )
    expect(page.get_by_role("banner").get_by_role("link", name="Log in")).to_be_visible()
    assert_accessible(page)
    erased = User.objects.get(pk=member.pk)
    assert not erased.is_active
    assert erased.email != "dario@example.net"
    assert erased.display_name != "Dario"


# --- An invitation --------------------------------------------------------------------


def test_invited_person_follows_the_emailed_link_and_joins(page, sign_in, mailoutbox, eager_celery):
    group = SupportGroupFactory(
        name="Lakeside Carers",
        slug="lakeside-carers",
        join_policy=JoinPolicy.INVITATION,
        conduct="Be kind. What is shared here stays here.",
    )
    facilitator = UserFactory(display_name="Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    invitee = UserFactory(display_name="Ines", email="ines@example.net")
    group_services.invitation_create(group=group, email=invitee.email, actor=facilitator)
    (invitation,) = [message for message in mailoutbox if message.to == [invitee.email]]
    path = link_in(invitation, "/groups/invitation/")
    sign_in(invitee)
    main = page.get_by_role("main")

    page.goto(path)
    expect(heading(page)).to_have_text("Join Lakeside Carers")
    expect(main.get_by_role("heading", name="Code of conduct (version 1)")).to_be_visible()
    expect(main).to_contain_text("What is shared here stays here.")
    assert_accessible(page)
    main.get_by_role("button", name="Join the group").click()

    agree = main.get_by_label("I have read the code of conduct and I agree to follow it")
    expect(agree).to_have_attribute("aria-invalid", "true")
    expect(agree).to_have_accessible_description(re.compile("Tick the box to agree"))
    assert_accessible(page)
    agree.check()
    main.get_by_role("button", name="Join the group").click()

    expect(heading(page)).to_have_text("Lakeside Carers")
    expect(page.get_by_role("status")).to_contain_text("You are now a member of this group.")
    assert_accessible(page)
    membership = Membership.objects.get(group=group, user=invitee)
    assert membership.status == MembershipStatus.ACTIVE

    # A link that was never sent (or was mistyped) says so, and points to the directory.
    page.goto("/groups/invitation/not-a-real-invitation/")
    expect(heading(page)).to_have_text("This invitation can't be used")
    expect(main).to_contain_text("This invitation link is not valid.")
    expect(main.get_by_role("link", name="Find a group")).to_be_visible()
    assert_accessible(page)


# --- Two-factor authentication and recovery codes -------------------------------------


def test_member_turns_on_two_factor_and_keeps_recovery_codes(page, sign_in):
    member = UserFactory(display_name="Tina")
    sign_in(member)
    main = page.get_by_role("main")

    page.goto("/account/")
    assert_accessible(page)
    main.get_by_role("link", name="Two-factor authentication").click()

    expect(heading(page)).to_have_text("Two-Factor Authentication")
    expect(main).to_contain_text("An authenticator app is not active.")
    assert_accessible(page)
    main.get_by_role("link", name="Activate").click()

    # Just signed in: turning the app on does not ask for the password again.
    expect(heading(page)).to_have_text("Set up two-factor authentication")
    secret = main.get_by_label("Secret key").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    qr_code = main.get_by_role("img", name="QR code to scan with your authenticator app")
    expect(qr_code).to_be_visible()
    assert qr_code.get_attribute("src").startswith("data:image/svg+xml")
    assert_accessible(page)
    code = main.get_by_label("Authenticator code")
    code.fill("000000" if totp_code(secret) != "000000" else "111111")
    main.get_by_role("button", name="Activate").click()
    code = main.get_by_label("Authenticator code")
    expect(code).to_have_attribute("aria-invalid", "true")
    assert main.get_by_label("Secret key").input_value() == secret
    assert_accessible(page)
    code.fill(totp_code(secret))
    main.get_by_role("button", name="Activate").click()

    expect(page.get_by_role("status")).to_contain_text("Authenticator app activated.")
    assert Authenticator.objects.filter(user=member, type=Authenticator.Type.TOTP).exists()
    assert_accessible(page)

    page.goto("/accounts/2fa/")
    expect(main).to_contain_text("Authentication using an authenticator app is active.")
    assert_accessible(page)
    main.get_by_role("link", name="View").click()

    expect(heading(page)).to_have_text("Recovery codes")
    codes = main.get_by_label("Unused codes").input_value().split()
    assert len(codes) == 10 and len(set(codes)) == 10
    assert_accessible(page)
    main.get_by_role("link", name="Generate new codes").click()

    # New codes replace the old ones: that asks for the password again first.
    expect(heading(page)).to_have_text("Confirm Access")
    assert_accessible(page)
    main.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    main.get_by_role("button", name="Confirm").click()

    expect(heading(page)).to_have_text("Recovery Codes")
    assert_accessible(page)
    main.get_by_role("button", name="Generate").click()

    expect(heading(page)).to_have_text("Recovery codes")
    fresh = main.get_by_label("Unused codes").input_value().split()
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    assert_accessible(page)


# --- Passwords ------------------------------------------------------------------------


def test_forgotten_password_is_reset_from_the_emailed_link(page, mailoutbox):
    member = UserFactory(display_name="Paola", email="paola@example.net")
    main = page.get_by_role("main")

    page.goto("/accounts/login/")
    expect(heading(page)).to_have_text("Sign In")
    assert_accessible(page)
    main.get_by_role("link", name="Forgot your password?").click()

    expect(heading(page)).to_have_text("Password Reset")
    assert_accessible(page)
    main.get_by_label("Email", exact=True).fill(member.email)
    main.get_by_role("button", name="Reset My Password").click()

    expect(heading(page)).to_have_text("Password Reset")
    expect(main).to_contain_text("We have sent you an email.")
    assert_accessible(page)
    (message,) = [message for message in mailoutbox if message.to == [member.email]]
    page.goto(link_in(message, "/accounts/password/reset/key/"))

    expect(heading(page)).to_have_text("Change Password")
    assert_accessible(page)
    main.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    main.get_by_label("New Password (again)", exact=True).fill(NEW_PASSWORD + "x")
    main.get_by_role("button", name="Change Password").click()
    again = main.get_by_label("New Password (again)", exact=True)
    expect(again).to_have_attribute("aria-invalid", "true")
    expect(again).to_have_accessible_description(re.compile("the same password"))
    assert_accessible(page)
    main.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    again.fill(NEW_PASSWORD)
    main.get_by_role("button", name="Change Password").click()

    expect(heading(page)).to_have_text("Change Password")
    expect(main).to_contain_text("Your password is now changed.")
    assert_accessible(page)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)

    page.goto("/accounts/login/")
    assert_accessible(page)
    main.get_by_label("Email", exact=True).fill(member.email)
    main.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    main.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("banner").get_by_role("link", name="My account")).to_be_visible()
    assert_accessible(page)


def test_member_changes_their_password(page, sign_in):
    member = UserFactory(display_name="Carlo")
    sign_in(member)
    main = page.get_by_role("main")

    page.goto("/account/")
    assert_accessible(page)
    main.get_by_role("link", name="Change password").click()

    expect(heading(page)).to_have_text("Change Password")
    assert_accessible(page)
    main.get_by_label("Current Password", exact=True).fill("not-my-password")
    main.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    main.get_by_label("New Password (again)", exact=True).fill(NEW_PASSWORD)
    main.get_by_role("button", name="Change Password").click()
    current = main.get_by_label("Current Password", exact=True)
    expect(current).to_have_attribute("aria-invalid", "true")
    expect(current).to_have_accessible_description(re.compile("current password"))
    assert_accessible(page)
    current.fill(DEFAULT_PASSWORD)
    main.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    main.get_by_label("New Password (again)", exact=True).fill(NEW_PASSWORD)
    main.get_by_role("button", name="Change Password").click()

    expect(page.get_by_role("status")).to_contain_text("Password successfully changed.")
    assert_accessible(page)
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


# --- A refused form keeps what was typed ----------------------------------------------


def test_refused_guests_and_note_stay_on_the_attendance_page(page, sign_in):
    group = SupportGroupFactory(name="Harbour Lights")
    facilitator = UserFactory(display_name="Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    meeting = MeetingFactory(group=group, starts_at=timezone.now() - timedelta(hours=1))
    sign_in(facilitator)
    main = page.get_by_role("main")

    page.goto(f"/meetings/{meeting.pk}/attendance/")
    expect(heading(page)).to_have_text("Attendance")
    assert_accessible(page)
    details = main.get_by_role("region", name="Guests and note")
    details.get_by_label("Walk-in guests (not members)").fill("-1")
    details.get_by_label("Private note for the facilitators").fill("Two came from the clinic")
    details.get_by_role("button", name="Save guests and note").click()

    guests = main.get_by_role("region", name="Guests and note").get_by_label(
        "Walk-in guests (not members)"
    )
    expect(guests).to_have_attribute("aria-invalid", "true")
    expect(guests).to_have_accessible_description(
        re.compile("Ensure this value is greater than or equal to 0.")
    )
    expect(guests).to_have_value("-1")
    expect(main.get_by_label("Private note for the facilitators")).to_have_value(
        "Two came from the clinic"
    )
    assert_accessible(page)
    meeting.refresh_from_db()
    assert (meeting.guest_count, meeting.facilitator_note) == (0, "")
