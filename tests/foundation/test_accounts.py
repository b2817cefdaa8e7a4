"""Signing up, verifying the address, signing in and out, resetting a password."""

import pytest
from allauth.account import app_settings as account_settings
from allauth.account.models import EmailAddress
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from django.urls import reverse

from members.models import User
from tests.auth import log_in
from tests.factories import SupportGroupFactory, UserFactory
from tests.foundation.helpers import link_path_in, sign_in, signed_in_user_id

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-77"
MISMATCH = "The email address and/or password you specified are not correct."


def signup_data(**overrides) -> dict:
    data = {
        "email": "newcomer@example.org",
        "password1": "quiet-river-stones-19",
        "password2": "quiet-river-stones-19",
        "display_name": "Nina",
        "time_zone": "America/New_York",
        "language": "it",
        "accept_terms": "on",
    }
    data.update(overrides)
    return data


def test_signup_then_email_link_then_login_then_logout(client, mailoutbox):
    response = client.post(reverse("account_signup"), signup_data())

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    person = User.objects.get(email="newcomer@example.org")
    assert signed_in_user_id(client) is None
    assert not EmailAddress.objects.get(user=person).verified
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newcomer@example.org"]
    confirm_path = link_path_in(mailoutbox[0], "/accounts/confirm-email/")

    # Opening the link only shows a button (mail scanners follow links); POST confirms.
    assert client.get(confirm_path).status_code == 200
    assert not EmailAddress.objects.get(user=person).verified
    response = client.post(confirm_path)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=person).verified
    # Confirmed in the browser that signed up: signed in straight away.
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(person.pk)

    client.post(reverse("account_logout"))
    response = sign_in(client, "newcomer@example.org", "quiet-river-stones-19")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(person.pk)

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


def test_signup_stores_display_name_time_zone_and_language(client):
    client.post(
        reverse("account_signup"),
        signup_data(display_name="  Nina  ", time_zone="Asia/Tokyo", language="it"),
    )

    person = User.objects.get(email="newcomer@example.org")
    assert (person.display_name, person.time_zone, person.language) == (
        "Nina",
        "Asia/Tokyo",
        "it",
    )


def test_signup_with_an_unknown_time_zone_creates_no_account(client, mailoutbox):
    response = client.post(reverse("account_signup"), signup_data(time_zone="Mars/Olympus"))

    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    assert not User.objects.filter(email="newcomer@example.org").exists()
    assert mailoutbox == []


def test_unverified_person_is_sent_to_the_verification_page_not_signed_in(
    client, password, mailoutbox
):
    person = UserFactory(verified=False)
    EmailAddress.objects.create(user=person, email=person.email, verified=False, primary=True)

    response = sign_in(client, person.email, password)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user_id(client) is None
    assert client.get(reverse("members:account")).status_code == 302


def test_password_reset_by_email_replaces_the_old_password(client, user, password, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": user.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]
    key_path = link_path_in(mailoutbox[0], "/accounts/password/reset/key/")

    # The link moves the key from the URL into the session, then shows the form.
    response = client.get(key_path)
    assert response.status_code == 302
    set_password_path = response["Location"]
    assert client.get(set_password_path).status_code == 200
    response = client.post(
        set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_reset_password_from_key_done")

    response = sign_in(client, user.email, password)
    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    response = sign_in(client, user.email, NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_password_reset_link_works_only_once(client, user, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": user.email})
    key_path = link_path_in(mailoutbox[0], "/accounts/password/reset/key/")
    set_password_path = client.get(key_path)["Location"]
    client.post(set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    response = Client().get(key_path)

    assert response.status_code == 200  # no redirect to the set-password form
    assert response.context["token_fail"]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_wrong_password_and_unknown_email_get_the_same_error(client, user):
    wrong_password = sign_in(client, user.email, "not-my-password-1")
    unknown_email = sign_in(client, "nobody-here@example.org", "not-my-password-1")

    assert wrong_password.status_code == unknown_email.status_code == 200
    assert wrong_password.context["form"].errors == unknown_email.context["form"].errors
    assert wrong_password.context["form"].non_field_errors() == [MISMATCH]
    assert MISMATCH in unknown_email.content.decode()


def test_five_failed_logins_lock_the_account_even_against_the_right_password(
    client, user, password
):
    for _attempt in range(5):
        sign_in(client, user.email, "guessing-wrong-0")

    response = sign_in(client, user.email, password)

    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_login_is_answered_429_once_an_address_posts_too_often(client, user, password):
    # The counters must live in the cache every web process shares, not in memory.
    assert isinstance(caches["default"], RedisCache)
    limit = int(account_settings.RATE_LIMITS["login"].split("/")[0])
    for attempt in range(limit):
        response = sign_in(client, f"guess{attempt}@example.org", "wrong-password-0")
        assert response.status_code == 200

    response = sign_in(client, user.email, password)

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()  # templates/429.html
    assert signed_in_user_id(client) is None
    # A fresh browser from the same address is refused too: the count is server-side.
    assert sign_in(Client(), user.email, password).status_code == 429


def test_password_reset_answers_the_same_for_unknown_addresses(client, user, mailoutbox):
    known = client.post(reverse("account_reset_password"), {"email": user.email})
    unknown = client.post(reverse("account_reset_password"), {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    to_unknown = next(m for m in mailoutbox if m.to == ["nobody@example.org"])
    assert "/accounts/password/reset/key/" not in to_unknown.body


def test_signing_up_with_a_taken_email_looks_the_same_and_creates_no_account(
    client, user, mailoutbox
):
    response = client.post(reverse("account_signup"), signup_data(email=user.email))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert User.objects.filter(email=user.email).count() == 1
    assert User.objects.get(email=user.email).display_name == user.display_name
    assert "/accounts/confirm-email/" not in "".join(m.body for m in mailoutbox)


def test_signing_up_from_a_group_page_comes_back_to_the_group_signed_in(client, mailoutbox):
    group = SupportGroupFactory(slug="type-1-together")
    client.post(
        reverse("account_signup") + f"?next={group.get_absolute_url()}",
        signup_data(next=group.get_absolute_url()),
    )
    response = client.post(link_path_in(mailoutbox[0], "/accounts/confirm-email/"))

    assert response["Location"] == group.get_absolute_url()
    assert signed_in_user_id(client) == str(User.objects.get(email="newcomer@example.org").pk)


def test_a_confirmation_link_opened_in_another_browser_does_not_sign_anyone_in(client, mailoutbox):
    client.post(reverse("account_signup"), signup_data())
    elsewhere = Client()
    response = elsewhere.post(link_path_in(mailoutbox[0], "/accounts/confirm-email/"))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    assert EmailAddress.objects.get(email="newcomer@example.org").verified
    assert elsewhere.session.get("_auth_user_id") is None


def test_logout_needs_a_post_so_a_link_cannot_sign_people_out(client, user):
    log_in(client, user)

    assert client.get(reverse("account_logout")).status_code == 200

    assert signed_in_user_id(client) == str(user.pk)
