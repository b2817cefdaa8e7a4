"""Setting up two-factor authentication on a phone, straight after signing in.

The activation page offers the secret three ways (QR code, an otpauth:// link that opens
the authenticator app on the same phone, the key itself with a Copy button); a staff
page's `next` is kept through the activation and the recovery codes, so "Continue" goes
back there; and a fresh sign-in is not asked for the password again to turn the app on,
while everything else about the second factor still asks.
"""

import re
from datetime import timedelta
from html import unescape
from urllib.parse import quote, urlencode

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from groups.models import Role
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.foundation.helpers import totp_code
from tests.groups.conftest import ROLES, assert_no_private_data, cast, enable_mfa  # noqa: F401

pytestmark = pytest.mark.django_db

ACTIVATE = reverse("mfa_activate_totp")
CODES = reverse("mfa_view_recovery_codes")
TIMEOUT = settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}"


def hrefs(response) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]*)"', response.content.decode())]


def activate(client, *, next_url: str | None = None):
    """Open the activation page (with `next`), enter the app's code; returns the answer."""
    url = with_next(ACTIVATE, next_url) if next_url else ACTIVATE
    assert client.get(url).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    data = {"code": totp_code(secret)}
    if next_url:
        data["next"] = next_url
    return client.post(url, data)


@pytest.fixture
def facilitator():
    """Facilitates a group, has no authenticator yet, and has just signed in."""
    person = UserFactory()
    group = SupportGroupFactory()
    MembershipFactory(group=group, user=person, role=Role.FACILITATOR)
    person.managed_group = group
    return person


# --- The activation page ----------------------------------------------------------------


def test_activation_page_offers_the_secret_as_link_qr_code_and_copyable_key(client):
    person = UserFactory(email="tina@example.net")
    log_in(client, person)

    response = client.get(ACTIVATE)

    assert response.status_code == 200
    body = response.content.decode()
    secret = client.session[SECRET_SESSION_KEY]
    (link,) = [href for href in hrefs(response) if href.startswith("otpauth://")]
    assert link.startswith("otpauth://totp/")
    assert f"secret={secret}" in link
    assert f"issuer={quote(settings.MFA_TOTP_ISSUER)}" in link
    assert "Open in your authenticator app" in body
    assert re.search(
        rf'<input[^>]*id="authenticator_secret"[^>]*value="{secret}"[^>]*readonly', body
    )
    assert re.search(r'<button[^>]*data-copy-from="authenticator_secret"[^>]*hidden', body)
    assert re.search(r'id="authenticator_secret-status"[^>]*role="status"', body)
    assert 'src="data:image/svg+xml;base64,' in body
    assert "/static/js/copy.js" in body


def test_a_fresh_sign_in_turns_the_app_on_without_the_password_again(client):
    person = UserFactory()
    log_in(client, person)

    response = activate(client)

    assert response.status_code == 302
    assert response["Location"] == CODES
    assert Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()
    codes = client.get(CODES)
    assert codes.status_code == 200  # just set up: the codes without the password either
    assert len(codes.context["unused_codes"]) == 10


def test_a_sign_in_older_than_the_timeout_asks_for_the_password_first(client):
    person = UserFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        log_in(client, person)
        clock.shift(timedelta(seconds=TIMEOUT + 1))

        response = client.get(ACTIVATE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_session_with_no_sign_in_step_asks_for_the_password_first(client):
    client.force_login(UserFactory())  # a session, and no record of how it signed in

    response = client.get(ACTIVATE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_recovery_codes_ask_for_the_password_once_the_set_up_is_no_longer_recent(client):
    person = UserFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        log_in(client, person)
        activate(client)
        clock.shift(timedelta(seconds=TIMEOUT + 1))

        response = client.get(CODES)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_new_codes_and_turning_the_app_off_still_ask_for_the_password(client):
    person = UserFactory()
    log_in(client, person)
    activate(client)

    for name in ("mfa_generate_recovery_codes", "mfa_deactivate_totp"):
        response = client.post(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("account_reauthenticate")), name
    assert Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists()


# --- Back to where they were going ------------------------------------------------------


def test_the_staff_page_that_asked_is_where_continue_leads(client, facilitator):
    manage = reverse("groups:manage", args=[facilitator.managed_group.slug])
    log_in(client, facilitator)

    response = client.get(manage)
    assert response["Location"] == with_next(ACTIVATE, manage)
    page = client.get(response["Location"])
    assert f'<input type="hidden" name="next" value="{manage}">' in page.content.decode()

    response = activate(client, next_url=manage)

    assert response["Location"] == with_next(CODES, manage)
    codes = client.get(response["Location"])
    assert codes.status_code == 200
    body = codes.content.decode()
    assert "Each code works once." in body
    assert re.search(rf'<a class="button" href="{re.escape(manage)}">Continue</a>', body)
    # That the set-up itself passes the second factor (allauth's signal, after the commit)
    # the browser journey shows: tests/browser/test_mfa_and_language_journey.py.


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/steal", "//evil.example/", "javascript:alert(1)"]
)
def test_an_address_off_this_site_is_never_followed(client, unsafe):
    person = UserFactory()
    log_in(client, person)

    page = client.get(with_next(ACTIVATE, unsafe))
    activation_form = page.content.decode().split(f'action="{ACTIVATE}"')[1].split("</form>")[0]
    assert 'name="next"' not in activation_form
    response = activate(client, next_url=unsafe)

    assert response["Location"] == CODES
    codes = client.get(with_next(CODES, unsafe))
    assert not [href for href in hrefs(codes) if "evil" in href or "javascript" in href]
    assert re.search(
        rf'<a class="button" href="{reverse("members:account")}">Continue</a>',
        codes.content.decode(),
    )


def test_with_codes_kept_from_before_activation_goes_straight_back(client, facilitator):
    manage = reverse("groups:manage", args=[facilitator.managed_group.slug])
    Authenticator.objects.create(
        user=facilitator, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "00" * 20}
    )
    log_in(client, facilitator)

    response = activate(client, next_url=manage)

    assert response["Location"] == manage


# --- Who reaches the page ----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_activation_page_by_role(client, cast, role):  # noqa: F811
    """Anyone signed in sets up their own app; staff already have one (the cast enables
    it), so allauth sends them to turning it off instead. Nobody sees anyone else."""
    person = cast.login(client, role)

    response = client.get(ACTIVATE)

    if person is None:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif Authenticator.objects.filter(user=person, type=Authenticator.Type.TOTP).exists():
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_deactivate_totp")
    else:
        assert response.status_code == 200
        assert quote(person.email) in response.content.decode()  # their own otpauth label
    if role != "member":
        assert_no_private_data(response.content.decode())
