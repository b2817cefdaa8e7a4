"""Meeting pages, role by role: who sees the link and the address, who may change things."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import JoinPolicy, VideoLinkPolicy
from sessions.models import (
    Attendance,
    AttendanceChange,
    Meeting,
    MeetingFormat,
    MeetingStatus,
    Rsvp,
    RsvpStatus,
)
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import ROLES
from tests.meetings.factories import ADDRESS, VIDEO_URL, cast_around
from tests.meetings.factories import hybrid_meeting as make_meeting

MEMBER_NAME = "Quillon-Member"


@pytest.fixture
def scene(db):
    group = SupportGroupFactory(name="Harbour Lights", join_policy=JoinPolicy.APPROVAL)
    people = cast_around(group, member_name=MEMBER_NAME)
    meeting = make_meeting(group)
    Rsvp.objects.create(
        meeting=meeting, user=people["member"], response="going", status=RsvpStatus.CONFIRMED
    )
    return {"group": group, "meeting": meeting, "people": people}


def login(client, scene, role):
    person = scene["people"][role]
    if person is not None:
        log_in(client, person)
    return person


SEES_PRIVATE = {"member", "peer_moderator", "facilitator", "coordinator"}
STAFF = {"facilitator", "coordinator"}


@pytest.mark.parametrize("role", ROLES)
def test_meeting_page_shows_link_and_address_only_to_members_and_staff(client, scene, role):
    login(client, scene, role)
    response = client.get(scene["meeting"].get_absolute_url())
    assert response.status_code == 200
    if role in SEES_PRIVATE:
        assert VIDEO_URL in response.text
        assert ADDRESS in response.text
    else:
        assert VIDEO_URL not in response.text
        assert ADDRESS not in response.text
    if role in STAFF:
        assert MEMBER_NAME in response.text  # who is coming
    else:
        assert MEMBER_NAME not in response.text


def test_public_address_is_shown_to_visitors_but_never_the_link(client, scene):
    meeting = scene["meeting"]
    meeting.address_visibility = "public"
    meeting.save()
    response = client.get(meeting.get_absolute_url())
    assert ADDRESS in response.text
    assert VIDEO_URL not in response.text


def test_video_link_waits_until_an_hour_before_unless_the_group_says_always(client, scene):
    meeting = make_meeting(scene["group"], starts_in=timedelta(days=2))
    log_in(client, scene["people"]["member"])
    assert VIDEO_URL not in client.get(meeting.get_absolute_url()).text
    scene["group"].video_link_policy = VideoLinkPolicy.ALWAYS
    scene["group"].save()
    assert VIDEO_URL in client.get(meeting.get_absolute_url()).text


@pytest.mark.parametrize("url_name", ["meetings:edit", "meetings:cancel", "meetings:attendance"])
@pytest.mark.parametrize("role", ROLES)
def test_staff_meeting_pages_are_for_the_groups_staff_and_coordinators(
    client, scene, role, url_name
):
    login(client, scene, role)
    response = client.get(reverse(url_name, args=[scene["meeting"].pk]))
    if role in STAFF:
        assert response.status_code == 200
    else:
        assert response.status_code == (302 if role == "visitor" else 403)
        assert MEMBER_NAME not in response.text
        assert VIDEO_URL not in response.text


@pytest.mark.parametrize("role", ROLES)
def test_scheduling_is_for_the_groups_staff_and_coordinators(client, scene, role):
    login(client, scene, role)
    response = client.get(reverse("meetings:schedule", args=[scene["group"].slug]))
    expected = 200 if role in STAFF else (302 if role == "visitor" else 403)
    assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_only_members_can_rsvp(client, scene, role):
    person = login(client, scene, role)
    response = client.post(
        reverse("meetings:rsvp", args=[scene["meeting"].pk]), {"going": "yes"}, follow=True
    )
    answered = (
        person is not None
        and Rsvp.objects.filter(meeting=scene["meeting"], user=person, response="going").exists()
    )
    assert answered == (role in {"member", "peer_moderator", "facilitator"})
    if role == "visitor":
        assert reverse("account_login") in response.redirect_chain[0][0]


def test_rsvp_through_htmx_returns_the_updated_fragment(client, scene):
    member = scene["people"]["peer_moderator"]
    log_in(client, member)
    response = client.post(
        reverse("meetings:rsvp", args=[scene["meeting"].pk]),
        {"going": "yes"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "You're going." in response.text


def test_full_meeting_shows_waitlist_place(client, scene):
    meeting = scene["meeting"]
    meeting.capacity = 1
    meeting.save()
    log_in(client, scene["people"]["peer_moderator"])
    response = client.post(
        reverse("meetings:rsvp", args=[meeting.pk]), {"going": "yes"}, follow=True
    )
    assert "number 1 on the waitlist" in response.text


def test_rsvp_to_a_cancelled_meeting_says_so(client, scene):
    meeting = scene["meeting"]
    meeting.status = MeetingStatus.CANCELLED
    meeting.save()
    log_in(client, scene["people"]["peer_moderator"])
    response = client.post(
        reverse("meetings:rsvp", args=[meeting.pk]), {"going": "yes"}, follow=True
    )
    assert "has been cancelled" in response.text
    assert not Rsvp.objects.filter(meeting=meeting, user=scene["people"]["peer_moderator"]).exists()


def test_attendance_screen_lists_people_who_said_going_first(client, scene):
    log_in(client, scene["people"]["facilitator"])
    response = client.get(reverse("meetings:attendance", args=[scene["meeting"].pk]))
    names = [row.display_name for row in response.context["sheet"]]
    assert names[0] == MEMBER_NAME
    assert len(names) == 3  # facilitator, member, peer moderator; not the pending person


def test_one_tap_marks_one_person_through_htmx(client, scene):
    meeting = scene["meeting"]
    member = scene["people"]["member"]
    log_in(client, scene["people"]["facilitator"])
    response = client.post(
        reverse("meetings:attendance", args=[meeting.pk]),
        {f"status-{member.pk}": "late"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Saved" in response.text
    assert "1 of 3 members marked" in response.text  # the counter is swapped in too
    assert Attendance.objects.get(meeting=meeting, user=member).status == "late"
    assert AttendanceChange.objects.filter(meeting=meeting, user=member).count() == 1


def test_whole_form_without_javascript_saves_only_what_changed(client, scene):
    meeting = scene["meeting"]
    member, moderator = scene["people"]["member"], scene["people"]["peer_moderator"]
    Attendance.objects.create(meeting=meeting, user=member, status="absent")
    log_in(client, scene["people"]["facilitator"])
    response = client.post(
        reverse("meetings:attendance", args=[meeting.pk]),
        {
            f"status-{member.pk}": "present",
            f"initial-{member.pk}": "present",  # the page was drawn before someone's tap
            f"status-{moderator.pk}": "excused",
            f"initial-{moderator.pk}": "",
        },
    )
    assert response.status_code == 302
    assert Attendance.objects.get(meeting=meeting, user=member).status == "absent"
    assert Attendance.objects.get(meeting=meeting, user=moderator).status == "excused"


def test_attendance_for_someone_outside_the_group_is_refused(client, scene):
    stranger = UserFactory()
    log_in(client, scene["people"]["facilitator"])
    response = client.post(
        reverse("meetings:attendance", args=[scene["meeting"].pk]),
        {f"status-{stranger.pk}": "present"},
        follow=True,
    )
    assert "not in this group" in response.text
    assert not Attendance.objects.filter(user=stranger).exists()


def test_locked_attendance_can_be_unlocked_by_a_coordinator_only(client, scene):
    old = make_meeting(scene["group"], starts_in=-timedelta(days=20))
    member = scene["people"]["member"]
    log_in(client, scene["people"]["facilitator"])
    response = client.post(
        reverse("meetings:attendance", args=[old.pk]),
        {f"status-{member.pk}": "present"},
        follow=True,
    )
    assert "locked 14 days" in response.text
    client.post(reverse("meetings:attendance_unlock", args=[old.pk]))
    old.refresh_from_db()
    assert old.attendance_unlocked_until is None

    log_in(client, scene["people"]["coordinator"])
    client.post(reverse("meetings:attendance_unlock", args=[old.pk]))
    client.post(reverse("meetings:attendance", args=[old.pk]), {f"status-{member.pk}": "present"})
    assert Attendance.objects.get(meeting=old, user=member).status == "present"


def test_my_meetings_lists_my_groups_meetings_with_my_answer(client, scene):
    log_in(client, scene["people"]["member"])
    elsewhere = make_meeting(SupportGroupFactory(name="Not Mine"))
    response = client.get(reverse("meetings:mine"))
    meetings = response.context["meetings"]
    assert [m.pk for m in meetings] == [scene["meeting"].pk]
    assert meetings[0].my_status == "confirmed"
    assert elsewhere.display_title not in response.text


def test_my_meetings_needs_login(client, scene):
    response = client.get(reverse("meetings:mine"))
    assert response.status_code == 302


def test_schedule_form_creates_a_monthly_second_tuesday_series(client, scene):
    log_in(client, scene["people"]["facilitator"])
    # The weekday and the week are chosen; the first date (a Wednesday 3 or more days
    # ahead) only says from when.
    three_days_ahead = timezone.localdate() + timedelta(days=3)
    first_wednesday = three_days_ahead + timedelta(days=(2 - three_days_ahead.weekday()) % 7)
    response = client.post(
        reverse("meetings:schedule", args=[scene["group"].slug]),
        {
            "title": "Monthly",
            "frequency": "monthly-weekday",
            "starts_on": first_wednesday.isoformat(),
            "start_time": "19:00",
            "duration_minutes": "90",
            "interval": "1",
            "week_of_month": "2",
            "weekday": "1",
            "ends": "never",
            "format": "online",
            "video_url": "https://video.example.org/monthly",
            "address_visibility": "members",
        },
    )
    assert response.status_code == 302
    starts = Meeting.objects.filter(title="Monthly").order_by("starts_at")
    assert starts.count() >= 5
    for meeting in starts:
        local = meeting.starts_at.astimezone(ZoneInfo("Europe/Rome"))
        assert local.weekday() == 1 and 8 <= local.day <= 14 and local.hour == 19


def test_schedule_form_explains_bad_input_and_writes_nothing(client, scene):
    log_in(client, scene["people"]["facilitator"])
    today = timezone.localdate()
    response = client.post(
        reverse("meetings:schedule", args=[scene["group"].slug]),
        {
            "frequency": "weekly",
            "starts_on": (today + timedelta(days=10)).isoformat(),
            "start_time": "19:00",
            "duration_minutes": "90",
            "interval": "1",
            "ends": "until",
            "until": (today + timedelta(days=2)).isoformat(),
            "format": "in-person",
            "address_visibility": "members",
        },
    )
    assert response.status_code == 200
    assert "before the first meeting" in response.text
    assert "Give the venue or the address" in response.text
    assert not Meeting.objects.filter(group=scene["group"]).exclude(pk=scene["meeting"].pk).exists()


@pytest.mark.parametrize("role", ROLES)
def test_add_to_calendar_file_carries_the_address_only_for_members(client, scene, role):
    import icalendar

    login(client, scene, role)
    response = client.get(reverse("meetings:ics", args=[scene["meeting"].pk]))
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    assert str(events[0]["UID"]).startswith(str(scene["meeting"].uid))
    text = response.content.decode()
    assert VIDEO_URL not in text
    assert (ADDRESS in text) == (role in SEES_PRIVATE)


def test_meeting_page_shows_the_groups_own_clock_time_to_a_viewer_elsewhere(client, scene):
    from datetime import UTC, datetime

    from django.utils.html import strip_tags

    group = scene["group"]
    start = datetime(2027, 1, 12, 18, 0, tzinfo=UTC)  # 19:00 in Rome, 13:00 in New York
    meeting = Meeting.objects.create(
        group=group,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="Europe/Rome",
        format=MeetingFormat.ONLINE,
        video_url=VIDEO_URL,
    )
    viewer = scene["people"]["member"]
    viewer.time_zone = "America/New_York"
    viewer.save()
    log_in(client, viewer)
    text = client.get(meeting.get_absolute_url()).text
    assert "13:00" in text
    assert "19:00–20:00 Rome time" in strip_tags(text)


def test_my_meetings_shows_twenty_at_a_time_soonest_first(client, scene):
    member = scene["people"]["member"]
    group = member.memberships.get().group
    for day in range(1, 26):
        make_meeting(group, starts_in=timedelta(days=day), title=f"Evening {day:02}")
    log_in(client, member)

    first = client.get(reverse("meetings:mine"))
    titles = [meeting.display_title for meeting in first.context["meetings"]]
    assert titles == ["Harbour Lights"] + [f"Evening {day:02}" for day in range(1, 20)]
    assert "Evening 19" in first.text and "Evening 20" not in first.text
    assert 'rel="next"' in first.text and "?page=2" in first.text

    second = client.get(reverse("meetings:mine"), {"page": 2})
    assert "Evening 20" in second.text and "Evening 25" in second.text
    assert "Evening 05" not in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text

    beyond = client.get(reverse("meetings:mine"), {"page": "nine"})
    assert beyond.status_code == 200
    assert beyond.context["page"].number == 1


def test_attendance_sheet_escapes_names_and_keeps_marks(client, scene):
    group = scene["people"]["member"].memberships.get().group
    meeting = make_meeting(group, starts_in=timedelta(minutes=-30))
    tricky = MembershipFactory(
        group=group, user=UserFactory(display_name='<b>Bold</b> "Quote"')
    ).user
    Attendance.objects.create(meeting=meeting, user=tricky, status="late")
    log_in(client, scene["people"]["facilitator"])

    response = client.get(reverse("meetings:attendance", args=[meeting.pk]))

    assert "<b>Bold</b>" not in response.text
    assert "&lt;b&gt;Bold&lt;/b&gt; &quot;Quote&quot;" in response.text
    late = f'id="att-{tricky.pk}-late" name="status-{tricky.pk}" value="late" checked'
    assert late in response.text
    assert f'name="initial-{tricky.pk}" value="late"' in response.text
