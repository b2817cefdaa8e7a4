"""Getting into a meeting and into a calendar: who gets the join button and when, what the
reminder carries, where the meeting is (with the town and a map), and the calendar buttons
that never hand a members-only detail to a third party."""

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from groups.models import VideoLinkPolicy
from members import notifications
from members.models import Notification, NotificationKind, NotificationPreferences
from sessions.models import Meeting, Rsvp
from sessions.notifications import reminder_slot
from sessions.templatetags.calendar_links import address_with_town, feed_links
from tests.auth import log_in
from tests.factories import SupportGroupFactory
from tests.groups.conftest import ROLES
from tests.meetings.factories import ADDRESS, VIDEO_URL, cast_around, hybrid_meeting

pytestmark = pytest.mark.django_db

TOWN = "Bologna"
JOIN_BUTTON = 'class="button button-join"'


def make_meeting(group, **extra) -> Meeting:
    return hybrid_meeting(group, **{"title": "Harbour Lights evening", **extra})


@pytest.fixture
def scene():
    group = SupportGroupFactory(name="Harbour Lights", city=TOWN)
    people = cast_around(group)
    return {"group": group, "people": people}


def login(client, scene, role):
    person = scene["people"][role]
    if person is not None:
        log_in(client, person)
    return person


MEMBERS_AND_STAFF = {"member", "peer_moderator", "facilitator", "coordinator"}


# --- The join button ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_two_days_ahead_only_the_groups_own_facilitator_has_the_link(client, scene, role):
    meeting = make_meeting(scene["group"], starts_in=timedelta(days=2))
    login(client, scene, role)
    page = client.get(meeting.get_absolute_url()).text
    own_staff = role == "facilitator"
    assert (VIDEO_URL in page) == own_staff
    assert (JOIN_BUTTON in page) == own_staff
    if role in MEMBERS_AND_STAFF - {"facilitator"}:
        assert "The link appears here an hour before the meeting starts." in page


@pytest.mark.parametrize("role", ROLES)
def test_in_the_hour_before_members_and_staff_get_the_join_button(client, scene, role):
    meeting = make_meeting(scene["group"], starts_in=timedelta(minutes=40))
    login(client, scene, role)
    page = client.get(meeting.get_absolute_url()).text
    allowed = role in MEMBERS_AND_STAFF
    assert (VIDEO_URL in page) == allowed
    assert (JOIN_BUTTON in page) == allowed
    if allowed:
        button = re.search(rf'<a {JOIN_BUTTON} href="([^"]+)"[^>]*>([^<]+)</a>', page)
        assert button.groups() == (VIDEO_URL, "Join the video call")
        # The button comes before the facts and the answer: the first thing on the page.
        assert page.index(JOIN_BUTTON) < page.index('<dl class="facts">')


def test_facilitator_without_the_second_factor_waits_like_a_member(client, scene):
    meeting = make_meeting(scene["group"], starts_in=timedelta(days=2))
    client.force_login(scene["people"]["facilitator"])  # password only
    page = client.get(meeting.get_absolute_url()).text
    assert VIDEO_URL not in page
    assert JOIN_BUTTON not in page


def test_cancelled_meeting_has_no_join_button_even_for_its_facilitator(client, scene):
    meeting = make_meeting(scene["group"], starts_in=timedelta(minutes=30), status="cancelled")
    login(client, scene, "facilitator")
    page = client.get(meeting.get_absolute_url()).text
    assert JOIN_BUTTON not in page


def test_my_meetings_has_the_join_button_when_the_link_is_open(client, scene):
    soon = make_meeting(scene["group"], starts_in=timedelta(minutes=30), title="Soon")
    later = make_meeting(scene["group"], starts_in=timedelta(days=3), title="Later")
    log_in(client, scene["people"]["member"])
    page = client.get(reverse("meetings:mine")).text
    assert page.count(JOIN_BUTTON) == 1
    assert f'href="{VIDEO_URL}"' in page
    assert page.index("Soon") < page.index(JOIN_BUTTON) < page.index("Later")
    assert soon.pk != later.pk


def test_my_meetings_shows_the_facilitator_their_groups_link_any_time(client, scene):
    make_meeting(scene["group"], starts_in=timedelta(days=3))
    log_in(client, scene["people"]["facilitator"])
    assert client.get(reverse("meetings:mine")).text.count(JOIN_BUTTON) == 1
    client.logout()
    client.force_login(scene["people"]["facilitator"])  # password only: like a member
    assert JOIN_BUTTON not in client.get(reverse("meetings:mine")).text


def test_my_meetings_follows_the_groups_always_setting(client, scene):
    scene["group"].video_link_policy = VideoLinkPolicy.ALWAYS
    scene["group"].save()
    make_meeting(scene["group"], starts_in=timedelta(days=3))
    log_in(client, scene["people"]["member"])
    assert JOIN_BUTTON in client.get(reverse("meetings:mine")).text


# --- The reminder carries the link when it is open as it leaves --------------------------


def reminder_row(meeting, person, lead: str) -> Notification:
    NotificationPreferences.objects.update_or_create(
        user=person, defaults={"reminder_hour_before": True}
    )
    return Notification.objects.create(
        recipient=person,
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=f"meeting:{meeting.pk}",
        slot=reminder_slot(lead, meeting.starts_at),
    )


def send(row: Notification) -> None:
    assert notifications.notification_send(notification_id=row.pk) == "sent"


def test_hour_before_reminder_carries_the_join_link(scene, mailoutbox):
    member = scene["people"]["member"]
    meeting = make_meeting(scene["group"], starts_in=timedelta(minutes=59))
    Rsvp.objects.create(meeting=meeting, user=member, response="going", status="confirmed")
    send(reminder_row(meeting, member, "hour-before"))
    [email] = mailoutbox
    assert f"Join the video call:\n{VIDEO_URL}" in email.body
    assert (
        f'<a href="{VIDEO_URL}"><strong>Join the video call</strong></a>'
        in (email.alternatives[0][0])
    )
    assert "The link to join is on the meeting page" not in email.body
    assert f"Community hall {ADDRESS}, {TOWN}" in email.body


def test_reminder_reads_the_link_when_it_is_sent(scene, mailoutbox):
    member = scene["people"]["member"]
    meeting = make_meeting(scene["group"], starts_in=timedelta(minutes=50))
    Rsvp.objects.create(meeting=meeting, user=member, response="going", status="confirmed")
    row = reminder_row(meeting, member, "hour-before")
    Meeting.objects.filter(pk=meeting.pk).update(video_url="https://video.example.org/new-room")
    send(row)
    [email] = mailoutbox
    assert "https://video.example.org/new-room" in email.body
    assert VIDEO_URL not in email.body


def test_day_before_reminder_has_no_link_while_it_is_closed(scene, mailoutbox):
    member = scene["people"]["member"]
    meeting = make_meeting(scene["group"], starts_in=timedelta(hours=20))
    Rsvp.objects.create(meeting=meeting, user=member, response="going", status="confirmed")
    send(reminder_row(meeting, member, "day-before"))
    [email] = mailoutbox
    assert VIDEO_URL not in email.body
    assert VIDEO_URL not in email.alternatives[0][0]
    assert "The link to join is on the meeting page from an hour before." in email.body


def test_day_before_reminder_has_the_link_when_the_group_shows_it_always(scene, mailoutbox):
    scene["group"].video_link_policy = VideoLinkPolicy.ALWAYS
    scene["group"].save()
    member = scene["people"]["member"]
    meeting = make_meeting(scene["group"], starts_in=timedelta(hours=20))
    Rsvp.objects.create(meeting=meeting, user=member, response="going", status="confirmed")
    send(reminder_row(meeting, member, "day-before"))
    [email] = mailoutbox
    assert f"Join the video call:\n{VIDEO_URL}" in email.body


# --- Where: the town and a map, for those who may see the address -------------------------


@pytest.mark.parametrize("role", ROLES)
def test_address_with_town_and_map_only_for_members_and_staff(client, scene, role):
    meeting = make_meeting(scene["group"], starts_in=timedelta(days=2))
    login(client, scene, role)
    page = client.get(meeting.get_absolute_url()).text
    maps = "https://www.openstreetmap.org/search?query=Via+Nascosta+7%2C+Bologna"
    if role in MEMBERS_AND_STAFF:
        assert f"{ADDRESS}, {TOWN}" in page
        assert f'<a href="{maps}" rel="noopener noreferrer">Open in maps</a>' in page
    else:
        assert ADDRESS not in page
        assert "openstreetmap" not in page
        assert "The address is shared with members." in page


def test_public_address_has_its_map_for_visitors(client, scene):
    meeting = make_meeting(scene["group"], starts_in=timedelta(days=2), address_visibility="public")
    page = client.get(meeting.get_absolute_url()).text
    assert f"{ADDRESS}, {TOWN}" in page
    assert "Open in maps" in page


@pytest.mark.parametrize(
    ("address", "town", "line"),
    [
        ("Via Roma 1", "Milano", "Via Roma 1, Milano"),
        ("Via Roma 1, 20121 Milano", "Milano", "Via Roma 1, 20121 Milano"),
        ("Via Roma 1, MILANO", "Milano", "Via Roma 1, MILANO"),
        ("Via Roma 1", "", "Via Roma 1"),
        ("", "Milano", "Milano"),
    ],
)
def test_town_is_added_once(address, town, line):
    assert address_with_town(address, town) == line


# --- Calendar buttons ---------------------------------------------------------------------


def calendar_links(page: str) -> dict[str, str]:
    found = dict(re.findall(r'<a class="button-secondary" href="([^"]+)"[^>]*>([^<]+)</a>', page))
    return {name: html.unescape(url) for url, name in found.items()}


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


@pytest.mark.parametrize("role", ["visitor", "outsider", "member", "facilitator", "coordinator"])
def test_meeting_calendar_buttons_carry_only_what_the_viewer_may_see(client, scene, role):
    meeting = make_meeting(scene["group"], starts_in=timedelta(minutes=30))
    login(client, scene, role)
    page = client.get(meeting.get_absolute_url()).text
    links = calendar_links(page)
    google, outlook = query_of(links["Google Calendar"]), query_of(links["Outlook"])
    assert links["Google Calendar"].startswith("https://calendar.google.com/calendar/render?")
    assert links["Outlook"].startswith("https://outlook.live.com/calendar/0/action/compose?")
    assert links["Apple"] == reverse("meetings:ics", args=[meeting.pk])
    start, end = meeting.starts_at, meeting.ends_at
    assert google["action"] == "TEMPLATE"
    assert google["text"] == outlook["subject"] == "Harbour Lights evening"
    assert google["dates"] == f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    assert (outlook["startdt"], outlook["enddt"]) == (
        f"{start:%Y-%m-%dT%H:%M:%SZ}",
        f"{end:%Y-%m-%dT%H:%M:%SZ}",
    )
    assert f"http://testserver{meeting.get_absolute_url()}" in google["details"]
    assert outlook["body"] == google["details"]
    sees_address = role in MEMBERS_AND_STAFF
    expected_place = f"Community hall, {ADDRESS}, {TOWN}" if sees_address else TOWN
    assert google["location"] == outlook["location"] == expected_place
    for url in (links["Google Calendar"], links["Outlook"]):
        assert VIDEO_URL not in url  # never handed to a third party
        assert "secret-room" not in url


def test_past_or_cancelled_meeting_has_no_calendar_buttons(client, scene):
    log_in(client, scene["people"]["member"])
    cancelled = make_meeting(scene["group"], starts_in=timedelta(days=1), status="cancelled")
    past = make_meeting(scene["group"], starts_in=timedelta(days=-2))
    for meeting in (cancelled, past):
        assert "calendar.google.com" not in client.get(meeting.get_absolute_url()).text


def test_feed_links_subscribe_each_app_to_the_same_address():
    feed = "https://peer.example.org/calendar/abc_DEF-123.ics"
    links = feed_links(feed_url=feed, name="My meetings")
    assert links["apple"] == "webcal://peer.example.org/calendar/abc_DEF-123.ics"
    assert query_of(links["google"]) == {"cid": links["apple"]}
    assert links["google"].startswith("https://calendar.google.com/calendar/render?cid=")
    assert query_of(links["outlook"]) == {"url": feed, "name": "My meetings"}
    assert links["outlook"].startswith("https://outlook.live.com/calendar/0/addfromweb?")


@pytest.mark.parametrize("role", ["visitor", "outsider", "member", "facilitator", "coordinator"])
def test_calendar_page_offers_the_apps_and_a_copy_button_to_the_person_only(client, scene, role):
    person = login(client, scene, role)
    response = client.get(reverse("meetings_feeds:calendar_settings"))
    if person is None:
        assert response.status_code == 302
        assert reverse("account_login") in response.url
        return
    assert response.status_code == 200
    page = response.text
    feed = re.search(r'<input id="calendar-url" type="url" value="([^"]+)" readonly', page)
    feed_url = feed.group(1)
    assert "/calendar/" in feed_url
    links = calendar_links(page)
    assert links["Apple"] == "webcal://" + feed_url.split("://", 1)[1]
    assert query_of(links["Google Calendar"]) == {"cid": links["Apple"]}
    assert query_of(links["Outlook"])["url"] == feed_url
    assert re.search(r'<button type="button"[^>]*data-copy-from="calendar-url"[^>]*hidden>', page)
    assert 'id="calendar-url-status" aria-live="polite"' in page
    assert '<script src="/static/js/copy.js" defer></script>' in page


def test_each_person_has_their_own_feed_address(client, scene):
    addresses = set()
    for role in ("member", "facilitator"):
        client.logout()
        login(client, scene, role)
        page = client.get(reverse("meetings_feeds:calendar_settings")).text
        addresses.add(re.search(r'id="calendar-url" type="url" value="([^"]+)"', page).group(1))
    assert len(addresses) == 2
