"""Answers that tell the truth: the place count changes with the answer, leaving the
waitlist asks first, My meetings answers in place, and promotion emails name the meeting."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import JoinPolicy
from members import notifications
from members.models import Notification, NotificationKind
from sessions.models import MeetingStatus, Rsvp, RsvpStatus
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.groups.conftest import ROLES
from tests.meetings.factories import MeetingFactory, cast_around
from tests.query_budget import assert_flat

pytestmark = pytest.mark.django_db

TITLE = "Harbour Lights evening"
OTHER_TITLE = "Other Shore morning"
MEMBER_NAME = "Quillon-Member"
HTMX = {"HX-Request": "true"}


def rsvp_url(meeting) -> str:
    return reverse("meetings:rsvp", args=[meeting.pk])


def going(meeting, person, status=RsvpStatus.CONFIRMED) -> Rsvp:
    return Rsvp.objects.create(
        meeting=meeting,
        user=person,
        response="going",
        status=status,
        waitlisted_at=timezone.now() if status == RsvpStatus.WAITLISTED else None,
    )


@pytest.fixture
def scene():
    group = SupportGroupFactory(name="Harbour Lights")
    other_group = SupportGroupFactory(name="Other Shore")
    people = cast_around(group, member_name=MEMBER_NAME, other_group=other_group)
    meeting = MeetingFactory(group=group, title=TITLE, capacity=8)
    other_meeting = MeetingFactory(group=other_group, title=OTHER_TITLE)
    return {"group": group, "meeting": meeting, "other": other_meeting, "people": people}


def login(client, scene, role):
    person = scene["people"][role]
    if person is not None:
        log_in(client, person)
    return person


# --- The count changes with the answer ----------------------------------------------------


def test_htmx_answer_brings_the_place_count_along(client, scene):
    meeting = scene["meeting"]
    log_in(client, scene["people"]["member"])
    response = client.post(rsvp_url(meeting), {"going": "yes"}, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "You're going." in response.text
    swap = re.search(
        r'<span class="places" id="places-(\d+)" hx-swap-oob="true">([^<]*)<', response.text
    )
    assert swap is not None, response.text
    assert (int(swap.group(1)), swap.group(2)) == (meeting.pk, "1 place taken of 8")


def test_place_count_uses_real_plurals_and_counts_the_waitlist(client, scene):
    meeting = scene["meeting"]
    meeting.capacity = 3
    meeting.save()
    for _ in range(3):
        going(meeting, MembershipFactory(group=scene["group"]).user)
    going(meeting, MembershipFactory(group=scene["group"]).user, status=RsvpStatus.WAITLISTED)
    log_in(client, scene["people"]["member"])
    page = client.get(meeting.get_absolute_url()).text
    assert "3 places taken of 3, 1 person waiting" in page
    response = client.post(rsvp_url(meeting), {"going": "yes"}, headers=HTMX)
    assert "3 places taken of 3, 2 people waiting" in response.text
    assert "You're number 2 on the waitlist." in response.text


def test_meeting_without_a_capacity_sends_no_count_to_swap(client, scene):
    meeting = scene["meeting"]
    meeting.capacity = None
    meeting.save()
    log_in(client, scene["people"]["member"])
    response = client.post(rsvp_url(meeting), {"going": "yes"}, headers=HTMX)
    assert "You're going." in response.text
    assert "hx-swap-oob" not in response.text  # no target on the page: htmx would complain


def test_plain_answer_returns_to_my_meetings_when_it_came_from_there(client, scene):
    log_in(client, scene["people"]["member"])
    mine = reverse("meetings:mine") + "?page=1"
    response = client.post(rsvp_url(scene["meeting"]), {"going": "yes", "next": mine})
    assert (response.status_code, response.url) == (302, mine)


@pytest.mark.parametrize(
    "next_url", ["https://evil.example.org/meetings/", "//evil.example.org/", "javascript:x"]
)
def test_plain_answer_never_returns_to_another_site(client, scene, next_url):
    log_in(client, scene["people"]["member"])
    response = client.post(rsvp_url(scene["meeting"]), {"going": "yes", "next": next_url})
    assert (response.status_code, response.url) == (302, scene["meeting"].get_absolute_url())


# --- Leaving the waitlist asks first ------------------------------------------------------


def test_waitlisted_member_is_asked_before_leaving_the_waitlist(client, scene):
    meeting = scene["meeting"]
    meeting.capacity = 1
    meeting.save()
    going(meeting, scene["people"]["peer_moderator"])
    going(meeting, scene["people"]["member"], status=RsvpStatus.WAITLISTED)
    log_in(client, scene["people"]["member"])
    page = client.get(meeting.get_absolute_url()).text
    leave = re.search(r'<details class="rsvp-leave">(.*?)</details>', page, re.S)
    assert leave is not None
    assert "<summary" in leave.group(1) and "Leave the waitlist" in leave.group(1)
    assert "You would give up your place (number 1)" in leave.group(1)
    assert 'name="going" value="no"' in leave.group(1)
    assert "Yes, leave the waitlist" in leave.group(1)
    assert "I can't come any more" not in page  # the one way out is the one that asks

    response = client.post(rsvp_url(meeting), {"going": "no"}, follow=True)
    assert "You have left the waitlist." in response.text
    assert Rsvp.objects.get(meeting=meeting, user=scene["people"]["member"]).status == (
        RsvpStatus.DECLINED
    )


def test_confirmed_member_who_cannot_come_is_thanked_not_told_of_a_waitlist(client, scene):
    going(scene["meeting"], scene["people"]["member"])
    log_in(client, scene["people"]["member"])
    response = client.post(rsvp_url(scene["meeting"]), {"going": "no"}, follow=True)
    assert "Thanks for letting us know you can&#x27;t come." in response.text
    assert "You have left the waitlist." not in response.text


# --- My meetings answers in place ---------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_my_meetings_shows_each_person_their_own_groups_with_answer_buttons(client, scene, role):
    person = login(client, scene, role)
    response = client.get(reverse("meetings:mine"))
    if person is None:
        assert response.status_code == 302
        assert reverse("account_login") in response.url
        return
    assert response.status_code == 200
    in_group = role in {"member", "peer_moderator", "facilitator"}
    assert (TITLE in response.text) == in_group
    assert (OTHER_TITLE in response.text) == (role == "other_facilitator")
    assert MEMBER_NAME not in response.text or role == "member"  # no one else's name
    form_target = f'hx-post="{rsvp_url(scene["meeting"])}"'
    assert (form_target in response.text) == in_group
    if in_group:
        assert f'name="next" value="{reverse("meetings:mine")}"' in response.text
        assert "0 places taken of 8" in response.text


def test_my_meetings_answer_comes_back_in_place(client, scene):
    log_in(client, scene["people"]["member"])
    response = client.post(
        rsvp_url(scene["meeting"]),
        {"going": "yes", "next": reverse("meetings:mine")},
        headers=HTMX,
    )
    assert "<html" not in response.text
    assert f'id="rsvp-{scene["meeting"].pk}"' in response.text
    assert f'name="next" value="{reverse("meetings:mine")}"' in response.text
    assert "1 place taken of 8" in response.text


@pytest.mark.parametrize("role", ["visitor", "outsider", "pending", "other_facilitator"])
def test_answer_from_someone_outside_the_group_changes_nothing_and_tells_nothing(
    client, scene, role
):
    person = login(client, scene, role)
    meeting = scene["meeting"]
    going(meeting, scene["people"]["member"])
    response = client.post(rsvp_url(meeting), {"going": "yes"}, headers=HTMX)
    if person is None:
        assert response.status_code == 302
        assert reverse("account_login") in response.url
    else:
        assert not Rsvp.objects.filter(meeting=meeting, user=person).exists()
        assert response.status_code == 200
        assert '<p class="rsvp-error" role="alert">Only members' in response.text
        assert "You're going." not in response.text
    assert MEMBER_NAME not in response.text
    assert Rsvp.objects.filter(meeting=meeting).count() == 1


def test_answer_to_a_meeting_of_an_unlisted_group_is_a_404_for_outsiders(client, scene):
    group = scene["group"]
    group.visibility = "unlisted"
    group.save()
    log_in(client, scene["people"]["outsider"])
    response = client.post(rsvp_url(scene["meeting"]), {"going": "yes"}, headers=HTMX)
    assert response.status_code == 404
    assert TITLE not in response.text
    assert not Rsvp.objects.filter(meeting=scene["meeting"]).exists()


def test_my_meetings_costs_the_same_with_few_and_many_answers(client, scene):
    member = scene["people"]["member"]
    log_in(client, member)

    def meetings_with_answers(count, others):
        for index in range(count):
            meeting = MeetingFactory(
                group=scene["group"],
                capacity=3,
                starts_at=timezone.now() + timedelta(days=index + 1),
            )
            for person in others:
                going(meeting, person)
            going(meeting, member, status=RsvpStatus.WAITLISTED if index % 2 else "confirmed")

    few = [MembershipFactory(group=scene["group"]).user for _ in range(2)]
    assert_flat(
        small_setup=lambda: meetings_with_answers(2, few),
        large_setup=lambda: meetings_with_answers(15, few),
        request=lambda: client.get(reverse("meetings:mine")),
        label="my meetings with answers",
    )


def test_answering_costs_the_same_however_many_have_answered(client, scene):
    meeting = scene["meeting"]
    meeting.capacity = None
    meeting.save()
    member = scene["people"]["member"]
    log_in(client, member)

    def others_going(count):
        for _ in range(count):
            going(meeting, MembershipFactory(group=scene["group"]).user)

    assert_flat(
        small_setup=lambda: others_going(3),
        large_setup=lambda: others_going(40),
        prepare=lambda: Rsvp.objects.filter(meeting=meeting, user=member).delete(),
        request=lambda: client.post(rsvp_url(meeting), {"going": "yes"}, headers=HTMX),
        label="htmx answer",
    )


# --- The group page does not promise an open door when it is full -------------------------


def test_full_open_group_page_does_not_say_anyone_can_join(client):
    group = SupportGroupFactory(join_policy=JoinPolicy.OPEN, capacity=1)
    MembershipFactory(group=group)
    page = client.get(group.get_absolute_url()).text
    assert "Open: anyone can join" not in page
    assert "Open, but full just now: anyone can join the waitlist" in page
    assert "The group is full just now" in page


def test_open_group_with_room_says_anyone_can_join(client):
    group = SupportGroupFactory(join_policy=JoinPolicy.OPEN, capacity=5)
    MembershipFactory(group=group)
    page = client.get(group.get_absolute_url()).text
    assert "Open: anyone can join" in page
    assert "full just now" not in page


# --- Promotion emails name the meeting ----------------------------------------------------


def send(row: Notification):
    assert notifications.notification_send(notification_id=row.pk) == "sent"


def test_group_promotion_email_names_the_next_meeting_with_a_link_to_answer(mailoutbox):
    group = SupportGroupFactory(name="Harbour Lights")
    membership = MembershipFactory(group=group)
    MeetingFactory(
        group=group,
        title="Cancelled one",
        status=MeetingStatus.CANCELLED,
        starts_at=timezone.now() + timedelta(days=1),
    )
    MeetingFactory(
        group=group, title="Started one", starts_at=timezone.now() - timedelta(minutes=5)
    )
    later = MeetingFactory(
        group=group, title="Later one", starts_at=timezone.now() + timedelta(days=9)
    )
    nearest = MeetingFactory(
        group=group, title="Next one", starts_at=timezone.now() + timedelta(days=2)
    )
    row = Notification.objects.create(
        recipient=membership.user,
        kind=NotificationKind.WAITLIST_PROMOTED,
        subject_key=f"membership:{membership.pk}",
        slot="promoted:1",
    )
    send(row)
    [email] = mailoutbox
    link = f"{notifications.site_root()}{nearest.get_absolute_url()}#rsvp-title"
    html = email.alternatives[0][0]
    for body in (email.body, html):
        assert "The next meeting is Next one:" in body
        assert link in body
        assert "Later one" not in body and later.get_absolute_url() not in body
    assert f'<a href="{link}">Say whether you\'re coming</a>' in html


def test_group_promotion_email_without_a_meeting_scheduled_says_nothing_of_one(mailoutbox):
    membership = MembershipFactory(group=SupportGroupFactory(name="Harbour Lights"))
    row = Notification.objects.create(
        recipient=membership.user,
        kind=NotificationKind.WAITLIST_PROMOTED,
        subject_key=f"membership:{membership.pk}",
        slot="promoted:1",
    )
    send(row)
    [email] = mailoutbox
    assert "you are now a member of Harbour Lights" in email.body
    assert "next meeting" not in email.body


def test_meeting_promotion_email_carries_the_meeting_and_its_page(mailoutbox):
    group = SupportGroupFactory(name="Harbour Lights")
    membership = MembershipFactory(group=group)
    meeting = MeetingFactory(group=group, title=TITLE)
    going(meeting, membership.user)
    row = Notification.objects.create(
        recipient=membership.user,
        kind=NotificationKind.WAITLIST_PROMOTED,
        subject_key=f"meeting:{meeting.pk}",
        slot="promoted:1",
    )
    send(row)
    [email] = mailoutbox
    assert f"you are now going to {TITLE}" in email.body
    assert f"{notifications.site_root()}{meeting.get_absolute_url()}" in email.body
