"""Email choices show a person only what applies to them, grouped.

Reminders, changes to one's meetings and groups, and (for people who facilitate or
co-facilitate a group) the facilitators' emails, each in a fieldset with its legend.
Choices a person is not shown keep what was stored when they save.
"""

import re

import pytest
from django.urls import reverse

from groups.models import MembershipStatus, Role
from members.models import NotificationPreferences
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import ROLES, assert_no_private_data, cast  # noqa: F401
from tests.query_budget import assert_flat

pytestmark = pytest.mark.django_db

URL = reverse("members:notifications")
FACILITATOR_FIELDS = ["join_request", "facilitator_digest", "member_erased", "attendance_due"]
EVERYONE = {
    "reminder_day_before": "on",
    "reminder_day_before_hour": "9",
    "meeting_changed": "on",
}


def legends(response) -> list[str]:
    return re.findall(r"<legend>([^<]+)</legend>", response.content.decode())


def fields_shown(response) -> set[str]:
    return set(re.findall(r'name="([a-z_]+)"', response.content.decode())) - {
        "csrfmiddlewaretoken",
        "next",
        "language",
    }


@pytest.mark.parametrize(
    ("role", "facilitates"),
    [
        ("outsider", False),
        ("pending", False),
        ("member", False),
        ("peer_moderator", False),
        ("coordinator", False),  # coordinates the programme, facilitates no group
        ("other_facilitator", True),
        ("facilitator", True),
    ],
)
def test_facilitator_choices_only_for_people_who_facilitate(client, cast, role, facilitates):  # noqa: F811
    cast.login(client, role)

    response = client.get(URL)

    assert response.status_code == 200
    expected = ["Reminders", "Changes to my meetings and groups"]
    assert legends(response) == expected + (["For facilitators"] if facilitates else [])
    shown = fields_shown(response)
    assert set(FACILITATOR_FIELDS) <= shown if facilitates else not set(FACILITATOR_FIELDS) & shown
    assert {"reminder_day_before", "reminder_day_before_hour", "meeting_changed"} <= shown
    if role != "member":
        assert_no_private_data(response.content.decode())


def test_a_visitor_is_sent_to_sign_in_and_sees_nobodys_choices(client, cast):  # noqa: F811
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert_no_private_data(response.content.decode())


def test_a_co_facilitator_gets_the_facilitator_choices(client):
    person = UserFactory()
    MembershipFactory(user=person, role=Role.CO_FACILITATOR)
    log_in(client, person)

    assert "For facilitators" in legends(client.get(URL))


def test_a_facilitator_whose_membership_ended_no_longer_sees_them(client):
    person = UserFactory()
    MembershipFactory(user=person, role=Role.FACILITATOR, status=MembershipStatus.LEFT)
    log_in(client, person)

    assert "For facilitators" not in legends(client.get(URL))


def test_saving_as_a_member_keeps_the_facilitator_choices_stored_before(client):
    person = UserFactory()
    NotificationPreferences.objects.create(
        user=person, join_request=False, facilitator_digest=False, meeting_changed=False
    )
    log_in(client, person)

    response = client.post(URL, EVERYONE)  # a form without the facilitator choices

    assert response.status_code == 302
    prefs = NotificationPreferences.objects.get(user=person)
    assert prefs.meeting_changed is True
    assert prefs.reminder_day_before_hour == 9
    assert prefs.join_request is False and prefs.facilitator_digest is False
    assert prefs.member_erased is True and prefs.attendance_due is True  # as stored


def test_a_member_cannot_change_facilitator_choices_by_posting_them(client):
    person = UserFactory()
    NotificationPreferences.objects.create(user=person, join_request=True)
    log_in(client, person)

    client.post(URL, EVERYONE)  # join_request left out: would mean "off" if it counted

    assert NotificationPreferences.objects.get(user=person).join_request is True


def test_a_facilitator_turns_a_facilitator_email_off(client):
    person = UserFactory()
    MembershipFactory(user=person, role=Role.FACILITATOR)
    log_in(client, person)

    client.post(URL, {**EVERYONE, "facilitator_digest": "on", "member_erased": "on"})

    prefs = NotificationPreferences.objects.get(user=person)
    assert prefs.join_request is False and prefs.attendance_due is False
    assert prefs.facilitator_digest is True and prefs.member_erased is True


def test_the_hour_follows_the_day_before_reminder_with_javascript_only(client):
    log_in(client, UserFactory())

    body = client.get(URL).content.decode()

    assert re.search(r'<select[^>]*name="reminder_day_before_hour"[^>]*>', body)
    assert 'data-shown-with="id_reminder_day_before"' in body
    assert "/static/js/preferences" in body
    assert not re.search(r'<div class="field[^"]*"[^>]*hidden', body)  # both show without JS


def test_preferences_page_costs_the_same_however_many_groups_one_facilitates(client):
    person = UserFactory()
    log_in(client, person)

    def facilitate(count: int) -> None:
        for group in SupportGroupFactory.create_batch(count):
            MembershipFactory(group=group, user=person, role=Role.FACILITATOR)

    assert_flat(
        small_setup=lambda: facilitate(1),
        large_setup=lambda: facilitate(12),
        request=lambda: client.get(URL),
        label="email choices",
    )
