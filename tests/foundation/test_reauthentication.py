"""A signed-in session alone is not the account: sensitive changes ask who it is again.

Changing the sign-in email, the password or the second factor, and downloading all of
one's data, ask for the password again (or say so in the form itself, for the password);
every change of email, password or second factor is told to the account's address, the
old one for an email change, even to someone who opted out of every other email.
"""

import json
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from members.models import ConsentKind, NotificationPreferences, User
from members.services import consent_record
from tests.auth import log_in
from tests.factories import UserFactory
from tests.foundation.helpers import link_path_in
from tests.groups.conftest import enable_mfa

pytestmark = pytest.mark.django_db

OLD_EMAIL = "ada.old@example.net"
NEW_EMAIL = "ada.new@example.org"
NEW_PASSWORD = "seven-herons-over-the-lagoon-31"
PREFIX = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX

# What allauth's notices say, in each language (allauth's own catalogues).
NOTICES = {
    "en": {
        "email_subject": "Email Changed",
        "email_body": f"Your email has been changed from {OLD_EMAIL} to {NEW_EMAIL}.",
        "password_subject": "Password Changed",
        "password_body": "Your password has been changed.",
        "totp_subject": "Authenticator App Deactivated",
        "totp_body": "Authenticator app deactivated.",
        "why": "You are receiving this mail because the following change was made",
    },
    "it": {
        "email_subject": "Email modificata",
        "email_body": f"La tua email è stata cambiata da {OLD_EMAIL} a {NEW_EMAIL}.",
        "password_subject": "Password cambiata",
        "password_body": "La tua password è stata cambiata.",
        "totp_subject": "Applicazione di autenticazione disattivata",
        "totp_body": "Applicazione di autenticazione disattivata.",
        "why": "Stai ricevendo questa email perché è stata apportata la seguente modifica",
    },
}


def reauthenticate_url_for(path: str) -> str:
    return f"{reverse('account_reauthenticate')}?next={path.replace('/', '%2F')}"


def reauthenticate(client, response, password: str):
    """Follow a redirect to the re-authentication page and enter the password there."""
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    return client.post(response["Location"], {"password": password})


def opted_out_of_everything(user) -> None:
    consent_record(user=user, kind=ConsentKind.EMAIL_CONTACT, given=False)
    NotificationPreferences.objects.create(
        user=user,
        reminder_day_before=False,
        meeting_changed=False,
        waitlist_promoted=False,
        request_decided=False,
        join_request=False,
        facilitator_digest=False,
        member_erased=False,
    )


def mail_to(mailoutbox, address: str) -> list:
    return [message for message in mailoutbox if message.to == [address]]


# --- The sign-in email ------------------------------------------------------------------


def test_email_change_without_recent_reauthentication_asks_for_it_and_changes_nothing(
    client, mailoutbox
):
    person = UserFactory(email=OLD_EMAIL)
    log_in(client, person)  # a session, perhaps a stolen one, and nothing more

    response = client.post(reverse("account_email"), {"email": NEW_EMAIL, "action_add": ""})

    assert response.status_code == 302
    assert response["Location"] == reauthenticate_url_for(reverse("account_email"))
    assert list(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == [
        OLD_EMAIL
    ]
    assert User.objects.get(pk=person.pk).email == OLD_EMAIL
    assert mailoutbox == []


def test_a_wrong_password_on_the_reauthentication_page_changes_nothing(client, mailoutbox):
    person = UserFactory(email=OLD_EMAIL)
    log_in(client, person)
    response = client.post(reverse("account_email"), {"email": NEW_EMAIL, "action_add": ""})

    response = reauthenticate(client, response, "not-the-password")

    assert response.status_code == 200  # the form again, with its error
    assert not EmailAddress.objects.filter(email=NEW_EMAIL).exists()
    assert mailoutbox == []


@pytest.mark.parametrize("language", ["en", "it"])
def test_email_change_after_reauthenticating_works_and_the_old_address_is_told(
    client, password, mailoutbox, language
):
    person = UserFactory(email=OLD_EMAIL, language=language)
    opted_out_of_everything(person)  # security notices go all the same
    log_in(client, person)
    response = client.post(reverse("account_email"), {"email": NEW_EMAIL, "action_add": ""})

    # Entering the password again carries out the change that was asked for.
    response = reauthenticate(client, response, password)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email")
    assert EmailAddress.objects.filter(user=person, email=NEW_EMAIL, verified=False).exists()
    (confirmation,) = mail_to(mailoutbox, NEW_EMAIL)
    assert mail_to(mailoutbox, OLD_EMAIL) == []  # nothing has changed yet
    mailoutbox.clear()

    response = client.post(link_path_in(confirmation, "/accounts/confirm-email/"))

    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).email == NEW_EMAIL
    assert list(EmailAddress.objects.filter(user=person).values_list("email", flat=True)) == [
        NEW_EMAIL
    ]
    (notice,) = mail_to(mailoutbox, OLD_EMAIL)
    words = NOTICES[language]
    assert notice.subject == PREFIX + words["email_subject"]
    assert words["email_body"] in notice.body
    assert words["why"] in notice.body


def test_removing_an_address_asks_for_reauthentication_too(client):
    person = UserFactory(email=OLD_EMAIL)
    EmailAddress.objects.create(user=person, email=NEW_EMAIL, verified=True, primary=False)
    log_in(client, person)

    response = client.post(reverse("account_email"), {"email": NEW_EMAIL, "action_remove": ""})

    assert response["Location"] == reauthenticate_url_for(reverse("account_email"))
    assert EmailAddress.objects.filter(user=person, email=NEW_EMAIL).exists()


# --- The password -----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "it"])
def test_password_change_asks_for_the_current_password_and_tells_the_address(
    client, password, mailoutbox, language
):
    person = UserFactory(email=OLD_EMAIL, language=language)
    opted_out_of_everything(person)
    log_in(client, person)
    change = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    response = client.post(
        reverse("account_change_password"), {"oldpassword": "not-the-password", **change}
    )
    assert response.status_code == 200
    assert User.objects.get(pk=person.pk).check_password(password)
    assert mailoutbox == []

    response = client.post(reverse("account_change_password"), {"oldpassword": password, **change})

    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).check_password(NEW_PASSWORD)
    (notice,) = mail_to(mailoutbox, OLD_EMAIL)
    words = NOTICES[language]
    assert notice.subject == PREFIX + words["password_subject"]
    assert words["password_body"] in notice.body
    assert words["why"] in notice.body


# --- The second factor ------------------------------------------------------------------


def test_turning_off_the_authenticator_asks_for_reauthentication_first(client, mailoutbox):
    person = UserFactory(email=OLD_EMAIL)
    enable_mfa(person)
    log_in(client, person)  # password and authenticator at sign-in, a while ago

    response = client.post(reverse("mfa_deactivate_totp"))

    assert response["Location"] == reauthenticate_url_for(reverse("mfa_deactivate_totp"))
    assert Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()
    assert mailoutbox == []


@pytest.mark.parametrize("language", ["en", "it"])
def test_turning_off_the_authenticator_after_reauthenticating_tells_the_address(
    client, password, mailoutbox, language
):
    person = UserFactory(email=OLD_EMAIL, language=language)
    opted_out_of_everything(person)
    enable_mfa(person)
    log_in(client, person)
    response = client.post(reverse("mfa_deactivate_totp"))

    response = reauthenticate(client, response, password)

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()
    (notice,) = mail_to(mailoutbox, OLD_EMAIL)
    words = NOTICES[language]
    assert notice.subject == PREFIX + words["totp_subject"]
    assert words["totp_body"] in notice.body


# --- The data export --------------------------------------------------------------------


def test_export_asks_for_reauthentication_first_then_downloads(client, password):
    person = UserFactory(email=OLD_EMAIL)
    log_in(client, person)
    export_url = reverse("members:export")

    response = client.get(export_url)

    assert response.status_code == 302
    assert response["Location"] == reauthenticate_url_for(export_url)
    assert OLD_EMAIL not in response.content.decode()

    response = reauthenticate(client, response, password)
    assert response.status_code == 302
    assert response["Location"] == export_url

    response = client.get(export_url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert json.loads(response.content)["profile"]["email"] == OLD_EMAIL


def test_reauthentication_expires_after_allauths_timeout(client, password):
    person = UserFactory(email=OLD_EMAIL)
    export_url = reverse("members:export")
    timeout = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        log_in(client, person)
        reauthenticate(client, client.get(export_url), password)

        clock.shift(timedelta(seconds=timeout - 1))
        assert client.get(export_url).status_code == 200

        clock.shift(timedelta(seconds=2))
        response = client.get(export_url)
        assert response.status_code == 302
        assert response["Location"] == reauthenticate_url_for(export_url)

        reauthenticate(client, response, password)
        assert client.get(export_url).status_code == 200
