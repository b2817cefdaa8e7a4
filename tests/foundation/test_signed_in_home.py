"""The home page: the programme's front page for visitors, a personal home once signed in
(today's and the next meetings with the person's answer, their groups, and for
coordinators the overview's alerts and the way to start a group)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from groups.models import JoinPolicy, MembershipStatus, Role
from members.services import coordinator_grant
from sessions import services as meeting_services
from sessions.models import MeetingFormat
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory
from tests.query_budget import assert_flat

pytestmark = pytest.mark.django_db

MARKETING = "You don't have to face it alone"
VIDEO = "https://video.example.org/home-test-call"


@pytest.fixture
def world():
    group = SupportGroupFactory(name="Evening Carers", join_policy=JoinPolicy.APPROVAL)
    other = SupportGroupFactory(name="Other Harbour")
    facilitator = UserFactory(display_name="Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    member = UserFactory(display_name="Marta")
    MembershipFactory(group=group, user=member)
    for name in ("Asking Ada", "Asking Bea"):
        MembershipFactory(
            group=group,
            user=UserFactory(display_name=name),
            status=MembershipStatus.PENDING,
            joined_at=None,
        )
    outsider = UserFactory(display_name="Olga")
    MembershipFactory(group=other, user=outsider)
    coordinator = UserFactory(display_name="Cora")
    coordinator_grant(user=coordinator)
    for staff in (facilitator, coordinator):
        enable_mfa(staff)
    now = timezone.now()
    ongoing = MeetingFactory(
        group=group,
        title="Tonight's circle",
        format=MeetingFormat.ONLINE,
        video_url=VIDEO,
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=80),
    )
    later = MeetingFactory(group=group, title="Next week's circle")
    MeetingFactory(group=other, title="Secret harbour meeting")
    meeting_services.meeting_rsvp(meeting_id=later.pk, member=member, going=True)
    return {
        "group": group,
        "people": {
            "outsider": outsider,
            "member": member,
            "facilitator": facilitator,
            "coordinator": coordinator,
        },
        "ongoing": ongoing,
        "later": later,
    }


def home(client, world, role):
    if role != "visitor":
        log_in(client, world["people"][role])
    return client.get(reverse("home"))


def test_login_lands_on_the_home_page():
    assert reverse(settings.LOGIN_REDIRECT_URL) == "/"


def test_visitors_get_the_programmes_front_page(client, world):
    response = home(client, world, "visitor")
    assert response.status_code == 200
    assert MARKETING in response.text
    for private in ("Tonight's circle", "Marta", "Needs your attention", "My groups"):
        assert private not in response.text


def test_a_member_sees_todays_meeting_with_the_join_button_and_their_answers(client, world):
    response = home(client, world, "member")

    body = response.text
    assert response.status_code == 200
    assert MARKETING not in body
    assert "Hello, Marta" in body
    today = body[body.index('id="today-title"') : body.index('id="next-title"')]
    assert "Tonight&#x27;s circle" in today
    assert f'href="{VIDEO}"' in today
    assert "Join the video call" in today
    assert "Are you coming?" in today
    upcoming = body[body.index('id="next-title"') : body.index('id="groups-title"')]
    assert "Next week&#x27;s circle" in upcoming
    assert "You're going." in upcoming
    assert VIDEO not in upcoming  # the link opens an hour before, not a week before


def test_a_member_sees_their_groups_but_no_requests_and_no_alerts(client, world):
    body = home(client, world, "member").text
    groups = body[body.index('id="groups-title"') :]
    assert "Evening Carers" in groups
    assert "You facilitate" not in groups
    assert "requests waiting" not in groups
    assert "Asking Ada" not in body
    assert "Needs your attention" not in body
    assert "Start a new group" not in body


def test_someone_in_another_group_sees_none_of_this_groups_meetings(client, world):
    body = home(client, world, "outsider").text
    assert "Other Harbour" in body
    assert "Secret harbour meeting" in body
    for private in ("Tonight&#x27;s circle", "Next week&#x27;s circle", VIDEO, "Evening Carers"):
        assert private not in body


def test_a_facilitator_sees_the_group_they_run_with_the_requests_waiting(client, world):
    body = home(client, world, "facilitator").text
    groups = body[body.index('id="groups-title"') :]
    assert "You facilitate" in groups
    assert "Manage · 2 requests waiting" in groups
    assert f'href="{reverse("groups:manage", args=[world["group"].slug])}"' in groups
    assert "Asking Ada" not in body  # a count, not the people
    assert "Needs your attention" not in body


def test_a_facilitator_sees_the_registers_waiting_and_a_member_does_not(client, world):
    now = timezone.now()
    MeetingFactory(
        group=world["group"],
        title="Yesterday's circle",
        starts_at=now - timedelta(days=1),
        ends_at=now - timedelta(days=1) + timedelta(minutes=90),
    )

    staff = home(client, world, "facilitator").text
    client.logout()
    member = home(client, world, "member").text

    assert "A register is waiting for you" in staff
    assert "Take attendance" in staff
    assert "A register is waiting for you" not in member


def test_a_coordinator_sees_the_overviews_alerts_and_can_start_a_group(client, world):
    stale = MembershipFactory(
        group=world["group"],
        user=UserFactory(display_name="Long Wait"),
        status=MembershipStatus.PENDING,
        joined_at=None,
    )
    stale.requested_at = timezone.now() - timedelta(days=10)
    stale.save(update_fields=["requested_at"])

    body = home(client, world, "coordinator").text

    alerts = body[body.index('id="alerts-title"') : body.index('id="groups-title"')]
    # "Other Harbour" has no facilitator and meets within 7 days; one request has waited
    # more than 7 days. Each alert leads to the overview.
    assert "Groups without an active facilitator</a>: <strong>1</strong>" in alerts
    assert "Meetings in the next 7 days without a facilitator</a>: <strong>1</strong>" in alerts
    assert "Requests to join waiting more than 7 days</a>: <strong>1</strong>" in alerts
    assert alerts.count(f'<a href="{reverse("reports:overview")}">') >= 3
    assert f'href="{reverse("groups:create")}"' in alerts
    assert "Start a new group" in alerts
    assert "Long Wait" not in body


def test_a_coordinator_with_nothing_to_act_on_is_told_so(client):
    coordinator = UserFactory()
    coordinator_grant(user=coordinator)
    enable_mfa(coordinator)
    log_in(client, coordinator)
    body = client.get(reverse("home")).text
    assert "Nothing needs your attention just now." in body
    assert "You haven't joined a group yet." in body


def test_a_coordinator_without_the_second_factor_sees_no_alerts(client, world):
    client.force_login(world["people"]["coordinator"])  # password only
    body = client.get(reverse("home")).text
    assert "Confirm your sign-in with your authenticator app" in body
    assert "Groups without an active facilitator" not in body


@pytest.mark.parametrize("role", ["member", "facilitator", "coordinator"])
def test_the_home_costs_the_same_for_few_and_many_meetings_and_groups(client, role):
    person = UserFactory()
    if role == "coordinator":
        coordinator_grant(user=person)
    if role != "member":
        enable_mfa(person)
    log_in(client, person)
    member_role = Role.FACILITATOR if role == "facilitator" else Role.MEMBER
    now = timezone.now()

    def add(groups, meetings_each):
        for _ in range(groups):
            group = SupportGroupFactory()
            MembershipFactory(group=group, user=person, role=member_role)
            MembershipFactory(
                group=group, status=MembershipStatus.PENDING, joined_at=None, requested_at=now
            )
            for index in range(meetings_each):
                meeting = MeetingFactory(
                    group=group,
                    format=MeetingFormat.ONLINE,
                    video_url=VIDEO,
                    starts_at=now + timedelta(minutes=5 + index),
                )
                meeting_services.meeting_rsvp(meeting_id=meeting.pk, member=person, going=True)
            MeetingFactory(group=group, starts_at=now + timedelta(days=3))
            MeetingFactory(group=group, starts_at=now - timedelta(days=2))  # a register

    assert_flat(
        small_setup=lambda: add(2, 1),
        large_setup=lambda: add(25, 3),
        request=lambda: client.get(reverse("home")),
        label=f"home ({role})",
    )
