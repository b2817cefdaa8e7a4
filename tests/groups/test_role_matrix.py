"""Who may open which group page, and what a denied page must not contain."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from groups.models import Membership, MembershipStatus
from members.models import AuditEvent
from tests import forms
from tests.auth import log_in
from tests.groups.conftest import ROLES, assert_no_private_data, enable_mfa

STAFF = {"facilitator", "coordinator"}
SEES_PEERS = {"member", "peer_moderator", "facilitator"}


def expected(role: str, allowed: set[str]) -> int:
    if role in allowed:
        return 200
    return 302 if role == "visitor" else 403


@pytest.mark.parametrize("role", ROLES)
def test_directory_is_open_to_everyone_and_lists_no_people(client, cast, role):
    cast.login(client, role)
    response = client.get(reverse("groups:directory"))
    assert response.status_code == 200
    assert "Harbour Lights" in response.text
    assert_no_private_data(response.text)


@pytest.mark.parametrize("role", ROLES)
def test_group_page_shows_member_names_only_to_members(client, cast, role):
    cast.login(client, role)
    response = client.get(reverse("groups:detail", args=[cast.group.slug]))
    assert response.status_code == 200
    assert "Facilitator Fiona" in response.text  # facilitators' display names are public
    if role in SEES_PEERS:
        assert "Quillon-Member" in response.text
        assert "quillon.member@example.net" not in response.text  # peers never see emails
    else:
        assert_no_private_data(response.text)


@pytest.mark.parametrize(
    "url_name", ["groups:manage", "groups:edit", "groups:invite", "groups:conduct_edit"]
)
@pytest.mark.parametrize("role", ROLES)
def test_staff_pages_open_only_to_the_groups_staff_and_coordinators(client, cast, role, url_name):
    cast.login(client, role)
    response = client.get(reverse(url_name, args=[cast.group.slug]))
    assert response.status_code == expected(role, STAFF)
    if role not in STAFF:
        assert_no_private_data(response.text)
        if role == "visitor":
            assert reverse("account_login") in response["Location"]


# Everyone the roster lists for the group's staff (the member shared her email address).
ROSTER_NAMES = ["Quillon-Member", "Moderator Mo", "Pending-Petra", "quillon.member@example.net"]
ROSTER_VIEW = "group.roster.view"


@pytest.mark.parametrize("role", ROLES)
def test_roster_shows_shared_contacts_to_staff(client, cast, role):
    cast.login(client, role)
    response = client.get(reverse("groups:manage", args=[cast.group.slug]))
    assert response.status_code == expected(role, STAFF)
    if role in STAFF:
        for name in ROSTER_NAMES:
            assert name in response.text, f"{role} does not see {name!r}"
        assert "Outsider Olga" not in response.text  # not in the group
        assert "Elsewhere Ed" not in response.text  # staff of another group
    else:
        assert_no_private_data(response.text)
        assert "Moderator Mo" not in response.text
        assert not AuditEvent.objects.exists()  # nothing was opened, so nothing is logged
        if role == "visitor":
            assert reverse("account_login") in response["Location"]


def audit_rows(body: str) -> list[dict[str, str]]:
    """The audit page's table as {column heading: cell text}, one dict a row."""

    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    reader = Reader()
    reader.feed(body)
    header, *rows = reader.rows
    # "Nothing recorded yet." is one cell across the table: not a row of the log.
    return [dict(zip(header, row, strict=True)) for row in rows if len(row) == len(header)]


@pytest.mark.parametrize("viewer", ["facilitator", "coordinator"])
def test_roster_view_is_written_to_the_audit_log(client, cast, viewer):
    cast.login(client, viewer)
    client.get(reverse("groups:manage", args=[cast.group.slug]))
    audited = list(
        AuditEvent.objects.filter(actor=cast.people[viewer]).values_list(
            "subject__display_name", "action", "context"
        )
    )
    assert sorted(audited) == sorted(
        (name, ROSTER_VIEW, "Harbour Lights")
        for name in {"Quillon-Member", "Pending-Petra", "Moderator Mo", "Facilitator Fiona"}
        if name != cast.people[viewer].display_name  # nobody is logged looking at themselves
    )
    assert AuditEvent.objects.count() == len(audited)


def test_the_audit_page_shows_who_looked_at_whose_data(client, cast):
    cast.login(client, "facilitator")
    client.get(reverse("groups:manage", args=[cast.group.slug]))

    cast.login(client, "coordinator")
    response = client.get(reverse("members:audit_log"))

    assert response.status_code == 200
    seen = {
        (row["Who"], row["Whose data"], row["What"], row["Where"])
        for row in audit_rows(response.text)
    }
    assert seen == {
        ("Facilitator Fiona", name, "Opened a group's roster", "Harbour Lights")
        for name in ("Quillon-Member", "Pending-Petra", "Moderator Mo")
    }


@pytest.mark.parametrize("role", ROLES)
def test_only_coordinators_read_the_audit_log(client, cast, role):
    cast.login(client, "facilitator")
    client.get(reverse("groups:manage", args=[cast.group.slug]))  # something to read
    client.logout()

    cast.login(client, role)
    response = client.get(reverse("members:audit_log"))

    assert response.status_code == expected(role, {"coordinator"})
    if role == "coordinator":
        assert {row["Whose data"] for row in audit_rows(response.text)} >= {"Quillon-Member"}
    else:
        assert_no_private_data(response.text)
        assert "Moderator Mo" not in response.text
        assert ROSTER_VIEW not in response.text
        if role == "visitor":
            assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_approving_a_request_needs_group_staff(client, cast, role):
    cast.login(client, role)
    pending = Membership.objects.get(user=cast.people["pending"], group=cast.group)
    response = client.post(
        reverse("groups:member_action", args=[cast.group.slug, pending.pk, "approve"])
    )
    pending.refresh_from_db()
    if role in STAFF:
        assert response.status_code == 302
        assert pending.status == MembershipStatus.ACTIVE
    else:
        assert response.status_code in (302, 403)
        assert pending.status == MembershipStatus.PENDING
        assert_no_private_data(response.text)


def test_action_on_a_membership_of_another_group_changes_nothing(client, cast):
    cast.login(client, "other_facilitator")
    pending = Membership.objects.get(user=cast.people["pending"], group=cast.group)
    response = client.post(
        reverse("groups:member_action", args=[cast.other_group.slug, pending.pk, "approve"]),
        follow=True,
    )
    pending.refresh_from_db()
    assert pending.status == MembershipStatus.PENDING
    assert "not in this group" in response.text
    assert_no_private_data(response.text)


def test_unknown_member_action_is_not_found(client, cast):
    cast.login(client, "facilitator")
    pending = Membership.objects.get(user=cast.people["pending"], group=cast.group)
    url = reverse("groups:member_action", args=[cast.group.slug, pending.pk, "promote"])
    assert client.post(url).status_code == 404


def test_staff_without_mfa_are_sent_to_set_it_up_first(client, cast):
    cast.people["facilitator"].authenticator_set.all().delete()
    cast.login(client, "facilitator")
    response = client.get(reverse("groups:manage", args=[cast.group.slug]))
    assert response.status_code == 302
    assert response["Location"].split("?")[0] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("role", ROLES)
def test_only_coordinators_create_groups(client, cast, role):
    cast.login(client, role)
    response = client.get(reverse("groups:create"))
    assert response.status_code == expected(role, {"coordinator"})


def test_coordinator_creates_a_group_and_assigns_its_facilitator(client, cast):
    cast.login(client, "coordinator")
    new_facilitator = cast.people["outsider"]
    enable_mfa(new_facilitator)
    response = client.post(
        reverse("groups:create"),
        forms.new_group(new_facilitator.email.upper()),
    )
    assert response.status_code == 302
    membership = Membership.objects.get(group__slug="parkinsons-torino")
    assert membership.user == new_facilitator
    assert membership.role == "facilitator"
    assert membership.group.country == "IT"
    log_in(client, new_facilitator)
    assert client.get(reverse("groups:manage", args=["parkinsons-torino"])).status_code == 200
