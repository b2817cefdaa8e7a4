"""A coordinator answers "I never got the reminder": finds the member's messages in the
outbox, reads what the reminder said, then checks in the audit log who opened the
member's data and downloads those rows; on a phone and on a desktop.

The fixed path is ten taps: My account, Email outbox, the recipient field, Search, Read
(the message), My account, Audit log, the staff member field, Search, Download.
"""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Role
from members.models import Notification, NotificationKind, NotificationState
from members.services import audit_record, coordinator_grant
from sessions.models import Rsvp, RsvpResponse, RsvpStatus
from sessions.notifications import reminder_slot
from tests.browser.accessibility import assert_accessible
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.browser


def test_coordinator_reads_a_members_reminder_and_who_opened_their_data(page, sign_in):
    group = SupportGroupFactory(name="Harbour Lights", time_zone="Europe/Rome")
    member = UserFactory(display_name="Marta", email="marta@example.net")
    MembershipFactory(group=group, user=member)
    fiona = UserFactory(display_name="Fiona")
    MembershipFactory(group=group, user=fiona, role=Role.FACILITATOR)
    meeting = MeetingFactory(
        group=group,
        starts_at=timezone.now() + timedelta(days=1, hours=3),
        time_zone="Europe/Rome",
        title="Thursday circle",
    )
    Rsvp.objects.create(
        meeting=meeting, user=member, response=RsvpResponse.GOING, status=RsvpStatus.CONFIRMED
    )
    Notification.objects.create(
        recipient=member,
        kind=NotificationKind.MEETING_REMINDER,
        subject_key=f"meeting:{meeting.pk}",
        slot=reminder_slot("day-before", meeting.starts_at),
        state=NotificationState.SENT,
        attempts=1,
        sent_at=timezone.now() - timedelta(hours=2),
    )
    audit_record(
        actor=fiona,
        subjects=[member],
        action="group.roster.view",
        context=group.name,
        group_id=group.pk,
        group_name=group.name,
    )
    cora = UserFactory(display_name="Cora")
    coordinator_grant(user=cora)
    enable_mfa(cora)
    sign_in(cora)
    main = page.get_by_role("main")
    banner = page.get_by_role("banner")

    page.goto("/")
    assert_accessible(page)
    banner.get_by_role("link", name="My account").click()
    assert_accessible(page)
    main.get_by_role("link", name="Email outbox").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Email outbox")
    assert_accessible(page)

    search = main.get_by_role("form", name="Search the outbox")
    search.get_by_label("Recipient").fill("marta@")
    search.get_by_role("button", name="Search").click()
    listing = main.get_by_role("table", name="Messages, newest first")
    expect(listing.get_by_role("row")).to_have_count(2)  # headings and Marta's reminder
    expect(listing).to_contain_text("Sent")
    expect(listing).to_contain_text("Meeting reminders")
    assert_accessible(page)

    listing.get_by_role("link", name=re.compile(r"^Read .*to Marta$")).click()
    said = main.get_by_role("region", name="What the message said")
    expect(said).to_contain_text("Tomorrow: Thursday circle")
    expect(said).to_contain_text("marta@example.net")
    expect(said).to_contain_text("keeps no copy of what it sent")
    assert_accessible(page)

    banner.get_by_role("link", name="My account").click()
    assert_accessible(page)
    main.get_by_role("link", name="Audit log").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Audit log")
    log = main.get_by_role("table", name="Access to personal data, newest first")
    # Reading Marta's message was itself logged, in plain words.
    expect(
        log.get_by_role("row", name=re.compile("Read a message in the email outbox"))
    ).to_contain_text("Marta")
    assert_accessible(page)

    filters = main.get_by_role("form", name="Search the audit log")
    filters.get_by_label("Staff member").fill("Fiona")
    filters.get_by_role("button", name="Search").click()
    expect(log.get_by_role("row")).to_have_count(2)
    expect(log).to_contain_text("Opened a group's roster")
    expect(log).to_contain_text("Harbour Lights")
    assert_accessible(page)

    with page.expect_download() as download_info:
        main.get_by_role("link", name="Download these rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(row["Staff member"], row["What"], row["Whose data"]) for row in rows] == [
        ("Fiona", "Opened a group's roster", "Marta")
    ]
