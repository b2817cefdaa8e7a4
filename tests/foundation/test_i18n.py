"""Pages in Italian for people who ask for it, by cookie, browser or profile."""

import pytest
from django.conf import settings
from django.urls import reverse

from members.models import User
from tests.auth import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOME_TITLE_IT = "Non devi affrontarlo da solo"
HOME_TITLE_EN = "You don't have to face it alone"


def test_language_cookie_it_renders_the_home_page_in_italian(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"

    response = client.get("/")

    assert response.status_code == 200
    assert '<html lang="it">' in response.content.decode()
    assert HOME_TITLE_IT in response.content.decode()


def test_without_a_preference_the_home_page_is_in_english(client):
    response = client.get("/")

    assert '<html lang="en">' in response.content.decode()
    assert HOME_TITLE_EN in response.content.decode()


@pytest.mark.parametrize(
    ("how", "expected", "not_expected"),
    [
        ("cookie", "Accedi", "Sign In"),
        ("header", "Accedi", "Sign In"),
        ("nothing", "Sign In", "Accedi"),
    ],
)
def test_login_page_follows_the_visitors_language(client, how, expected, not_expected):
    headers = {}
    if how == "cookie":
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "it"
    elif how == "header":
        headers["Accept-Language"] = "it-IT,it;q=0.9"

    response = client.get(reverse("account_login"), headers=headers)

    body = response.content.decode()
    assert expected in body
    assert not_expected not in body


@pytest.mark.parametrize(
    ("profile_language", "cookie", "expected_lang", "expected_text"),
    [
        ("it", "en", "it", "Cambia la tua Password"),
        ("en", "it", "en", "Change Password"),
    ],
)
def test_signed_in_person_sees_their_profile_language_whatever_the_cookie(
    client, profile_language, cookie, expected_lang, expected_text
):
    log_in(client, UserFactory(language=profile_language))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie

    response = client.get(reverse("account_change_password"))

    assert response.status_code == 200
    assert f'<html lang="{expected_lang}">' in response.content.decode()
    assert expected_text in response.content.decode()
    assert response["Content-Language"] == expected_lang


def test_switching_language_saves_it_on_the_profile_and_in_a_cookie(client, user):
    log_in(client, user)

    response = client.post(
        reverse("members:switch_language"), {"language": "it", "next": "/groups/?q=diabete"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/groups/?q=diabete"
    assert User.objects.get(pk=user.pk).language == "it"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "it"
    assert '<html lang="it">' in client.get(reverse("account_change_password")).content.decode()


def test_switching_language_as_a_visitor_sets_only_the_cookie(client):
    response = client.post(reverse("members:switch_language"), {"language": "it", "next": "/"})

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "it"
    assert "Accedi" in client.get(reverse("account_login")).content.decode()


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example.com/phish", "//evil.example.com/phish", "http://testserver.evil.com/"],
)
def test_switching_language_never_redirects_off_site(client, user, next_url):
    log_in(client, user)

    response = client.post(reverse("members:switch_language"), {"language": "it", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert User.objects.get(pk=user.pk).language == "it"


def test_switching_to_an_unsupported_language_changes_nothing(client, user):
    log_in(client, user)

    response = client.post(reverse("members:switch_language"), {"language": "xx", "next": "/"})

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).language == "en"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_switching_language_only_accepts_post(client):
    assert client.get(reverse("members:switch_language")).status_code == 405
