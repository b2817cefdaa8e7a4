"""Calendar feeds (iCalendar) and the Meeting Guide JSON feed for meeting finders."""

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from groups.models import Audience, GroupStatus, JoinPolicy, MembershipStatus, Topic, Visibility
from sessions import feeds, services
from sessions.models import (
    AddressVisibility,
    CalendarFeedToken,
    Meeting,
    MeetingFormat,
)
from sessions.recurrence import Frequency
from tests.auth import log_in
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import (
    NEW_YORK,
    ROME,
    SUNDAY,
    TUESDAY,
    MeetingFactory,
    local_today,
    meetings_of,
    series_for,
    weekday_on_or_after,
)

pytestmark = pytest.mark.django_db

# Strings only members may ever receive; the video link and dial-in reach nobody.
MEMBERS_ADDRESS = "Via Riservata 7"
MEMBERS_VENUE = "Sala Nascosta"
VIDEO_URL = "https://video.example.net/j/SECRETROOM"
DIAL_IN = "+39 02 5550 1234"
ONLINE_NOTES = "Passcode 424242"
NEVER_IN_A_FEED = [VIDEO_URL, "SECRETROOM", DIAL_IN, ONLINE_NOTES]

MEMBERS_ONLY_HYBRID = {
    "format": MeetingFormat.HYBRID,
    "venue_name": MEMBERS_VENUE,
    "address": f"{MEMBERS_ADDRESS}, 20121 Milano",
    "address_visibility": AddressVisibility.MEMBERS,
    "video_url": VIDEO_URL,
    "dial_in": DIAL_IN,
    "online_notes": ONLINE_NOTES,
    "access_notes": "Ring the bell marked 7",
}
PUBLIC_VENUE = {
    "format": MeetingFormat.IN_PERSON,
    "venue_name": "Casa del Quartiere",
    "address": "Via Pubblica 1, 20121 Milano",
    "address_visibility": AddressVisibility.PUBLIC,
    "step_free": True,
    "access_notes": "Lift to the second floor",
}
ONLINE_ONLY = {
    "format": MeetingFormat.ONLINE,
    "video_url": VIDEO_URL,
    "dial_in": DIAL_IN,
    "online_notes": ONLINE_NOTES,
}

HH_MM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
UPDATED = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def next_week(weekday: int = TUESDAY, zone: str = ROME) -> date:
    return weekday_on_or_after(local_today(zone) + timedelta(days=7), weekday)


def in_window(group) -> list[Meeting]:
    now = timezone.now()
    return list(
        Meeting.objects.filter(
            group=group,
            starts_at__gte=now - timedelta(days=30),
            starts_at__lt=now + services.HORIZON,
        )
    )


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events_by_uid(calendar: Calendar) -> dict:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def member_feed_url(user) -> str:
    token = services.calendar_token_for(user=user)
    return reverse("meetings_feeds:member_calendar", kwargs={"token": token.token})


def group_feed_url(group) -> str:
    return reverse("meetings_feeds:group_calendar", kwargs={"slug": group.slug})


def guide(client) -> list[dict]:
    response = client.get(reverse("meetings_feeds:meeting_guide"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


def guide_by_name(client) -> dict[str, dict]:
    return {entry["name"]: entry for entry in guide(client)}


def count_queries(client, url: str) -> int:
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def clocks_change_ahead(zone: str, *, forward: bool) -> date:
    """The first day, four weeks ahead or more, on which the clocks of `zone` go forward (or
    back): the UTC offset at noon differs from the day before's."""
    tz = ZoneInfo(zone)
    today = local_today(zone)
    for days in range(28, 28 + 366):
        day = today + timedelta(days=days)
        noon = datetime.combine(day, time(12), tzinfo=tz)
        shift = noon.utcoffset() - (noon - timedelta(days=1)).utcoffset()
        if shift and (shift > timedelta(0)) == forward:
            return day
    raise AssertionError(f"no daylight-saving change ahead in {zone}")


@pytest.fixture(params=["forward", "back"])
def clock_change(request, time_machine) -> date:
    """A day Rome's clocks go forward (or back), with the clock travelled ahead to three weeks
    before it: whatever day the suite runs on, the change is as near, in both directions."""
    change = clocks_change_ahead(ROME, forward=request.param == "forward")
    time_machine.move_to(datetime.combine(change - timedelta(days=21), time(10), tzinfo=UTC))
    return change


# ---------------------------------------------------------------- member feed


def test_member_feed_has_one_event_per_meeting_of_each_active_group(client, group, member):
    other_group = SupportGroupFactory(visibility=Visibility.UNLISTED)
    MembershipFactory(group=other_group, user=member)
    pending_group = SupportGroupFactory(name="Not yet joined")
    MembershipFactory(group=pending_group, user=member, status=MembershipStatus.PENDING)
    # Started five weeks ago: the feed keeps the last 30 days, not the week before.
    series_for(group, starts_on=local_today() - timedelta(days=35), place=PUBLIC_VENUE)
    series_for(other_group, starts_on=next_week(), frequency=Frequency.ONCE)
    series_for(pending_group, starts_on=next_week(), frequency=Frequency.ONCE)

    calendar = parse(client.get(member_feed_url(member)))

    expected = in_window(group) + in_window(other_group)
    assert Meeting.objects.filter(group=group).count() > len(in_window(group))  # 35 days ago
    assert set(events_by_uid(calendar)) == {f"{m.uid}@{feeds.UID_DOMAIN}" for m in expected}
    assert len(calendar.walk("VEVENT")) == len(expected)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == feeds.PRODID
    assert str(calendar["X-WR-CALNAME"])
    assert not any("RRULE" in event for event in calendar.walk("VEVENT"))


def test_every_event_carries_the_fields_calendar_apps_need(client, group, member):
    series = series_for(group, starts_on=next_week(), title="Tuesday circle")
    meeting = meetings_of(series)[0]

    event = events_by_uid(parse(client.get(member_feed_url(member))))[
        f"{meeting.uid}@{feeds.UID_DOMAIN}"
    ]

    assert str(event["SUMMARY"]) == "Tuesday circle"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTAMP"].dt == meeting.updated_at.replace(microsecond=0)
    assert event["LAST-MODIFIED"].dt == meeting.updated_at.replace(microsecond=0)
    assert str(event["URL"]).endswith(meeting.get_absolute_url())
    assert event["DTSTART"].dt == meeting.starts_at
    assert event["DTEND"].dt == meeting.ends_at


def test_times_keep_the_groups_wall_clock_across_daylight_saving(
    client, group, member, clock_change
):
    change = clock_change
    series_for(group, starts_on=weekday_on_or_after(change - timedelta(days=14), SUNDAY))
    offsets = {m.starts_at.astimezone(ZoneInfo(ROME)).utcoffset() for m in in_window(group)}
    assert len(offsets) == 2, "the series should straddle the clock change"

    calendar = parse(client.get(member_feed_url(member)))

    for event in calendar.walk("VEVENT"):
        assert event["DTSTART"].params["TZID"] == ROME
        assert event["DTSTART"].dt.tzinfo is not None
        assert (event["DTSTART"].dt.hour, event["DTSTART"].dt.minute) == (19, 0)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [ROME]
    assert {event["DTSTART"].dt.utcoffset() for event in calendar.walk("VEVENT")} == offsets


def test_uids_stay_the_same_across_regenerations_and_after_an_edit(client, group, member):
    series = series_for(group, starts_on=next_week(), count=4)
    url = member_feed_url(member)
    first = events_by_uid(parse(client.get(url)))
    assert events_by_uid(parse(client.get(url))).keys() == first.keys()
    moved = meetings_of(series)[1]
    uid = f"{moved.uid}@{feeds.UID_DOMAIN}"

    services.meeting_update(
        meeting_id=moved.pk,
        actor=CoordinatorFactory(),
        starts_on=moved.starts_at.astimezone(ZoneInfo(ROME)).date() + timedelta(days=1),
        start_time=time(18, 0),
        duration_minutes=60,
        title="",
        capacity=None,
        place={},
    )

    after = events_by_uid(parse(client.get(url)))
    assert after.keys() == first.keys()
    assert int(after[uid]["SEQUENCE"]) > int(first[uid]["SEQUENCE"])
    assert after[uid]["DTSTART"].dt != first[uid]["DTSTART"].dt
    assert (after[uid]["DTSTART"].dt.hour, after[uid]["DTSTART"].dt.minute) == (18, 0)


def test_a_cancelled_meeting_stays_in_the_feed_as_cancelled(client, group, member):
    series = series_for(group, starts_on=next_week(), count=3)
    cancelled = meetings_of(series)[0]
    uid = f"{cancelled.uid}@{feeds.UID_DOMAIN}"
    url = member_feed_url(member)
    before = events_by_uid(parse(client.get(url)))[uid]

    services.meeting_cancel(
        meeting_id=cancelled.pk, actor=CoordinatorFactory(), reason="Venue flooded"
    )

    events = events_by_uid(parse(client.get(url)))
    assert len(events) == 3
    assert str(events[uid]["STATUS"]) == "CANCELLED"
    assert int(events[uid]["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert "Venue flooded" in str(events[uid]["DESCRIPTION"])
    others = [event for key, event in events.items() if key != uid]
    assert {str(event["STATUS"]) for event in others} == {"CONFIRMED"}


def test_member_feed_shows_the_address_but_never_the_video_link(client, group, member):
    series_for(group, starts_on=next_week(), count=2, place=MEMBERS_ONLY_HYBRID)

    response = client.get(member_feed_url(member))
    calendar = parse(response)

    body = response.content.decode()
    for secret in NEVER_IN_A_FEED:
        assert secret not in body
    for event in calendar.walk("VEVENT"):
        assert MEMBERS_ADDRESS in str(event["LOCATION"])
        assert MEMBERS_VENUE in str(event["LOCATION"])


def test_member_feed_needs_no_login_and_reads_nobody_elses_meetings(client, group, member):
    series_for(group, starts_on=next_week(), frequency=Frequency.ONCE, title="Our meeting")
    outsider = UserFactory()
    elsewhere = SupportGroupFactory()
    MembershipFactory(group=elsewhere, user=outsider)
    series_for(elsewhere, starts_on=next_week(), frequency=Frequency.ONCE, title="Their meeting")

    mine = client.get(member_feed_url(member))
    theirs = client.get(member_feed_url(outsider))

    assert "Our meeting" in mine.content.decode()
    assert "Their meeting" not in mine.content.decode()
    assert "Our meeting" not in theirs.content.decode()


@pytest.mark.parametrize(
    "token",
    ["", "A" * 43, "not-a-token"],
    ids=["empty-looking", "unknown", "guessed"],
)
def test_unknown_tokens_get_404(client, member, token):
    services.calendar_token_for(user=member)
    url = f"/calendar/{token}.ics"
    assert client.get(url).status_code == 404


def test_an_old_or_tampered_token_gets_404_after_regeneration(client, group, member):
    series_for(group, starts_on=next_week(), frequency=Frequency.ONCE)
    old_url = member_feed_url(member)
    old = CalendarFeedToken.objects.get(user=member).token
    assert client.get(old_url).status_code == 200

    services.calendar_token_regenerate(user=member)
    new = CalendarFeedToken.objects.get(user=member).token

    assert new != old
    assert client.get(old_url).status_code == 404
    tampered = new[:-1] + ("A" if new[-1] != "A" else "B")
    assert client.get(f"/calendar/{tampered}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_a_deactivated_persons_feed_is_gone(client, member):
    url = member_feed_url(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert client.get(url).status_code == 404


# ---------------------------------------------------------------- group feed


def test_group_feed_hides_a_members_only_address_and_every_video_link(client, group):
    series_for(group, starts_on=next_week(), count=3, place=MEMBERS_ONLY_HYBRID)

    response = client.get(group_feed_url(group))
    calendar = parse(response)

    body = response.content.decode()
    for secret in [*NEVER_IN_A_FEED, MEMBERS_ADDRESS, MEMBERS_VENUE, "Ring the bell"]:
        assert secret not in body
    assert len(calendar.walk("VEVENT")) == 3
    assert all("LOCATION" not in event for event in calendar.walk("VEVENT"))
    assert str(calendar["X-WR-CALNAME"]) == group.name


def test_group_feed_shows_a_public_address(client, group):
    series_for(group, starts_on=next_week(), count=2, place=PUBLIC_VENUE)

    calendar = parse(client.get(group_feed_url(group)))

    for event in calendar.walk("VEVENT"):
        assert "Via Pubblica 1" in str(event["LOCATION"])
        assert "Casa del Quartiere" in str(event["LOCATION"])


def test_group_feed_lists_cancellations(client, group):
    series = series_for(group, starts_on=next_week(), count=2)
    cancelled = meetings_of(series)[0]
    services.meeting_cancel(
        meeting_id=cancelled.pk, actor=CoordinatorFactory(), reason="Private reason"
    )

    response = client.get(group_feed_url(group))
    event = events_by_uid(parse(response))[f"{cancelled.uid}@{feeds.UID_DOMAIN}"]

    assert str(event["STATUS"]) == "CANCELLED"
    assert "Private reason" not in response.content.decode()


@pytest.mark.parametrize(
    ("visibility", "status", "expected"),
    [
        (Visibility.LISTED, GroupStatus.ACTIVE, 200),
        (Visibility.LISTED, GroupStatus.PAUSED, 200),
        (Visibility.LISTED, GroupStatus.CLOSED, 404),
        (Visibility.UNLISTED, GroupStatus.ACTIVE, 404),
    ],
)
def test_group_feed_exists_only_for_listed_groups_that_are_not_closed(
    client, visibility, status, expected
):
    group = SupportGroupFactory(visibility=visibility, status=status)
    series_for(group, starts_on=next_week(), frequency=Frequency.ONCE, title="Secret gathering")

    response = client.get(group_feed_url(group))

    assert response.status_code == expected
    if expected == 404:
        assert b"Secret gathering" not in response.content


def test_group_feed_path_wins_over_the_group_pages(client, group):
    response = client.get(f"/groups/{group.slug}/calendar.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"


# ---------------------------------------------------------------- Meeting Guide

REQUIRED = {
    "name": str,
    "slug": str,
    "day": int,
    "time": str,
    "end_time": str,
    "timezone": str,
    "types": list,
    "notes": str,
    "formatted_address": str,
    "approximate": str,
    "url": str,
    "updated": str,
    "group": str,
}


def test_meeting_guide_entries_have_every_field_in_the_right_shape(client, group):
    series_for(group, starts_on=next_week(), title="Weekly circle", place=PUBLIC_VENUE)
    series_for(group, starts_on=next_week(), title="Online circle", place=ONLINE_ONLY)
    MeetingFactory(group=group, title="Lone meeting")

    entries = guide(client)

    assert len(entries) == 3
    assert len({entry["slug"] for entry in entries}) == 3
    for entry in entries:
        for field, kind in REQUIRED.items():
            assert isinstance(entry[field], kind), field
        assert 0 <= entry["day"] <= 6
        assert HH_MM.match(entry["time"]) and HH_MM.match(entry["end_time"])
        assert UPDATED.match(entry["updated"])
        assert len(entry["slug"]) <= 64 and re.match(r"^[a-z0-9-]+$", entry["slug"])
        assert entry["url"].startswith("http")
        assert entry["timezone"] == ROME
        assert all(isinstance(code, str) for code in entry["types"])
        assert "conference_url" not in entry and "conference_phone" not in entry
    weekly = next(entry for entry in entries if entry["name"] == "Weekly circle")
    assert weekly["location"] == "Casa del Quartiere"
    assert weekly["formatted_address"].startswith("Via Pubblica 1")
    assert weekly["approximate"] == "no"
    assert (weekly["time"], weekly["end_time"]) == ("19:00", "20:30")
    assert weekly["day"] == 2  # Tuesday


def test_meeting_guide_counts_days_from_sunday_in_the_groups_time_zone(client):
    new_york = SupportGroupFactory(name="Brooklyn Friends", time_zone=NEW_YORK)
    # 21:30 on Sunday in New York is already Monday in UTC.
    series_for(new_york, starts_on=next_week(SUNDAY, NEW_YORK), start_time=time(21, 30))

    entry = guide(client)[0]

    assert entry["day"] == 0
    assert (entry["time"], entry["end_time"]) == ("21:30", "23:00")
    assert entry["timezone"] == NEW_YORK


def test_meeting_guide_times_are_local_on_both_sides_of_a_clock_change(client, group, clock_change):
    change = clock_change
    before = weekday_on_or_after(change - timedelta(days=7), SUNDAY)
    after = weekday_on_or_after(change + timedelta(days=1), SUNDAY)
    for day, title in ((before, "Before the change"), (after, "After the change")):
        series_for(group, starts_on=day, frequency=Frequency.ONCE, title=title)
    utc_times = {m.starts_at.astimezone(UTC).hour for m in Meeting.objects.filter(group=group)}
    assert len(utc_times) == 2

    entries = guide_by_name(client)

    for title in ("Before the change", "After the change"):
        assert entries[title]["day"] == 0
        assert (entries[title]["time"], entries[title]["end_time"]) == ("19:00", "20:30")


def test_meeting_guide_never_shows_a_private_address_or_a_video_link(client, group):
    series_for(group, starts_on=next_week(), title="Hybrid circle", place=MEMBERS_ONLY_HYBRID)
    series_for(group, starts_on=next_week(), title="Online circle", place=ONLINE_ONLY)

    response = client.get(reverse("meetings_feeds:meeting_guide"))
    entries = guide_by_name(client)

    body = response.content.decode()
    for secret in [*NEVER_IN_A_FEED, MEMBERS_ADDRESS, MEMBERS_VENUE, "Ring the bell"]:
        assert secret not in body
    hybrid = entries["Hybrid circle"]
    assert "location" not in hybrid
    assert hybrid["approximate"] == "yes"
    assert hybrid["formatted_address"] == group.area
    assert "address is shared with members" in hybrid["notes"]
    assert feeds.ONLINE in hybrid["types"] and feeds.IN_PERSON in hybrid["types"]
    online = entries["Online circle"]
    assert feeds.ONLINE in online["types"] and feeds.IN_PERSON not in online["types"]
    assert "video link" in online["notes"]


@pytest.mark.parametrize(
    ("visibility", "status", "listed"),
    [
        (Visibility.LISTED, GroupStatus.ACTIVE, True),
        (Visibility.LISTED, GroupStatus.PAUSED, False),
        (Visibility.LISTED, GroupStatus.CLOSED, False),
        (Visibility.UNLISTED, GroupStatus.ACTIVE, False),
    ],
)
def test_meeting_guide_lists_only_listed_active_groups(client, visibility, status, listed):
    group = SupportGroupFactory(name="Checked group", visibility=visibility, status=status)
    series_for(group, starts_on=next_week())
    MeetingFactory(group=group, title="Lone meeting")

    response = client.get(reverse("meetings_feeds:meeting_guide"))

    assert ("Checked group" in response.content.decode()) is listed
    assert len(json.loads(response.content)) == (2 if listed else 0)


def test_meeting_guide_drops_series_with_nothing_ahead(client, group):
    ended = series_for(group, starts_on=next_week(), title="All cancelled", count=2)
    services.meeting_cancel(
        meeting_id=meetings_of(ended)[0].pk, actor=CoordinatorFactory(), scope=services.Scope.ALL
    )
    MeetingFactory(group=group, title="Held last week", starts_at=timezone.now() - timedelta(7))
    series_for(group, starts_on=next_week(), title="Still running")

    assert set(guide_by_name(client)) == {"Still running"}


def test_meeting_guide_states_every_rhythm_other_than_weekly(client, group):
    tuesday = next_week(TUESDAY)
    series_for(group, starts_on=tuesday, title="Weekly")
    series_for(group, starts_on=tuesday, title="Fortnightly", interval=2)
    series_for(group, starts_on=tuesday, title="Every third week", interval=3)
    next_month = (tuesday.replace(day=28) + timedelta(days=4)).replace(day=1)
    second_tuesday = weekday_on_or_after(next_month, TUESDAY) + timedelta(days=7)
    series_for(
        group,
        starts_on=second_tuesday,
        title="Second Tuesday",
        frequency=Frequency.MONTHLY_WEEKDAY,
        week_of_month=2,
    )
    fifteenth = next_month.replace(day=15)
    series_for(group, starts_on=fifteenth, title="Fifteenth", frequency=Frequency.MONTHLY_DATE)
    once = series_for(group, starts_on=tuesday, title="Just once", frequency=Frequency.ONCE)
    ending = series_for(group, starts_on=tuesday, title="Ending", count=3)

    entries = guide_by_name(client)

    assert "Meets" not in entries["Weekly"]["notes"]
    assert "every other week" in entries["Fortnightly"]["notes"]
    assert "every 3 weeks" in entries["Every third week"]["notes"]
    assert "second Tuesday of every month" in entries["Second Tuesday"]["notes"]
    assert entries["Second Tuesday"]["day"] == 2
    assert "day 15 of every month" in entries["Fifteenth"]["notes"]
    assert "day of the week changes" in entries["Fifteenth"]["notes"]
    assert entries["Fifteenth"]["day"] == (fifteenth.weekday() + 1) % 7
    assert "Meets once" in entries["Just once"]["notes"]
    assert str(tuesday.year) in entries["Just once"]["notes"]
    assert entries["Just once"]["slug"].endswith(f"-{once.pk}")
    last_day = meetings_of(ending)[-1].starts_at.astimezone(ZoneInfo(ROME))
    assert "The last meeting is on" in entries["Ending"]["notes"]
    assert f"{last_day.day} {last_day:%B %Y}" in entries["Ending"]["notes"]


def test_meeting_guide_types_describe_the_group(client):
    open_group = SupportGroupFactory(
        name="Open group",
        join_policy=JoinPolicy.OPEN,
        language="it",
        topic=Topic.LONG_COVID,
        audience=Audience.BOTH,
    )
    closed_group = SupportGroupFactory(
        name="Closed group",
        join_policy=JoinPolicy.APPROVAL,
        language="en",
        audience=Audience.CAREGIVERS,
    )
    series_for(open_group, starts_on=next_week(), place=PUBLIC_VENUE)
    series_for(closed_group, starts_on=next_week(), place=ONLINE_ONLY)

    entries = {entry["group"]: entry for entry in guide(client)}

    assert set(entries["Open group"]["types"]) == {
        "O",
        feeds.IN_PERSON,
        "X",
        "ITA",
        "PS-TOPIC-LONG-COVID",
        "PS-PATIENTS",
        "PS-CAREGIVERS",
    }
    assert set(entries["Closed group"]["types"]) == {
        "C",
        "ONL",
        "EN",
        "PS-TOPIC-DIABETES",
        "PS-CAREGIVERS",
    }
    emitted = {code for entry in entries.values() for code in entry["types"]}
    assert emitted <= set(feeds.MEETING_GUIDE_TYPES)


def test_every_type_code_is_documented():
    with open("docs/meeting-guide.md", encoding="utf-8") as handle:
        documented = set(re.findall(r"`([A-Z][A-Z0-9-]*)`", handle.read()))
    assert set(feeds.MEETING_GUIDE_TYPES) <= documented


# ---------------------------------------------------------------- query budgets


def add_one_off_meetings(group, count: int, first_day: int) -> None:
    for offset in range(first_day, first_day + count):
        series_for(
            group,
            starts_on=local_today() + timedelta(days=offset),
            frequency=Frequency.ONCE,
            place=MEMBERS_ONLY_HYBRID,
        )


def test_member_feed_queries_do_not_grow_with_meetings(client, group, member):
    add_one_off_meetings(group, 5, 1)
    url = member_feed_url(member)
    small = count_queries(client, url)
    for _number in range(3):
        another = SupportGroupFactory()
        MembershipFactory(group=another, user=member)
        add_one_off_meetings(another, 15, 1)
    assert len(parse(client.get(url)).walk("VEVENT")) == 50
    assert count_queries(client, url) == small


def test_group_feed_queries_do_not_grow_with_meetings(client, group):
    add_one_off_meetings(group, 5, 1)
    url = group_feed_url(group)
    small = count_queries(client, url)
    add_one_off_meetings(group, 45, 6)
    assert len(parse(client.get(url)).walk("VEVENT")) == 50
    assert count_queries(client, url) == small


def test_meeting_guide_queries_do_not_grow_with_meetings(client, group):
    def add(listings: int) -> None:
        """Series of each kind of place and rhythm, and every fifth listing a lone meeting."""
        for number in range(listings):
            other = SupportGroupFactory()
            if number % 5 == 4:
                MeetingFactory(group=other)
                continue
            place = (PUBLIC_VENUE, MEMBERS_ONLY_HYBRID, ONLINE_ONLY)[number % 3]
            series_for(other, starts_on=next_week(), place=place, interval=1 + number % 2)

    add(5)
    url = reverse("meetings_feeds:meeting_guide")
    small = count_queries(client, url)
    add(45)
    assert len(guide(client)) == 50
    assert count_queries(client, url) == small


# ---------------------------------------------------------------- account page

CALENDAR_PAGE = "meetings_feeds:calendar_settings"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("visitor", 302), ("outsider", 200), ("member", 200)],
)
def test_calendar_page_shows_each_person_only_their_own_address(client, group, role, expected):
    member = MembershipFactory(group=group).user
    others = services.calendar_token_for(user=UserFactory()).token
    person = {"visitor": None, "outsider": UserFactory(), "member": member}[role]
    if person is not None:
        log_in(client, person)

    response = client.get(reverse(CALENDAR_PAGE))

    assert response.status_code == expected
    assert others not in response.content.decode()
    if person is None:
        assert reverse("account_login") in response["Location"]
        return
    own = CalendarFeedToken.objects.get(user=person).token
    body = response.content.decode()
    assert f"/calendar/{own}.ics" in body
    assert '<label for="calendar-url">' in body
    assert 'id="calendar-url"' in body and "readonly" in body
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_calendar_page_keeps_the_address_between_visits(client, member):
    log_in(client, member)
    client.get(reverse(CALENDAR_PAGE))
    first = CalendarFeedToken.objects.get(user=member).token
    client.get(reverse(CALENDAR_PAGE))
    assert CalendarFeedToken.objects.get(user=member).token == first


def test_getting_a_new_address_retires_the_old_one(client, group, member):
    log_in(client, member)
    client.get(reverse(CALENDAR_PAGE))
    old = CalendarFeedToken.objects.get(user=member).token

    response = client.post(reverse(CALENDAR_PAGE), follow=True)

    new = CalendarFeedToken.objects.get(user=member).token
    assert new != old
    assert f"/calendar/{new}.ics" in response.content.decode()
    assert f"/calendar/{old}.ics" not in response.content.decode()
    client.logout()
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200


def test_a_visitor_cannot_reset_anyones_address(client, member):
    token = services.calendar_token_for(user=member).token
    response = client.post(reverse(CALENDAR_PAGE))
    assert response.status_code == 302
    assert CalendarFeedToken.objects.get(user=member).token == token
