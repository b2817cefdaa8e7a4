"""Meetings are seen only where their group could be seen.

Meeting pages have sequential ids, so anyone can walk /meetings/1/, /meetings/2/, ...
A visitor or someone outside the group sees a meeting only when its group is public
(listed and not closed); otherwise they get the very 404 a missing meeting gets, with
nothing of the group in it. Members, the group's staff and coordinators always see it.
"""

import re

import pytest
from django.urls import reverse

from groups.models import GroupStatus, MembershipStatus, Role, Visibility
from tests.auth import log_in
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db

GROUP_NAME = "Quiet Harbour Bipolar Circle"
TITLE = "Evening of the Quiet Harbour"

GROUP_STATES = {
    "listed": (Visibility.LISTED, GroupStatus.ACTIVE),
    "listed-paused": (Visibility.LISTED, GroupStatus.PAUSED),
    "listed-archived": (Visibility.LISTED, GroupStatus.CLOSED),
    "unlisted": (Visibility.UNLISTED, GroupStatus.ACTIVE),
    "unlisted-paused": (Visibility.UNLISTED, GroupStatus.PAUSED),
    "unlisted-archived": (Visibility.UNLISTED, GroupStatus.CLOSED),
}
PUBLIC_STATES = {"listed", "listed-paused"}
# Who always sees the meeting, whatever the group's state.
INSIDERS = {"member", "facilitator", "coordinator"}
ROLES = ["visitor", "outsider", "former_member", "other_facilitator", *sorted(INSIDERS)]


def person_in(role: str, group):
    if role == "visitor":
        return None
    if role == "coordinator":
        return CoordinatorFactory()
    person = UserFactory()
    if role == "member":
        MembershipFactory(group=group, user=person)
    elif role == "former_member":
        MembershipFactory(group=group, user=person, status=MembershipStatus.LEFT)
    elif role == "facilitator":
        MembershipFactory(group=group, user=person, role=Role.FACILITATOR)
    elif role == "other_facilitator":
        MembershipFactory(group=SupportGroupFactory(), user=person, role=Role.FACILITATOR)
    return person


def meeting_in(state: str):
    visibility, status = GROUP_STATES[state]
    group = SupportGroupFactory(name=GROUP_NAME, visibility=visibility, status=status)
    return MeetingFactory(group=group, title=TITLE)


def sign_in_as(client, role, group):
    person = person_in(role, group)
    if person is not None:
        if role in ("facilitator", "coordinator", "other_facilitator"):
            enable_mfa(person)
        log_in(client, person)
    return person


def comparable(html: str) -> str:
    """The page without its per-request CSRF tokens and the address it was asked at (the
    language switch returns there), so that two 404s can be compared."""
    html = re.sub(r"/meetings/\d+/", "/meetings/ID/", html)
    html = re.sub(r'"X-CSRFToken": "[^"]*"', '"X-CSRFToken": ""', html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)


def missing_meeting_page(client) -> str:
    return comparable(client.get(reverse("meetings:detail", args=[999_999_999])).text)


CASES = [(state, role) for state in GROUP_STATES for role in ROLES]


def expected_visible(state: str, role: str) -> bool:
    return state in PUBLIC_STATES or role in INSIDERS


@pytest.mark.parametrize(("state", "role"), CASES)
def test_meeting_page_is_seen_only_where_its_group_could_be(client, state, role):
    meeting = meeting_in(state)
    sign_in_as(client, role, meeting.group)

    response = client.get(reverse("meetings:detail", args=[meeting.pk]))

    if expected_visible(state, role):
        assert response.status_code == 200
        assert TITLE in response.text
    else:
        assert response.status_code == 404
        assert comparable(response.text) == missing_meeting_page(client)
        assert GROUP_NAME not in response.text and TITLE not in response.text


@pytest.mark.parametrize(("state", "role"), CASES)
def test_a_meetings_calendar_file_follows_the_same_rule(client, state, role):
    meeting = meeting_in(state)
    sign_in_as(client, role, meeting.group)

    response = client.get(reverse("meetings:ics", args=[meeting.pk]))

    if expected_visible(state, role):
        assert response.status_code == 200
        assert TITLE in response.content.decode()
    else:
        assert response.status_code == 404
        assert GROUP_NAME not in response.content.decode()


@pytest.mark.parametrize("role", ["outsider", "former_member", "other_facilitator"])
def test_answering_a_meeting_of_an_unlisted_group_from_outside_is_not_found(client, role):
    meeting = meeting_in("unlisted")
    sign_in_as(client, role, meeting.group)

    response = client.post(reverse("meetings:rsvp", args=[meeting.pk]), {"going": "yes"})

    assert response.status_code == 404
    assert GROUP_NAME not in response.text
    assert not meeting.rsvps.exists()


def test_walking_the_ids_finds_only_public_meetings(client):
    public = [meeting_in("listed"), meeting_in("listed-paused")]
    hidden = [meeting_in(state) for state in GROUP_STATES if state not in PUBLIC_STATES]

    found = [
        pk
        for pk in range(min(m.pk for m in public + hidden), max(m.pk for m in public + hidden) + 1)
        if client.get(reverse("meetings:detail", args=[pk])).status_code == 200
    ]

    assert found == sorted(m.pk for m in public)
