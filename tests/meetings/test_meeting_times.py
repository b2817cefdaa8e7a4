"""Times where the meeting is: in-person meetings on the place's clock, online on the viewer's.

The Brooklyn group meets on Tuesdays at 19:00 New York time, which is already Wednesday
in Rome (01:00, or 00:00 in the weeks when only America has changed its clocks): every
expected string is worked out from the zones, never written as a fixed hour, and the
meeting is always a Tuesday at 19:00 on the New York clock at least a week ahead.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import strip_tags

from groups.models import Format, Role
from members import notifications
from members.models import Notification, NotificationKind
from sessions.models import MeetingFormat, Rsvp, RsvpStatus
from sessions.notifications import reminder_slot
from sessions.selectors import upcoming_for_group
from sessions.templatetags.meeting_time import zone_place
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import (
    NEW_YORK,
    ROME,
    TUESDAY,
    MeetingFactory,
    local_today,
    weekday_on_or_after,
)

NY = ZoneInfo(NEW_YORK)
ROME_ZONE = ZoneInfo(ROME)
LENGTH = timedelta(minutes=90)
IT_WEEKDAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
IT_MONTHS = (
    *("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno"),
    *("luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"),
)


def next_tuesday_evening() -> datetime:
    """A Tuesday at 19:00 in New York, a week or more from today (aware, in New York)."""
    day = weekday_on_or_after(local_today(NEW_YORK) + timedelta(days=7), TUESDAY)
    return datetime.combine(day, time(19, 0), tzinfo=NY)


def day(moment: datetime, *, year: bool = False) -> str:
    text = f"{moment:%A} {moment.day} {moment:%B}"
    return f"{text} {moment.year}" if year else text


def hm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def page_text(response) -> str:
    assert response.status_code == 200
    return " ".join(strip_tags(response.content.decode()).split())


def render_when(meeting, viewer_zone: str, language: str = "en", args: str = "") -> str:
    template = Template("{% load meeting_time %}{% meeting_when meeting " + args + " %}")
    with timezone.override(ZoneInfo(viewer_zone)), translation.override(language):
        return template.render(Context({"meeting": meeting}))


def row(start: datetime, meeting_format: str, zone: str = NEW_YORK) -> SimpleNamespace:
    """Just the fields the tag reads: any row with them will do (the model, a dataclass)."""
    return SimpleNamespace(
        starts_at=start, ends_at=start + LENGTH, time_zone=zone, format=meeting_format
    )


@pytest.fixture
def brooklyn(db):
    return SupportGroupFactory(
        name="Brooklyn Caregivers",
        city="Brooklyn",
        region="NY",
        country="US",
        time_zone=NEW_YORK,
        format=Format.IN_PERSON,
    )


@pytest.fixture
def brooklyn_meeting(brooklyn):
    start = next_tuesday_evening()
    return MeetingFactory(
        group=brooklyn,
        starts_at=start.astimezone(UTC),
        ends_at=(start + LENGTH).astimezone(UTC),
        format=MeetingFormat.IN_PERSON,
        venue_name="Library",
        address="1 Main St",
    )


@pytest.fixture
def online_group(db):
    return SupportGroupFactory(
        name="Harbour Lights Online", time_zone=NEW_YORK, format=Format.ONLINE, country="US"
    )


@pytest.fixture
def online_meeting(online_group):
    start = next_tuesday_evening()
    return MeetingFactory(
        group=online_group,
        starts_at=start.astimezone(UTC),
        ends_at=(start + LENGTH).astimezone(UTC),
        format=MeetingFormat.ONLINE,
        video_url="https://video.example.org/room",
    )


# --- The tag -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "place"),
    [
        ("America/New_York", "New York"),
        ("Europe/Rome", "Rome"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("Asia/Ho_Chi_Minh", "Ho Chi Minh"),
        ("UTC", "UTC"),
    ],
)
def test_a_time_zone_is_named_after_its_city(zone, place):
    with translation.override("en"):
        assert zone_place(zone) == place


@pytest.mark.parametrize("meeting_format", [MeetingFormat.IN_PERSON, MeetingFormat.HYBRID])
def test_a_meeting_with_a_place_is_told_on_its_clock_with_the_viewers_beside_it(meeting_format):
    start = next_tuesday_evening()
    rome = start.astimezone(ROME_ZONE)
    rome_end = (start + LENGTH).astimezone(ROME_ZONE)
    assert rome.date() == start.date() + timedelta(days=1)  # already Wednesday in Rome
    text = strip_tags(render_when(row(start, meeting_format), ROME))
    assert text == (
        f"{day(start, year=True)}, 19:00–20:30 New York time "
        f"({day(rome, year=rome.year != start.year)}, {hm(rome)}–{hm(rome_end)} your time)"
    )


def test_the_html_carries_the_instant_and_keeps_each_time_range_on_one_line():
    start = next_tuesday_evening()
    html = render_when(row(start, MeetingFormat.IN_PERSON), ROME)
    assert f'<time datetime="{start.isoformat()}">' in html
    assert html.count('<span class="when-time">') == 2
    assert '<span class="when-other">(' in html


def test_a_viewer_in_the_meetings_own_zone_sees_one_time():
    start = next_tuesday_evening()
    text = strip_tags(render_when(row(start, MeetingFormat.IN_PERSON), NEW_YORK))
    assert text == f"{day(start, year=True)}, 19:00–20:30 New York time"


def test_an_online_meeting_is_told_on_the_viewers_clock_with_the_groups_beside_it():
    start = next_tuesday_evening()
    rome = start.astimezone(ROME_ZONE)
    rome_end = (start + LENGTH).astimezone(ROME_ZONE)
    text = strip_tags(render_when(row(start, MeetingFormat.ONLINE), ROME))
    assert text == (
        f"{day(rome, year=True)}, {hm(rome)}–{hm(rome_end)} your time "
        f"({day(start, year=rome.year != start.year)}, 19:00–20:30 New York time)"
    )


def test_an_online_meeting_in_the_viewers_own_zone_needs_no_zone_named():
    start = next_tuesday_evening()
    text = strip_tags(render_when(row(start, MeetingFormat.ONLINE), NEW_YORK))
    assert text == f"{day(start, year=True)}, 19:00–20:30"


def test_the_second_time_says_no_date_when_it_is_the_same_day():
    # 10:00 in New York is the afternoon of the same day in Rome.
    start = next_tuesday_evening().replace(hour=10)
    rome = start.astimezone(ROME_ZONE)
    text = strip_tags(render_when(row(start, MeetingFormat.IN_PERSON), ROME))
    assert text.endswith(f"10:00–11:30 New York time ({hm(rome)}–{hm(rome + LENGTH)} your time)")


def test_a_date_that_changes_across_new_year_carries_its_year():
    new_years_eve = date(local_today(NEW_YORK).year + 1, 12, 31)
    start = datetime.combine(new_years_eve, time(20, 0), tzinfo=NY)
    rome = start.astimezone(ROME_ZONE)
    assert rome.year == start.year + 1
    text = strip_tags(render_when(row(start, MeetingFormat.IN_PERSON), ROME))
    assert text == (
        f"{day(start, year=True)}, 20:00–21:30 New York time "
        f"({day(rome, year=True)}, {hm(rome)}–{hm(rome + LENGTH)} your time)"
    )


def test_plain_text_for_emails_has_no_markup():
    start = next_tuesday_evening()
    text = render_when(row(start, MeetingFormat.IN_PERSON), ROME, args="plain=True")
    assert "<" not in text and text.startswith(f"{day(start, year=True)}, 19:00–20:30")


def test_italian_dates_are_in_lower_case_as_written_in_a_sentence():
    start = next_tuesday_evening()
    rome = start.astimezone(ROME_ZONE)
    text = strip_tags(render_when(row(start, MeetingFormat.IN_PERSON), ROME, language="it"))
    tuesday = f"martedì {start.day} {IT_MONTHS[start.month - 1]} {start.year}, 19:00–20:30"
    wednesday = f"({IT_WEEKDAYS[rome.weekday()]} {rome.day} {IT_MONTHS[rome.month - 1]}"
    assert text.startswith(tuesday)
    assert wednesday in text


def test_a_row_without_a_time_zone_is_told_on_the_viewers_clock_alone():
    start = next_tuesday_evening()
    rome = start.astimezone(ROME_ZONE)
    meeting = SimpleNamespace(starts_at=start, ends_at=start + LENGTH, format="in-person")
    text = strip_tags(render_when(meeting, ROME))
    assert text == f"{day(rome, year=True)}, {hm(rome)}–{hm(rome + LENGTH)}"


def test_the_tag_reads_no_relation_so_a_list_of_meetings_costs_no_query(
    brooklyn, brooklyn_meeting, django_assert_num_queries
):
    meetings = upcoming_for_group(brooklyn)  # no select_related("group")
    template = Template(
        "{% load meeting_time %}{% for m in meetings %}{% meeting_when m %}{% endfor %}"
    )
    with django_assert_num_queries(0), timezone.override(ROME_ZONE):
        text = template.render(Context({"meetings": meetings}))
    assert "New York time" in text


# --- Pages -------------------------------------------------------------------------------


def test_visitor_in_rome_reads_the_brooklyn_groups_time_in_new_york_and_their_own(
    client, brooklyn, brooklyn_meeting
):
    start = brooklyn_meeting.starts_at.astimezone(NY)
    rome = brooklyn_meeting.starts_at.astimezone(ROME_ZONE)
    rome_end = brooklyn_meeting.ends_at.astimezone(ROME_ZONE)
    other_year = rome.year != start.year

    directory = page_text(client.get(reverse("groups:directory")))
    assert (
        f"Next meeting: {day(start)}, 19:00 New York time ({day(rome)}, {hm(rome)} your time)"
    ) in directory

    group_page = page_text(client.get(brooklyn.get_absolute_url()))
    assert (
        f"Next meeting: {day(start, year=True)}, 19:00 New York time "
        f"({day(rome, year=other_year)}, {hm(rome)} your time)"
    ) in group_page

    meeting_page = page_text(client.get(brooklyn_meeting.get_absolute_url()))
    assert (
        f"{day(start, year=True)}, 19:00–20:30 New York time "
        f"({day(rome, year=other_year)}, {hm(rome)}–{hm(rome_end)} your time)"
    ) in meeting_page


def test_member_in_new_york_sees_the_new_york_time_alone(client, brooklyn, brooklyn_meeting):
    member = MembershipFactory(group=brooklyn, user=UserFactory(time_zone=NEW_YORK)).user
    client.force_login(member)
    start = brooklyn_meeting.starts_at.astimezone(NY)
    when = f"{day(start, year=True)}, 19:00–20:30 New York time"

    directory = page_text(client.get(reverse("groups:directory")))
    assert f"Next meeting: {day(start)}, 19:00 New York time" in directory
    group_page = page_text(client.get(brooklyn.get_absolute_url()))
    assert when in group_page
    meeting_page = page_text(client.get(brooklyn_meeting.get_absolute_url()))
    assert when in meeting_page
    for text in (directory, group_page, meeting_page):
        assert "your time" not in text


def test_online_group_viewed_from_rome_leads_with_the_viewers_time(
    client, online_group, online_meeting
):
    start = online_meeting.starts_at.astimezone(NY)
    rome = online_meeting.starts_at.astimezone(ROME_ZONE)
    rome_end = online_meeting.ends_at.astimezone(ROME_ZONE)
    other_year = rome.year != start.year

    directory = page_text(client.get(reverse("groups:directory")))
    assert (
        f"Next meeting: {day(rome)}, {hm(rome)} your time ({day(start)}, 19:00 New York time)"
    ) in directory
    meeting_page = page_text(client.get(online_meeting.get_absolute_url()))
    assert (
        f"{day(rome, year=True)}, {hm(rome)}–{hm(rome_end)} your time "
        f"({day(start, year=other_year)}, 19:00–20:30 New York time)"
    ) in meeting_page


def test_a_member_in_rome_sees_both_days_in_the_groups_meeting_list(
    client, brooklyn, brooklyn_meeting
):
    member = MembershipFactory(group=brooklyn).user  # Rome, the factory's zone
    client.force_login(member)
    start = brooklyn_meeting.starts_at.astimezone(NY)
    rome = brooklyn_meeting.starts_at.astimezone(ROME_ZONE)
    group_page = page_text(client.get(brooklyn.get_absolute_url()))
    assert re.search(
        rf"{day(start, year=True)}, 19:00–20:30 New York time \({day(rome)}.*? your time\)",
        group_page,
    )


def test_my_meetings_tells_an_in_person_meeting_on_its_own_clock(
    client, brooklyn, brooklyn_meeting
):
    member = MembershipFactory(group=brooklyn).user  # in Rome
    client.force_login(member)
    start = brooklyn_meeting.starts_at.astimezone(NY)
    text = page_text(client.get(reverse("meetings:mine")))
    assert f"{day(start, year=True)}, 19:00–20:30 New York time (" in text


# --- Emails ------------------------------------------------------------------------------


def test_reminder_to_a_member_in_rome_tells_new_york_time_and_theirs(
    brooklyn, brooklyn_meeting, mailoutbox
):
    person = MembershipFactory(group=brooklyn, user=UserFactory(display_name="Ada")).user
    Rsvp.objects.create(
        meeting=brooklyn_meeting, user=person, response="going", status=RsvpStatus.CONFIRMED
    )
    row = Notification.objects.create(
        recipient=person,
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=f"meeting:{brooklyn_meeting.pk}",
        slot=reminder_slot("day-before", brooklyn_meeting.starts_at),
    )
    assert notifications.notification_send(notification_id=row.pk) == "sent"
    (email,) = mailoutbox
    start = brooklyn_meeting.starts_at.astimezone(NY)
    rome = brooklyn_meeting.starts_at.astimezone(ROME_ZONE)
    rome_end = brooklyn_meeting.ends_at.astimezone(ROME_ZONE)
    when = (
        f"{day(start, year=True)}, 19:00–20:30 New York time "
        f"({day(rome, year=rome.year != start.year)}, {hm(rome)}–{hm(rome_end)} your time)"
    )
    assert when in email.body
    html = email.alternatives[0][0]
    assert when in " ".join(strip_tags(html).split())


def test_digest_for_a_facilitator_in_rome_names_the_meetings_own_day(
    brooklyn, brooklyn_meeting, mailoutbox
):
    facilitator = MembershipFactory(group=brooklyn, role=Role.FACILITATOR).user  # in Rome
    rome = brooklyn_meeting.starts_at.astimezone(ROME_ZONE)
    row = Notification.objects.create(
        recipient=facilitator,
        kind=NotificationKind.FACILITATOR_DIGEST,
        subject_key=f"digest:{facilitator.pk}",
        slot=f"{rome.date():%Y-%m-%d}",  # "tomorrow" on the facilitator's clock
    )
    assert notifications.notification_send(notification_id=row.pk) == "sent"
    (email,) = mailoutbox
    start = brooklyn_meeting.starts_at.astimezone(NY)
    assert email.subject.endswith(f"Your meetings tomorrow, {day(rome)}")
    assert f"- {day(start)}, 19:00 New York time ({hm(rome)} your time) Brooklyn" in email.body
