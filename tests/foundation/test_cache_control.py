"""Signed-in pages stay out of browser and proxy caches; public pages are left alone.

Every response to a signed-in person says `Cache-Control: private, no-store` (and
`Vary: Cookie`) unless its view chose its own caching: the private calendar feed keeps
`private, max-age=900`, the public feeds keep `public`.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_max_age

from groups.models import Role
from members.services import coordinator_grant
from sessions import services as meeting_services
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.foundation.helpers import sign_in
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db

NO_STORE = "private, no-store"


@pytest.fixture
def scene(db):
    group = SupportGroupFactory(name="Harbour Lights", slug="harbour-lights")
    facilitator = UserFactory(display_name="Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    member = UserFactory(display_name="Marta")
    MembershipFactory(group=group, user=member)
    coordinator = UserFactory(display_name="Cora")
    coordinator_grant(user=coordinator)
    for staff in (facilitator, coordinator):
        enable_mfa(staff)
    held = MeetingFactory(group=group, starts_at=timezone.now() - timedelta(hours=2))
    coming = MeetingFactory(group=group)
    return {
        "group": group,
        "people": {"member": member, "facilitator": facilitator, "coordinator": coordinator},
        "held": held,
        "coming": coming,
    }


def cache_directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part}


# Who opens which page: every one of them shows personal data.
SIGNED_IN_PAGES = [
    ("member", "account", lambda s: reverse("members:account")),
    ("member", "export", lambda s: reverse("members:export")),
    ("member", "my_meetings", lambda s: reverse("meetings:mine")),
    ("member", "meeting_page", lambda s: reverse("meetings:detail", args=[s["coming"].pk])),
    ("member", "email_choices", lambda s: reverse("members:notifications")),
    ("member", "email_addresses", lambda s: reverse("account_email")),
    ("facilitator", "roster", lambda s: reverse("groups:manage", args=[s["group"].slug])),
    (
        "facilitator",
        "attendance_sheet",
        lambda s: reverse("meetings:attendance", args=[s["held"].pk]),
    ),
    ("coordinator", "reports", lambda s: reverse("reports:overview")),
    ("coordinator", "audit_log", lambda s: reverse("members:audit_log")),
    ("coordinator", "outbox", lambda s: reverse("members:outbox")),
]


@pytest.mark.parametrize(
    ("role", "url_for"),
    [(role, url_for) for role, _name, url_for in SIGNED_IN_PAGES],
    ids=[name for _role, name, _url_for in SIGNED_IN_PAGES],
)
def test_signed_in_pages_are_private_and_never_stored(client, password, scene, role, url_for):
    log_in(client, scene["people"][role])
    url = url_for(scene)
    response = client.get(url)
    if response.status_code == 302:  # the export asks for the password again first
        assert response["Cache-Control"] == NO_STORE
        assert response["Location"].startswith(reverse("account_reauthenticate"))
        client.post(response["Location"], {"password": password})
        response = client.get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE
    assert "cookie" in vary(response)


def test_a_refused_page_and_a_redirect_are_not_stored_either(client, scene):
    log_in(client, scene["people"]["member"])

    refused = client.get(reverse("members:audit_log"))  # coordinators only
    missing = client.get("/no-such-page/")

    assert refused.status_code == 403
    assert refused["Cache-Control"] == NO_STORE
    assert missing.status_code == 404
    assert missing["Cache-Control"] == NO_STORE


def test_the_response_that_signs_someone_in_is_not_stored(client, password, scene):
    response = sign_in(client, scene["people"]["member"].email, password)

    assert response.status_code == 302
    assert {"private", "no-store"} <= cache_directives(response)  # allauth's never_cache


def test_the_private_calendar_feed_keeps_its_own_caching(client, scene):
    member = scene["people"]["member"]
    token = meeting_services.calendar_token_for(user=member)
    log_in(client, member)  # opened in the browser where the person is signed in

    response = client.get(reverse("meetings_feeds:member_calendar", args=[token.token]))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, max-age=900"


def test_public_feeds_stay_public_even_for_a_signed_in_person(client, scene):
    log_in(client, scene["people"]["member"])

    for url in (
        reverse("meetings_feeds:group_calendar", args=[scene["group"].slug]),
        reverse("meetings_feeds:meeting_guide"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response["Cache-Control"], url
        assert "public" in response["Cache-Control"], url
        assert get_max_age(response) == 900, url


def test_an_anonymous_directory_page_is_not_changed(client, scene):
    response = client.get(reverse("groups:directory"))

    assert response.status_code == 200
    assert not {"private", "no-store"} & cache_directives(response)
