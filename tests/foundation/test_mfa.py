"""Two-factor sign-in with an authenticator app and recovery codes, and mfa_required."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from tests.auth import log_in
from tests.factories import UserFactory
from tests.foundation.helpers import other_code, sign_in, signed_in_user_id, totp_code
from tests.foundation.mfa_probe_urls import PROBE_BODY

pytestmark = pytest.mark.django_db


def open_totp_activation(client, password: str):
    """Open the activation page; just after signing in, without the password again
    (tests/members/test_mfa_setup.py covers a sign-in that is no longer recent)."""
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    return response


def activate_totp(client, password: str) -> str:
    """Turn on the authenticator app from the account pages; returns the shared secret."""
    response = open_totp_activation(client, password)
    secret = client.session[SECRET_SESSION_KEY]  # kept server-side until confirmed
    assert secret in response.content.decode()  # shown for manual entry in the app
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    return secret


@pytest.fixture
def signed_in_client(client, user, password):
    assert sign_in(client, user.email, password).status_code == 302
    return client


def test_activation_refuses_a_wrong_code_and_stores_nothing(signed_in_client, user, password):
    open_totp_activation(signed_in_client, password)
    secret = signed_in_client.session[SECRET_SESSION_KEY]

    response = signed_in_client.post(
        reverse("mfa_activate_totp"), {"code": other_code(totp_code(secret))}
    )

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert not Authenticator.objects.filter(user=user).exists()


def test_after_activating_totp_login_asks_for_the_code_and_checks_it(
    signed_in_client, user, password
):
    client = signed_in_client
    secret = activate_totp(client, password)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    client.post(reverse("account_logout"))

    response = sign_in(client, user.email, password)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None  # the password alone is not enough

    response = client.post(reverse("mfa_authenticate"), {"code": other_code(totp_code(secret))})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert signed_in_user_id(client) is None

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user_id(client) == str(user.pk)


def test_a_recovery_code_signs_in_once_and_never_again(signed_in_client, user, password):
    client = signed_in_client
    activate_totp(client, password)
    response = client.get(reverse("mfa_view_recovery_codes"))
    codes = response.context["unused_codes"]
    assert len(codes) == 10
    assert all(code in response.content.decode() for code in codes)
    client.post(reverse("account_logout"))

    sign_in(client, user.email, password)
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)
    client.post(reverse("account_logout"))

    sign_in(client, user.email, password)
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert signed_in_user_id(client) is None


def test_a_totp_code_cannot_be_replayed_for_a_second_login(signed_in_client, user, password):
    client = signed_in_client
    secret = activate_totp(client, password)
    client.post(reverse("account_logout"))
    code = totp_code(secret)
    sign_in(client, user.email, password)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    client.post(reverse("account_logout"))

    sign_in(client, user.email, password)
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def _client_for(role, client):
    if role == "anonymous":
        return client
    person = UserFactory()
    if role in ("password_only", "with_mfa"):
        TOTP.activate(person, generate_totp_secret())
    if role == "with_mfa":
        log_in(client, person)
    else:
        client.force_login(person)  # the password step only
    return client


@pytest.mark.urls("tests.foundation.mfa_probe_urls")
@pytest.mark.parametrize(
    ("role", "status", "goes_to"),
    [
        ("anonymous", 302, "account_login"),
        ("without_mfa", 302, "mfa_activate_totp"),
        ("password_only", 302, "mfa_reauthenticate"),
        ("with_mfa", 200, None),
    ],
)
def test_staff_pages_open_only_to_sessions_that_passed_the_second_factor(
    client, role, status, goes_to
):
    response = _client_for(role, client).get("/probe/staff/")

    assert response.status_code == status
    if goes_to:
        assert response["Location"].split("?")[0] == reverse(goes_to)
        assert PROBE_BODY not in response.content.decode()
    else:
        assert response.content.decode() == PROBE_BODY


@pytest.mark.urls("tests.foundation.mfa_probe_urls")
def test_mfa_required_sends_anonymous_visitors_back_to_the_page_after_login(client):
    response = client.get("/probe/staff/")

    assert response["Location"] == f"{reverse('account_login')}?next=/probe/staff/"


@pytest.mark.urls("tests.foundation.mfa_probe_urls")
def test_a_session_older_than_the_authenticator_must_enter_a_code_first(client, user, password):
    assert sign_in(client, user.email, password).status_code == 302
    secret = generate_totp_secret()
    TOTP.activate(user, secret)  # added later, for instance from another browser

    response = client.get("/probe/staff/")
    assert response.status_code == 302
    reauthenticate = response["Location"]
    assert reauthenticate == f"{reverse('mfa_reauthenticate')}?next=%2Fprobe%2Fstaff%2F"
    assert client.post(reauthenticate, {"code": other_code(totp_code(secret))}).status_code == 200
    assert client.get("/probe/staff/").status_code == 302  # a wrong code opened nothing

    response = client.post(reauthenticate, {"code": totp_code(secret)})

    assert response.status_code == 302
    assert response["Location"] == "/probe/staff/"
    assert client.get("/probe/staff/").content.decode() == PROBE_BODY


@pytest.mark.urls("tests.foundation.mfa_probe_urls")
@pytest.mark.django_db(transaction=True)  # allauth announces the authenticator on commit
def test_setting_up_the_authenticator_opens_staff_pages_in_that_session_only(
    client, user, password
):
    other_browser = Client()
    assert sign_in(other_browser, user.email, password).status_code == 302
    assert sign_in(client, user.email, password).status_code == 302

    activate_totp(client, password)

    assert client.get("/probe/staff/").content.decode() == PROBE_BODY
    response = other_browser.get("/probe/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


@pytest.mark.urls("tests.foundation.mfa_probe_urls")
def test_a_recovery_code_passes_the_second_factor_once(client, user, password):
    assert sign_in(client, user.email, password).status_code == 302
    activate_totp(client, password)
    codes = client.get(reverse("mfa_view_recovery_codes")).context["unused_codes"]
    later = Client()
    assert sign_in(later, user.email, password).status_code == 302
    # The sign-in stopped at the code step; a recovery code completes it.
    assert later.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    assert later.get("/probe/staff/").content.decode() == PROBE_BODY

    again = Client()
    sign_in(again, user.email, password)
    response = again.post(reverse("mfa_authenticate"), {"code": codes[0]})

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert again.get("/probe/staff/").status_code == 302


def _admin_person(*, staff: bool, mfa: bool):
    person = UserFactory(is_staff=staff)
    if mfa:
        TOTP.activate(person, generate_totp_secret())
    return person


def test_the_admin_login_form_is_never_used_signing_in_goes_through_allauth(client, password):
    person = _admin_person(staff=True, mfa=True)

    shown = client.get(reverse("admin:login"))
    posted = client.post(reverse("admin:login"), {"username": person.email, "password": password})

    for response in (shown, posted):
        assert response.status_code == 302
        assert response["Location"].split("?")[0] == reverse("account_login")
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize(
    ("who", "status", "goes_to"),
    [
        ("member", 403, None),
        ("staff_without_mfa", 302, "mfa_activate_totp"),
        ("staff_password_only", 302, "mfa_reauthenticate"),
        ("staff_with_second_factor", 200, None),
    ],
)
def test_the_admin_opens_only_to_staff_whose_session_passed_the_second_factor(
    client, who, status, goes_to
):
    person = _admin_person(staff=who != "member", mfa=who not in ("staff_without_mfa",))
    if who == "staff_with_second_factor":
        log_in(client, person)
    else:
        client.force_login(person)

    response = client.get(reverse("admin:index"), follow=True)

    visited = [url.split("?")[0] for url, _status in response.redirect_chain]
    assert response.status_code == (200 if status == 302 else status)
    if goes_to:
        assert visited[:2] == [reverse("admin:login"), reverse(goes_to)]
    if status == 200:
        assert visited == []
        assert "Site administration" in response.content.decode()
    else:
        assert "Site administration" not in response.content.decode()
