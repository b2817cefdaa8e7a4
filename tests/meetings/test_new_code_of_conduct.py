"""A new code of conduct holds on every member path, not only on the group page.

Until a member accepts the group's new code they are treated as not yet in: no video
link or members-only address, no answering, nothing in their calendar feed or My
meetings, no reminders; the meeting page says why and links to the code.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups import services as group_services
from groups.models import Membership, Role
from members.models import Notification, NotificationKind
from members.notifications import notification_send
from sessions import feed_selectors, selectors, services
from sessions.errors import MeetingError
from sessions.models import MeetingFormat, Rsvp
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db

VIDEO = "https://video.example.org/quiet-room"


@pytest.fixture
def scene():
    group = SupportGroupFactory(name="Sunday Garden", video_link_policy="always")
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR).user
    member = MembershipFactory(group=group).user
    meeting = MeetingFactory(
        group=group,
        format=MeetingFormat.ONLINE,
        video_url=VIDEO,
        starts_at=timezone.now() + timedelta(hours=20),
    )
    services.meeting_rsvp(meeting_id=meeting.pk, member=member, going=True)
    group_services.code_of_conduct_publish(
        group=group, text="New: we keep cameras on.", actor=facilitator
    )
    return {"group": group, "facilitator": facilitator, "member": member, "meeting": meeting}


def test_the_meeting_page_hides_the_link_until_the_new_code_is_accepted(client, scene):
    log_in(client, scene["member"])
    url = reverse("meetings:detail", args=[scene["meeting"].pk])

    before = client.get(url)
    client.post(
        reverse("groups:conduct", args=[scene["group"].slug]),
        {"accept_conduct": "on", "conduct_version": "2"},
    )
    after = client.get(url)

    assert VIDEO not in before.text
    assert reverse("groups:conduct", args=[scene["group"].slug]) in before.text
    assert "new code of conduct" in before.text
    assert VIDEO in after.text


def test_answering_waits_for_the_new_code(scene):
    with pytest.raises(MeetingError, match="new code of conduct"):
        services.meeting_rsvp(meeting_id=scene["meeting"].pk, member=scene["member"], going=False)
    assert Rsvp.objects.get(meeting=scene["meeting"], user=scene["member"]).status == "confirmed"


def test_feeds_and_my_meetings_leave_the_group_out_until_accepted(scene):
    member = scene["member"]

    assert feed_selectors.member_feed_meetings(member) == []
    assert list(selectors.my_upcoming_meetings(member).object_list) == []

    group_services.conduct_accept(group_id=scene["group"].pk, user=member, version=2)
    assert [m.pk for m in feed_selectors.member_feed_meetings(member)] == [scene["meeting"].pk]
    assert [m.pk for m in selectors.my_upcoming_meetings(member).object_list] == [
        scene["meeting"].pk
    ]


def test_no_reminder_goes_to_someone_who_has_not_accepted(scene, mailoutbox):
    row = Notification.objects.create(
        recipient=scene["member"],
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=f"meeting:{scene['meeting'].pk}",
        slot=f"hour-before:{scene['meeting'].starts_at:%Y%m%dT%H%MZ}",
    )

    assert notification_send(notification_id=row.pk) == "skipped"
    row.refresh_from_db()
    assert row.skip_reason == "not-a-member"
    assert mailoutbox == []


def test_whoever_publishes_the_code_has_accepted_it(client, scene):
    membership = Membership.objects.get(group=scene["group"], user=scene["facilitator"])
    assert membership.accepted_conduct.version == 2
    assert Membership.objects.in_good_standing().filter(pk=membership.pk).exists()
