"""The programme overview: groups, facilitators, meetings and requests that need a hand."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import GroupStatus, Membership, MembershipStatus, Role
from outcomes import open_items
from outcomes.reports import Scope, programme_overview
from sessions.models import MeetingStatus
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.reports.conftest import SUPPRESSED_TEXT, as_dicts, csv_table, meeting, page_tables

pytestmark = pytest.mark.django_db


@pytest.fixture
def landscape():
    now = timezone.now()
    fiona = UserFactory(display_name="Fiona")
    dora = UserFactory(display_name="Dora")
    staffed = SupportGroupFactory(name="Staffed")
    MembershipFactory(group=staffed, user=fiona, role=Role.FACILITATOR)
    orphan = SupportGroupFactory(name="Orphan")
    MembershipFactory(group=orphan, user=dora, role=Role.FACILITATOR, status=MembershipStatus.LEFT)
    paused = SupportGroupFactory(name="Paused one", status=GroupStatus.PAUSED)
    MembershipFactory(group=paused, user=fiona, role=Role.CO_FACILITATOR)
    closed = SupportGroupFactory(name="Closed one", status=GroupStatus.CLOSED)
    MembershipFactory(group=closed, user=dora, role=Role.FACILITATOR)
    MembershipFactory(group=staffed, user=dora, role=Role.PEER_MODERATOR)

    meeting(staffed, now - timedelta(days=3))
    meeting(staffed, now - timedelta(days=10))
    meeting(staffed, now - timedelta(days=40))  # outside the last 30 days
    meeting(staffed, now - timedelta(days=5), status=MeetingStatus.CANCELLED)
    meeting(staffed, now + timedelta(days=1))
    meeting(paused, now - timedelta(days=20))
    meeting(paused, now + timedelta(days=12))
    meeting(closed, now + timedelta(days=2))  # a closed group's meeting is nobody's worry
    soon = meeting(orphan, now + timedelta(days=2))
    meeting(orphan, now + timedelta(days=8))  # beyond the next 7 days
    meeting(orphan, now + timedelta(days=3), status=MeetingStatus.CANCELLED)

    for index in range(6):
        MembershipFactory(
            group=staffed,
            status=MembershipStatus.PENDING,
            joined_at=None,
            requested_at=now - timedelta(days=8 + index),
        )
    MembershipFactory(
        group=staffed, status=MembershipStatus.PENDING, joined_at=None, requested_at=now
    )
    for _ in range(2):
        MembershipFactory(
            group=orphan,
            status=MembershipStatus.PENDING,
            joined_at=None,
            requested_at=now - timedelta(days=9),
        )
    return {
        "now": now,
        "fiona": fiona,
        "dora": dora,
        "staffed": staffed,
        "orphan": orphan,
        "paused": paused,
        "closed": closed,
        "soon": soon,
    }


def test_overview_finds_what_needs_a_coordinator(landscape):
    coordinator = UserFactory()
    overview = programme_overview(Scope(coordinator.pk, everything=True), now=landscape["now"])

    assert overview.groups_by_status == {"active": 2, "paused": 1, "closed": 1}
    assert [group.name for group in overview.unstaffed_groups] == ["Orphan"]
    assert [m.pk for m in overview.unstaffed_meetings] == [landscape["soon"].pk]
    assert [
        (person.display_name, person.group_count, person.meetings_past, person.meetings_next)
        for person in overview.load
    ] == [("Fiona", 2, 3, 2)]  # Staffed: 2 past, 1 next; Paused one: 1 past, 1 next
    assert [(row["group__name"], row["waiting"]) for row in overview.overdue_requests] == [
        ("Staffed", 6),
        ("Orphan", 2),
    ]
    assert overview.overdue_total == 8


def test_a_facilitator_sees_only_their_own_groups(landscape):
    overview = programme_overview(
        Scope(landscape["fiona"].pk, everything=False), now=landscape["now"]
    )

    assert overview.groups_by_status == {"active": 1, "paused": 1, "closed": 0}
    assert overview.unstaffed_groups == [] and overview.unstaffed_meetings == []
    assert [row["group__name"] for row in overview.overdue_requests] == ["Staffed"]


def test_overview_page_shows_request_counts_exactly_and_the_export_hides_small_ones(
    client, landscape, coordinator_with_mfa
):
    """Staff can read the requests off the groups' pages, so the page counts them exactly;
    the export is for sharing and hides them, with their complement."""
    log_in(client, coordinator_with_mfa)

    response = client.get(reverse("reports:overview"))

    assert response.status_code == 200
    tables, figures = page_tables(response)
    overdue = as_dicts(tables["overdue"])
    assert overdue["Orphan"]["Requests waiting"] == "2"
    assert overdue["Staffed"]["Requests waiting"] == "6"
    assert overdue["All groups in this report"]["Requests waiting"] == "8"
    assert figures["figures"]["Requests to join waiting more than 7 days"] == "8"
    # Orphan's 2 are hidden in the export; Staffed's 6 must go too, or 8 - 6 gives them away.
    exported = as_dicts(csv_table(client, "reports:overview_export", {}, "overdue"))
    assert exported["Orphan"]["Requests waiting"] == SUPPRESSED_TEXT
    assert exported["Staffed"]["Requests waiting"] == SUPPRESSED_TEXT
    assert exported["All groups in this report"]["Requests waiting"] == "8"
    glance = csv_table(client, "reports:overview_export", {}, "figures")
    assert {row[0]: row[1] for row in glance[1:]}[
        "Requests to join waiting more than 7 days"
    ] == "8"  # the card and its section agree, in the export as on the page
    assert figures["figures"]["Groups without an active facilitator"] == "1"
    assert figures["figures"]["Meetings in the next 7 days without a facilitator"] == "1"
    assert as_dicts(tables["load"])["Fiona"] == {
        "Groups": "2",
        "Meetings in the last 30 days": "3",
        "Meetings in the next 30 days": "2",
    }
    body = response.content.decode()
    assert reverse("groups:manage", args=[landscape["orphan"].slug]) in body


def test_other_areas_can_add_open_items(client, landscape, coordinator_with_mfa):
    def provider(scope, now):
        count = Membership.objects.filter(group__in=scope.groups()).count()
        return [open_items.OpenItem(area="Safeguarding", label="Reports to review", count=count)]

    open_items.register(provider)
    try:
        log_in(client, coordinator_with_mfa)
        response = client.get(reverse("reports:overview"))
    finally:
        open_items.unregister(provider)

    tables, _ = page_tables(response)
    assert as_dicts(tables["open_items"])["Reports to review"]["Area"] == "Safeguarding"
