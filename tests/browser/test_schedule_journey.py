"""Scheduling "the second Tuesday" in the browser (issue #18, part 3).

The fixed path, from the group's page, counted in taps (a tap on a control or into a field):

    "Schedule meetings", "Monthly on a weekday", week "Second", day "Tuesday", the start
    time, the video link, "Schedule these meetings"                              = 7 taps

The first date is today unless changed, the length and "No end date" are already set, the
preview updates as the form changes (no tap), and the form lands on the new series.
"""

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Format, Role
from sessions.models import MeetingSeries
from tests.browser.accessibility import assert_accessible
from tests.browser.test_meeting_journeys import no_script, sign_in_tab  # noqa: F401
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import TUESDAY

pytestmark = pytest.mark.browser

NEW_YORK = "America/New_York"
VIDEO_LINK = "https://video.example.org/second-tuesday"


def second_tuesdays_from(day: date, count: int) -> list[date]:
    found = []
    year, month = day.year, day.month
    while len(found) < count:
        first = date(year, month, 1)
        second = first + timedelta(days=(TUESDAY - first.weekday()) % 7 + 7)
        if second >= day:
            found.append(second)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def online_group_and_facilitator():
    group = SupportGroupFactory(
        name="Harbour Lights", slug="harbour-lights", time_zone=NEW_YORK, format=Format.ONLINE
    )
    facilitator = UserFactory(display_name="Fiona", time_zone="Europe/Rome")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    return group, facilitator


def test_facilitator_schedules_the_second_tuesday_with_a_preview(page, sign_in):
    group, facilitator = online_group_and_facilitator()
    today = timezone.now().astimezone(ZoneInfo(NEW_YORK)).date()
    sign_in(facilitator)
    main = page.get_by_role("main")

    page.goto(f"/groups/{group.slug}/")
    assert_accessible(page)
    main.get_by_role("link", name="Schedule meetings").click()  # tap 1
    expect(main.get_by_role("heading", level=1)).to_have_text("Schedule meetings")
    # An online group's form hides the venue; a weekly one the week of the month.
    expect(main.get_by_label("Address", exact=True)).to_be_hidden()
    expect(main.get_by_label("Video call link")).to_be_visible()
    expect(main.get_by_label("Which day of the week")).to_be_hidden()
    expect(main.get_by_label("Last date")).to_be_hidden()
    expect(main.get_by_role("button", name="Preview the dates")).to_have_count(0)
    assert_accessible(page)

    # Sent too soon: the summary at the top takes the focus and links to each field.
    main.get_by_role("button", name="Schedule these meetings").click()
    summary = main.get_by_role("alert")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()
    summary.get_by_role("link", name=re.compile("^Start time")).click()
    expect(main.get_by_label("Start time")).to_be_focused()
    assert_accessible(page)

    main.get_by_role("group", name="How often").get_by_label(
        "Monthly on a weekday (e.g. the 2nd Tuesday)"
    ).check()  # tap 2
    expect(main.get_by_label("Which day of the week")).to_be_visible()
    main.get_by_label("Which week of the month").select_option(label="Second")  # tap 3
    main.get_by_label("Which day of the week").select_option(label="Tuesday")  # tap 4
    main.get_by_label("Start time").fill("19:00")  # tap 5
    main.get_by_label("Video call link").fill(VIDEO_LINK)  # tap 6
    main.get_by_label("Video call link").blur()

    preview = main.get_by_role("region", name="Preview")
    first = second_tuesdays_from(today, 1)[0]
    expect(preview).to_contain_text(
        f"Every second Tuesday of the month at 19:00 New York time, from {first.day} "
        f"{first:%B %Y}, with no end date."
    )
    dates = preview.get_by_role("listitem")
    expect(dates).to_have_count(5)
    expect(dates.first).to_contain_text("19:00–20:30 New York time")
    expect(dates.first).to_contain_text("01:00–02:30 your time")
    assert MeetingSeries.objects.filter(group=group).count() == 0
    assert_accessible(page)

    main.get_by_role("button", name="Schedule these meetings").click()  # tap 7
    series = MeetingSeries.objects.get(group=group)
    expect(page).to_have_url(re.compile(rf"/meetings/series/{series.pk}/$"))
    meetings = list(series.meetings.order_by("starts_at"))
    assert len(meetings) >= 5
    zone = ZoneInfo(NEW_YORK)
    assert [m.starts_at.astimezone(zone).date() for m in meetings] == second_tuesdays_from(
        today, len(meetings)
    )
    expect(page.get_by_role("status")).to_contain_text(f"{len(meetings)} meetings scheduled.")
    expect(main).to_contain_text("Every second Tuesday of the month at 19:00 New York time")
    listed = main.get_by_role("region", name="Upcoming meetings of the series").get_by_role("link")
    expect(listed).to_have_count(len(meetings))
    assert_accessible(page)


def test_without_javascript_every_field_shows_and_preview_is_a_button(
    no_script,  # noqa: F811  (a phone tab with JavaScript off)
    live_server,
):
    group, facilitator = online_group_and_facilitator()
    tab = no_script.page
    sign_in_tab(tab, facilitator, live_server)
    main = tab.get_by_role("main")
    tab.goto(f"/groups/{group.slug}/meetings/new/")
    expect(main.get_by_label("Address", exact=True)).to_be_visible()
    expect(main.get_by_text("Only for meetings in person or hybrid.")).to_be_visible()
    no_script.check()

    main.get_by_label("Monthly on a weekday (e.g. the 2nd Tuesday)").check()
    main.get_by_label("Which week of the month").select_option(label="Last")
    main.get_by_label("Which day of the week").select_option(label="Sunday")
    main.get_by_label("Start time").fill("10:00")
    main.get_by_label("Video call link").fill(VIDEO_LINK)
    main.get_by_role("button", name="Preview the dates").click()
    expect(main.get_by_role("region", name="Preview")).to_contain_text(
        "Every last Sunday of the month at 10:00 New York time"
    )
    assert MeetingSeries.objects.filter(group=group).count() == 0
    no_script.check()

    main.get_by_role("button", name="Schedule these meetings").click()
    expect(tab.get_by_role("status")).to_contain_text("meetings scheduled.")
    expect(main.get_by_role("region", name="Upcoming meetings of the series")).to_be_visible()
    no_script.check()
