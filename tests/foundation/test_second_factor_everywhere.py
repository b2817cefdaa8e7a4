"""A staff password alone opens no staff page: every one asks for the second factor.

For each staff page, a facilitator and a coordinator who have an authenticator but whose
session has not used it (a password-only sign-in, or a session from before the
authenticator) are sent to enter a code, and the page's data never reaches them. With
the second factor passed, the same people get the page.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Role
from sessions.models import Rsvp, RsvpStatus
from tests.auth import log_in, pass_second_factor
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db

GOING_NAME = "Ottavia-Going"


@pytest.fixture
def scene():
    group = SupportGroupFactory(name="Lantern Circle")
    facilitator = UserFactory(display_name="Facilitator Flo")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    coming = UserFactory(display_name=GOING_NAME)
    MembershipFactory(group=group, user=coming)
    meeting = MeetingFactory(group=group, starts_at=timezone.now() + timedelta(hours=1))
    Rsvp.objects.create(meeting=meeting, user=coming, response="going", status=RsvpStatus.CONFIRMED)
    coordinator = CoordinatorFactory(display_name="Coordinator Coco")
    for person in (facilitator, coordinator):
        enable_mfa(person)
    return {
        "group": group,
        "meeting": meeting,
        "facilitator": facilitator,
        "coordinator": coordinator,
    }


def staff_pages(scene) -> list[str]:
    slug, pk = scene["group"].slug, scene["meeting"].pk
    pages = [
        reverse("groups:manage", args=[slug]),
        reverse("groups:edit", args=[slug]),
        reverse("groups:conduct_edit", args=[slug]),
        reverse("groups:invite", args=[slug]),
        reverse("meetings:schedule", args=[slug]),
        reverse("meetings:edit", args=[pk]),
        reverse("meetings:cancel", args=[pk]),
        reverse("meetings:attendance", args=[pk]),
        reverse("reports:overview"),
        reverse("reports:attendance"),
        reverse("reports:retention"),
        reverse("reports:overview_export", kwargs={"fmt": "csv"}),
    ]
    return pages


COORDINATOR_PAGES = ["groups:create", "members:audit_log", "members:outbox"]


@pytest.mark.parametrize("who", ["facilitator", "coordinator"])
def test_a_password_only_session_is_sent_to_the_second_factor_on_every_staff_page(
    client, scene, who
):
    client.force_login(scene[who])  # the password step only
    pages = staff_pages(scene)
    if who == "coordinator":
        pages += [reverse(name) for name in COORDINATOR_PAGES]

    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].split("?")[0] == reverse("mfa_reauthenticate"), url
        assert GOING_NAME not in response.content.decode(), url

    pass_second_factor(client, scene[who])
    for url in pages:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["facilitator", "coordinator"])
def test_the_meeting_page_shows_staff_data_only_after_the_second_factor(client, scene, who):
    url = reverse("meetings:detail", args=[scene["meeting"].pk])
    client.force_login(scene[who])

    before = client.get(url)
    pass_second_factor(client, scene[who])
    after = client.get(url)

    assert before.status_code == after.status_code == 200
    assert GOING_NAME not in before.text
    assert GOING_NAME in after.text


def test_the_admin_is_refused_to_a_staff_password_alone(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    enable_mfa(admin)
    client.force_login(admin)

    response = client.get(reverse("admin:index"), follow=True)

    assert "Site administration" not in response.text
    log_in(client, admin)
    assert "Site administration" in client.get(reverse("admin:index")).text


def test_the_calendar_file_gives_staff_the_members_only_address_only_after_the_second_factor(
    client, scene
):
    meeting = scene["meeting"]
    meeting.address = "Via Segreta 7"
    meeting.address_visibility = "members"
    meeting.save()
    url = reverse("meetings:ics", args=[meeting.pk])
    client.force_login(scene["coordinator"])

    before = client.get(url).content.decode()
    pass_second_factor(client, scene["coordinator"])
    after = client.get(url).content.decode()

    assert "Via Segreta 7" not in before
    assert "Via Segreta 7" in after
