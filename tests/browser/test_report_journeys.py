"""A coordinator reads the attendance report of one group for last quarter, on a phone and
on a desktop: the chart's table, the chart itself and the XLSX download agree."""

import io
import re
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, timezone, translation
from openpyxl import load_workbook
from playwright.sync_api import expect

from groups.models import MembershipStatus, Role
from members.services import coordinator_grant
from outcomes.forms import PeriodChoice, period_for
from sessions.models import Attendance, AttendanceStatus
from tests.browser.accessibility import assert_accessible
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.browser

ROME = ZoneInfo("Europe/Rome")


def week_label(day) -> str:
    with translation.override("en"):
        return formats.date_format(day, "DATE_FORMAT")


def seed_quarter(group, people, *, per_meeting) -> dict[str, int]:
    """A meeting every Tuesday of last quarter, `per_meeting` members present at each;
    returns the attendances per week as the table labels them (week's Monday)."""
    quarter = period_for(PeriodChoice.LAST_QUARTER, timezone.localdate())
    day = quarter.start + timedelta(days=(1 - quarter.start.weekday()) % 7)
    weeks = {}
    while day <= quarter.end:
        meeting = MeetingFactory(
            group=group,
            starts_at=datetime.combine(day, time(18, 30), tzinfo=ROME),
            time_zone="Europe/Rome",
            guest_count=1,
        )
        Attendance.objects.bulk_create(
            Attendance(meeting=meeting, user=person, status=AttendanceStatus.PRESENT)
            for person in people[:per_meeting]
        )
        monday = day - timedelta(days=day.weekday())
        weeks[week_label(monday)] = per_meeting
        day += timedelta(days=7)
    return weeks


def test_coordinator_filters_attendance_to_one_group_and_last_quarter_then_downloads_xlsx(
    page, sign_in
):
    harbour = SupportGroupFactory(name="Harbour Lights", time_zone="Europe/Rome")
    shore = SupportGroupFactory(name="Other Shore", time_zone="Europe/Rome")
    people = [UserFactory(display_name=f"Peer {number}") for number in range(9)]
    for person in people:
        MembershipFactory(group=harbour, user=person)
        MembershipFactory(group=shore, user=person)
    weeks = seed_quarter(harbour, people, per_meeting=7)
    seed_quarter(shore, people, per_meeting=9)
    coordinator = UserFactory(display_name="Cora")
    coordinator_grant(user=coordinator)
    enable_mfa(coordinator)
    sign_in(coordinator)
    main = page.get_by_role("main")

    page.goto("/")
    page.get_by_role("banner").get_by_role("link", name="Reports").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Programme overview")
    assert_accessible(page)
    main.get_by_role("navigation", name="Reports").get_by_role("link", name="Attendance").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Attendance report")
    assert_accessible(page)

    # The filters fold away under a <summary>, which has no ARIA role: tap its words.
    main.get_by_text("Change the period or the groups", exact=True).click()
    filters = main.get_by_role("form", name="Report filters")
    filters.get_by_label("Period").select_option(label="Last quarter")
    filters.get_by_label("Group", exact=True).select_option(label="Harbour Lights")
    filters.get_by_role("button", name="Show the report").click()

    expect(main.get_by_text(re.compile(r"\(Last quarter\)"))).to_be_visible()
    expect(main.locator(".report-header")).to_contain_text("Harbour Lights")
    table = main.get_by_role("table", name="Attendance by week")
    expect(table).to_be_visible()
    assert_accessible(page)
    shown = {}
    for row in table.get_by_role("row").all()[1:]:
        week = row.get_by_role("rowheader").inner_text().strip()
        cells = row.get_by_role("cell").all_inner_texts()
        # On a phone each cell reads "Attendances: 7"; on a desktop just "7".
        shown[week] = int(cells[1].split(":")[-1].strip())
    assert shown == weeks
    chart = main.get_by_role("img", name="Attendance by week")
    expect(chart).to_be_visible()
    assert [int(text) for text in chart.locator(".chart-value").all_text_contents()] == list(
        shown.values()
    )
    expect(main.get_by_role("table", name="Attendance by group")).not_to_contain_text("Other Shore")

    # The chart's labels are the table's weeks, whole (never cut short).
    assert [label.strip() for label in chart.locator(".chart-label").all_text_contents()] == list(
        shown
    )
    expect(main.get_by_text("Exact on this page", exact=False)).to_be_visible()

    with page.expect_download() as download_info:
        main.get_by_role("link", name="Download every table (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("attendance-")
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    about = dict(workbook.worksheets[0].iter_rows(values_only=True))
    assert about["Group"] == "Harbour Lights"
    assert about["Period"].endswith("(Last quarter)")
    assert about["Small numbers"].startswith("Hidden in this export")
    sheet = workbook["Attendance by week"]
    heading, *rows = list(sheet.iter_rows(values_only=True))
    assert heading[:4] == ("Week starting", "Meetings held", "Attendances", "Hidden: Attendances")
    exported = {week_label(row[0].date()): row[2] for row in rows}
    assert exported == shown  # seven a meeting: none of them small


def test_a_facilitator_reads_retention_and_is_told_why_a_filter_is_refused(page, sign_in):
    harbour = SupportGroupFactory(name="Harbour Lights", time_zone="Europe/Rome")
    SupportGroupFactory(name="Other Shore", time_zone="Europe/Rome")
    fiona = UserFactory(display_name="Fiona")
    MembershipFactory(group=harbour, user=fiona, role=Role.FACILITATOR)
    enable_mfa(fiona)
    people = [UserFactory(display_name=f"Peer {number}") for number in range(8)]
    joined = timezone.now() - timedelta(weeks=30)
    for person in people:
        MembershipFactory(group=harbour, user=person, joined_at=joined)
    for weeks in (4, 12, 26):
        meeting = MeetingFactory(
            group=harbour, starts_at=joined + timedelta(weeks=weeks), time_zone="Europe/Rome"
        )
        Attendance.objects.bulk_create(
            Attendance(meeting=meeting, user=person, status=AttendanceStatus.PRESENT)
            for person in people[: 14 - weeks // 4]
        )
    for _ in range(6):
        MembershipFactory(
            group=harbour,
            status=MembershipStatus.PENDING,
            joined_at=None,
            requested_at=timezone.now() - timedelta(days=10),
        )
    sign_in(fiona)
    main = page.get_by_role("main")

    page.goto("/reports/")
    expect(main.get_by_role("table", name="Facilitators' load")).to_contain_text("Fiona")
    expect(main.get_by_role("table", name=re.compile("^Requests to join"))).to_contain_text(
        "Harbour Lights"
    )
    assert_accessible(page)
    main.get_by_role("navigation", name="Reports").get_by_role("link", name="Retention").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Retention report")
    marks = main.get_by_role("table", name="Share of joiners still attending")
    expect(marks.get_by_role("row", name=re.compile("^4 weeks"))).to_contain_text("100%")
    expect(main.get_by_role("img", name="Share of joiners still attending")).to_be_visible()
    expect(main.get_by_text("Other Shore")).to_have_count(0)
    assert_accessible(page)

    main.get_by_text("Change the period or the groups", exact=True).click()
    filters = main.get_by_role("form", name="Report filters")
    filters.get_by_label("Period").select_option(label="Dates I choose")
    filters.get_by_label("First day").fill("2026-03-31")
    filters.get_by_label("Last day").fill("2026-01-01")
    filters.get_by_role("button", name="Show the report").click()

    alert = main.get_by_role("alert")
    expect(alert).to_contain_text("The last day is before the first day.")
    expect(main.get_by_role("table")).to_have_count(0)
    expect(filters.get_by_label("Last day")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
