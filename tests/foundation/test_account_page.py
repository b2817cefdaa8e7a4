"""The person's own account page: who can see it, what it shows, what it saves."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from members.models import User
from tests.auth import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACCOUNT_URL = "/account/"


def profile(person: User) -> tuple[str, str, str, str]:
    person = User.objects.get(pk=person.pk)
    return (person.display_name, person.full_name, person.time_zone, person.language)


def test_account_page_lives_at_slash_account():
    assert reverse("members:account") == ACCOUNT_URL


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitor_is_sent_to_login_and_back(client, method):
    response = getattr(client, method)(ACCOUNT_URL)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={ACCOUNT_URL}"


def test_signed_in_person_sees_their_own_email_and_nobody_elses(client):
    me = UserFactory(email="me@example.org", full_name="Maria Rossi")
    someone = UserFactory(email="someone-else@example.org", full_name="Giorgio Bianchi")
    log_in(client, me)

    response = client.get(ACCOUNT_URL)

    body = response.content.decode()
    assert response.status_code == 200
    assert "me@example.org" in body
    assert "Maria Rossi" in body
    assert someone.email not in body
    assert someone.full_name not in body
    assert someone.display_name not in body


def test_saving_the_profile_updates_name_time_zone_and_language(client, user):
    log_in(client, user)

    response = client.post(
        ACCOUNT_URL,
        {
            "display_name": "  Sam  ",
            "full_name": "Samantha Verdi",
            "time_zone": "America/New_York",
            "language": "it",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == ACCOUNT_URL
    assert profile(user) == ("Sam", "Samantha Verdi", "America/New_York", "it")
    page = client.get(ACCOUNT_URL).content.decode()
    assert '<html lang="it">' in page  # the new language applies on the next page
    assert 'value="America/New_York" selected' in page


@pytest.mark.parametrize(
    ("field", "bad_value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", ""),
        ("language", "xx"),
        ("display_name", ""),
    ],
)
def test_invalid_profile_input_shows_an_error_and_saves_nothing(client, user, field, bad_value):
    log_in(client, user)
    before = profile(user)
    data = {
        "display_name": "Renamed",
        "full_name": "Someone New",
        "time_zone": "Asia/Tokyo",
        "language": "it",
        field: bad_value,
    }

    response = client.post(ACCOUNT_URL, data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert profile(user) == before


def test_account_page_shows_whether_two_factor_is_on(client, user):
    log_in(client, user)
    assert client.get(ACCOUNT_URL).context["mfa_enabled"] is False

    TOTP.activate(user, generate_totp_secret())

    assert client.get(ACCOUNT_URL).context["mfa_enabled"] is True
