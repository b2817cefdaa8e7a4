"""Meetings in the browser: scheduling a series, answering with a waitlist, taking attendance.

Controls are found by role and accessible name, as a screen reader user finds them, and
axe checks every page on the way.
"""

import re
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Format, Role
from sessions.models import Attendance, Meeting, MeetingFormat, Rsvp, RsvpStatus
from tests.auth import log_in
from tests.browser import accessibility
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import TIMEOUT_MS, VIEWPORTS
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import TUESDAY, MeetingFactory

pytestmark = pytest.mark.browser

NEW_YORK = "America/New_York"
VIDEO_LINK = "https://video.example.org/harbour-lights"


def sign_in_tab(tab, user, live_server) -> None:
    """The tab's next request is made as `user` (the `sign_in` fixture, for any tab)."""
    client = Client()
    log_in(client, user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    tab.context.add_cookies([{"name": session.key, "value": session.value, "url": live_server.url}])


class NoScriptTab:
    """A phone tab with JavaScript switched off, so every form is a plain POST and reload.

    axe waits on timers, which never fire where scripts are off; check() therefore lays
    the tab's current document into a twin tab with its scripts blocked (so it stays the
    same document, with the same stylesheet) and runs axe there.
    """

    def __init__(self, browser, live_server) -> None:
        options = {
            "base_url": live_server.url,
            "viewport": VIEWPORTS["phone"],
            "is_mobile": True,
            "has_touch": True,
            "locale": "en-GB",
            "timezone_id": "Europe/Rome",
        }
        self.context = browser.new_context(**options, java_script_enabled=False)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.audit = accessibility.track(self.page)
        self._twin_context = browser.new_context(**options)
        self._twin_context.set_default_timeout(TIMEOUT_MS)
        self._twin_context.route(re.compile(r"\.js(\?|$)"), lambda route: route.abort())
        self._twin = self._twin_context.new_page()
        accessibility.track(self._twin)

    def check(self) -> None:
        """assert_accessible for the document the tab shows now."""
        self.page.wait_for_load_state("load")
        url, html = self.page.url, self.page.content()
        self._twin.route(
            lambda address: address == url,
            lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=html),
        )
        self._twin.goto(url)
        self._twin.unroute_all()
        assert_accessible(self._twin)
        self.audit.audited = len(self.audit.visited)

    def close(self) -> list[str]:
        for tab in (self.page, self._twin):
            accessibility.untrack(tab)
        self.context.close()
        self._twin_context.close()
        return [f"page not checked: {url}" for url in self.audit.unaudited()] + self.audit.errors


@pytest.fixture
def no_script(browser, live_server):
    tab = NoScriptTab(browser, live_server)
    yield tab
    problems = tab.close()
    assert not problems, "\n".join(problems)


def tuesday_not_second_after(day: date) -> date:
    """A Tuesday soon that is not the second of its month, so the form's choice matters."""
    day += timedelta(days=1)
    while day.weekday() != TUESDAY or week_of_month(day) == 2:
        day += timedelta(days=1)
    return day


def week_of_month(day: date) -> int:
    return (day.day - 1) // 7 + 1


def second_tuesdays_after(day: date, count: int) -> list[date]:
    """The next `count` second Tuesdays after `day`, worked out by hand."""
    found = []
    year, month = day.year, day.month
    while len(found) < count:
        first = date(year, month, 1)
        second_tuesday = first + timedelta(days=(TUESDAY - first.weekday()) % 7 + 7)
        if second_tuesday > day:
            found.append(second_tuesday)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


# --- Scheduling ---------------------------------------------------------------------------


def test_facilitator_schedules_an_online_series_on_the_second_tuesday(page, sign_in):
    group = SupportGroupFactory(
        name="Harbour Lights", slug="harbour-lights", time_zone=NEW_YORK, format=Format.ONLINE
    )
    facilitator = UserFactory(display_name="Fiona", time_zone=NEW_YORK)
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    zone = ZoneInfo(NEW_YORK)
    first_date = tuesday_not_second_after(timezone.now().astimezone(zone).date())
    sign_in(facilitator)
    main = page.get_by_role("main")

    page.goto(f"/groups/{group.slug}/")
    expect(main.get_by_role("heading", level=1)).to_have_text("Harbour Lights")
    expect(main.get_by_text("No meetings are scheduled yet.")).to_be_visible()
    assert_accessible(page)
    main.get_by_role("link", name="Schedule meetings").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Schedule meetings")
    expect(main).to_contain_text(f"Times are in the group's time zone, {NEW_YORK}.")
    assert_accessible(page)

    # Sent as it comes (the first date is today), the form says what is missing and links
    # to each field.
    main.get_by_role("button", name="Schedule").click()
    errors = main.get_by_role("alert")
    expect(errors.get_by_role("link", name=re.compile("^Start time"))).to_be_visible()
    expect(errors.get_by_role("link", name=re.compile("^Video call link"))).to_be_visible()
    expect(main.get_by_label("Start time")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    main.get_by_role("group", name="How often").get_by_label(
        "Monthly on a weekday (e.g. the 2nd Tuesday)"
    ).check()
    main.get_by_label("First date").fill(first_date.isoformat())
    main.get_by_label("Start time").fill("18:30")
    main.get_by_label("Length in minutes").fill("90")
    main.get_by_label("Repeat every (weeks or months)").fill("1")
    main.get_by_label("Which week of the month").select_option(label="Second")
    main.get_by_label("Which day of the week").select_option(label="Tuesday")
    main.get_by_role("group", name="Ends").get_by_label("No end date").check()
    main.get_by_role("group", name="How people meet").get_by_label("Online").check()
    main.get_by_label("Video call link").fill(VIDEO_LINK)
    main.get_by_role("button", name="Schedule").click()

    # The new series' page, then the group's.
    expect(main.get_by_role("heading", level=1)).to_have_text("Harbour Lights")
    meetings = list(Meeting.objects.filter(group=group).order_by("starts_at"))
    assert len(meetings) >= 5  # six months ahead
    expect(page.get_by_role("status")).to_contain_text(f"{len(meetings)} meetings scheduled")
    assert_accessible(page)
    main.get_by_role("link", name="Harbour Lights", exact=True).click()
    expect(main.get_by_text("No meetings are scheduled yet.")).to_have_count(0)
    starts = [meeting.starts_at.astimezone(zone) for meeting in meetings]
    assert [start.date() for start in starts] == second_tuesdays_after(first_date, len(starts))
    assert {start.time() for start in starts} == {time(18, 30)}  # across the clock change
    for meeting in meetings:
        assert meeting.ends_at - meeting.starts_at == timedelta(minutes=90)
        assert (meeting.format, meeting.video_url) == (MeetingFormat.ONLINE, VIDEO_LINK)

    upcoming = main.get_by_role("region", name="Meetings").get_by_role("listitem")
    expect(upcoming).to_have_count(5)
    for item, start in zip(upcoming.all(), starts, strict=False):
        expect(item.get_by_role("heading", level=3)).to_have_text(
            f"{start:%A} {start.day} {start:%B %Y}, 18:30–20:00"
        )
        expect(item).to_contain_text("Online")
    assert_accessible(page)

    upcoming.first.get_by_role("link").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Harbour Lights")
    expect(main).to_contain_text(f"{starts[0]:%A} {starts[0].day} {starts[0]:%B %Y}, 18:30")
    # The group's own facilitator has the link days ahead: they open the call.
    expect(main.get_by_role("link", name="Join the video call")).to_have_attribute(
        "href", VIDEO_LINK
    )
    expect(main).not_to_contain_text("The link appears here an hour before the meeting starts.")
    assert_accessible(page)

    # The facilitator's other pages for the meeting pass axe too.
    staff = main.get_by_role("region", name="For facilitators")
    staff.get_by_role("link", name="Change").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Change meeting")
    expect(main.get_by_role("group", name="Apply the change to")).to_be_visible()
    expect(main.get_by_label("Video call link")).to_have_value(VIDEO_LINK)
    assert_accessible(page)
    page.go_back()
    staff.get_by_role("link", name="Cancel meeting").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Cancel meeting")
    assert_accessible(page)


# --- Answering, and the waitlist ----------------------------------------------------------


def test_waitlisted_member_is_promoted_when_the_first_cancels(page, another_page, live_server):
    group = SupportGroupFactory(name="Harbour Lights", slug="harbour-lights")
    ada = UserFactory(display_name="Ada")
    bruno = UserFactory(display_name="Bruno")
    for person in (ada, bruno):
        MembershipFactory(group=group, user=person)
    meeting = MeetingFactory(
        group=group,
        title="Harbour Lights evening",
        capacity=1,
        venue_name="Casa del Quartiere",
        address="Via Roma 1, Milano",
    )
    sign_in_tab(another_page, ada, live_server)
    sign_in_tab(page, bruno, live_server)

    # Ada takes the only place.
    first = another_page.get_by_role("main")
    another_page.goto(f"/meetings/{meeting.pk}/")
    expect(first.get_by_role("heading", level=1)).to_have_text("Harbour Lights evening")
    answer = first.get_by_role("region", name="Your answer")
    expect(answer).to_contain_text("Are you coming?")
    assert_accessible(another_page)
    answer.get_by_role("button", name="I'm going").click()
    # The pressed button is gone: the answer takes the focus, so it is read out.
    expect(answer.get_by_role("paragraph").filter(has_text="You're going.")).to_be_focused()
    expect(answer.get_by_role("button", name="I can't come any more")).to_be_visible()
    assert_accessible(another_page)

    # Bruno finds it full and joins the waitlist.
    second = page.get_by_role("main")
    page.goto(f"/meetings/{meeting.pk}/")
    expect(second).to_contain_text("1 place taken of 1")
    answer = second.get_by_role("region", name="Your answer")
    expect(answer.get_by_role("button", name="I'm going")).to_have_count(0)
    assert_accessible(page)
    answer.get_by_role("button", name="Join the waitlist").click()
    expect(
        answer.get_by_role("paragraph").filter(has_text="You're number 1 on the waitlist.")
    ).to_be_focused()
    assert Rsvp.objects.get(meeting=meeting, user=bruno).status == RsvpStatus.WAITLISTED
    assert_accessible(page)

    # Ada can't come after all; her place goes to Bruno.
    first.get_by_role("region", name="Your answer").get_by_role(
        "button", name="I can't come any more"
    ).click()
    expect(first.get_by_role("region", name="Your answer")).to_contain_text(
        "You said you can't come."
    )
    assert_accessible(another_page)

    page.reload()
    expect(second.get_by_role("region", name="Your answer")).to_contain_text("You're going.")
    assert_accessible(page)
    page.get_by_role("banner").get_by_role("link", name="My meetings").click()
    expect(second.get_by_role("heading", level=1)).to_have_text("My meetings")
    listed = second.get_by_role("listitem").filter(has_text="Harbour Lights evening")
    expect(listed).to_contain_text("You're going.")
    assert_accessible(page)
    assert Rsvp.objects.get(meeting=meeting, user=bruno).status == RsvpStatus.CONFIRMED


def test_member_without_javascript_answers_with_a_plain_form(no_script, live_server):
    tab = no_script.page
    group = SupportGroupFactory(name="Harbour Lights", slug="harbour-lights")
    member = UserFactory(display_name="Carla")
    MembershipFactory(group=group, user=member)
    meeting = MeetingFactory(group=group, title="Harbour Lights evening", capacity=8)
    sign_in_tab(tab, member, live_server)
    main = tab.get_by_role("main")

    tab.goto(f"/meetings/{meeting.pk}/")
    answer = main.get_by_role("region", name="Your answer")
    expect(answer).to_contain_text("Are you coming?")
    no_script.check()
    with tab.expect_navigation():
        answer.get_by_role("button", name="I'm going").click()

    expect(tab.get_by_role("status")).to_have_text("Thanks, you're going. See you there!")
    expect(answer).to_contain_text("You're going.")
    expect(main).to_contain_text("1 place taken of 8")
    no_script.check()
    assert Rsvp.objects.get(meeting=meeting, user=member).status == RsvpStatus.CONFIRMED


# --- Attendance ---------------------------------------------------------------------------

MARKS = {
    "Fiona": "Present",
    "Abebe": "Present",
    "Beatrice": "Late",
    "Chen": "Present",
    "Dario": "Absent",
    "Elif": "Present",
    "Gianni": "Excused",
    "Hana": "Present",
    "Ines": "Late",
    "Jonas": "Present",
    "Kofi": "Absent",
    "Lucia": "Present",
}


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_facilitator_takes_attendance_for_twelve_people_on_a_phone(page, sign_in):
    group = SupportGroupFactory(name="Harbour Lights", slug="harbour-lights")
    people = {}
    for name in MARKS:
        person = UserFactory(display_name=name)
        role = Role.FACILITATOR if name == "Fiona" else Role.MEMBER
        MembershipFactory(group=group, user=person, role=role)
        people[name] = person
    facilitator = people["Fiona"]
    enable_mfa(facilitator)
    meeting = MeetingFactory(
        group=group,
        title="Harbour Lights evening",
        starts_at=timezone.now() + timedelta(minutes=30),
    )
    for name in ("Abebe", "Beatrice", "Chen"):
        Rsvp.objects.create(
            meeting=meeting, user=people[name], response="going", status=RsvpStatus.CONFIRMED
        )
    sign_in(facilitator)
    main = page.get_by_role("main")

    page.goto(f"/meetings/{meeting.pk}/")
    staff = main.get_by_role("region", name="For facilitators")
    expect(staff).to_contain_text("3 people coming")
    assert_accessible(page)
    staff.get_by_role("link", name="Take attendance").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Attendance")
    expect(main).to_contain_text("0 of 12 members marked")
    assert_accessible(page)
    loads = len(accessibility.audit_of(page).visited)
    for name, status in MARKS.items():
        row = main.get_by_role("group", name=re.compile(rf"^{name}\b"))
        choice = row.get_by_role("radio", name=status)
        box = choice.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, f"{status} is too small: {box}"
        choice.tap()
        expect(row.get_by_text("Saved")).to_be_visible()
        expect(choice).to_be_checked()
        expect(choice).to_be_focused()
        expect(main.get_by_role("status")).to_have_text(f"Saved: {name}, {status}")
    assert len(accessibility.audit_of(page).visited) == loads, "a tap reloaded the page"
    assert_accessible(page)

    marked = dict(
        Attendance.objects.filter(meeting=meeting).values_list("user__display_name", "status")
    )
    assert marked == {name: status.lower() for name, status in MARKS.items()}

    page.reload()
    expect(main).to_contain_text("12 of 12 members marked")
    for name, status in MARKS.items():
        row = main.get_by_role("group", name=re.compile(rf"^{name}\b"))
        expect(row.get_by_role("radio", name=status)).to_be_checked()
    assert_accessible(page)


def test_member_pages_through_their_meetings(page, sign_in):
    group = SupportGroupFactory(name="Harbour Lights")
    member = UserFactory(display_name="Dora")
    MembershipFactory(group=group, user=member)
    soon = timezone.now() + timedelta(hours=2)
    for day in range(24):
        MeetingFactory(
            group=group, title=f"Evening {day + 1:02}", starts_at=soon + timedelta(days=day)
        )
    sign_in(member)
    main = page.get_by_role("main")
    page.goto("/")
    assert_accessible(page)

    page.get_by_role("banner").get_by_role("link", name="My meetings").click()
    expect(main.get_by_role("heading", level=2)).to_have_count(20)
    expect(main.get_by_role("link", name="Evening 20")).to_be_visible()
    more = main.get_by_role("navigation", name="More meetings")
    expect(more).to_contain_text("Page 1 of 2")
    assert_accessible(page)
    more.get_by_role("link", name="Later meetings").click()

    expect(main.get_by_role("heading", level=2)).to_have_count(4)
    expect(main.get_by_role("link", name="Evening 21")).to_be_visible()
    expect(more.get_by_role("link", name="Later meetings")).to_have_count(0)
    assert_accessible(page)
    more.get_by_role("link", name="Sooner meetings").click()
    expect(main.get_by_role("link", name="Evening 01")).to_be_visible()
    assert_accessible(page)
