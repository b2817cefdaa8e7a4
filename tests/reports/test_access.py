"""Who may see which report, and what a bad filter gets: a reason, never a 500, never
someone else's numbers."""

import pytest
from django.urls import reverse

from groups.models import Role
from members.services import coordinator_grant
from tests.auth import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.reports.conftest import PERIOD_QUERY, as_dicts, page_tables, xlsx_sections

pytestmark = pytest.mark.django_db

PAGES = [
    ("reports:overview", {}),
    ("reports:attendance", {}),
    ("reports:retention", {}),
    ("reports:overview_export", {"fmt": "csv"}),
    ("reports:attendance_export", {"fmt": "xlsx"}),
    ("reports:retention_export", {"fmt": "csv"}),
]


@pytest.fixture
def people(programme):
    harbour = programme.harbour
    member = programme.people["a1"]
    moderator = UserFactory(display_name="Moderator Mo")
    MembershipFactory(group=harbour, user=moderator, role=Role.PEER_MODERATOR)
    co_facilitator = UserFactory(display_name="Co Cai")
    MembershipFactory(group=harbour, user=co_facilitator, role=Role.CO_FACILITATOR)
    no_mfa = UserFactory(display_name="No-MFA Nina")
    MembershipFactory(group=harbour, user=no_mfa, role=Role.FACILITATOR)
    for person in (programme.staff["fiona"], programme.staff["ed"], co_facilitator):
        enable_mfa(person)
    coordinator = UserFactory(display_name="Coordinator Cora")
    coordinator_grant(user=coordinator)
    enable_mfa(coordinator)
    return {
        "visitor": None,
        "outsider": UserFactory(display_name="Outsider Olga"),
        "member": member,
        "peer_moderator": moderator,
        "facilitator_without_mfa": no_mfa,
        "facilitator": programme.staff["fiona"],
        "co_facilitator": co_facilitator,
        "other_facilitator": programme.staff["ed"],
        "coordinator": coordinator,
    }


# role, expected status, groups named in the body, groups that must not be
MATRIX = [
    ("visitor", 302, [], ["Harbour Lights", "Other Shore"]),
    ("outsider", 403, [], ["Harbour Lights", "Other Shore"]),
    ("member", 403, [], ["Harbour Lights", "Other Shore"]),
    ("peer_moderator", 403, [], ["Harbour Lights", "Other Shore"]),
    ("facilitator_without_mfa", 302, [], ["Harbour Lights", "Other Shore"]),
    ("facilitator", 200, ["Harbour Lights"], ["Other Shore"]),
    ("co_facilitator", 200, ["Harbour Lights"], ["Other Shore"]),
    ("other_facilitator", 200, ["Other Shore"], ["Harbour Lights"]),
    ("coordinator", 200, ["Harbour Lights", "Other Shore"], []),
]


@pytest.mark.parametrize(("view", "kwargs"), PAGES)
@pytest.mark.parametrize(("role", "status", "sees", "never"), MATRIX)
def test_role_matrix(client, people, view, kwargs, role, status, sees, never):
    if people[role] is not None:
        log_in(client, people[role])
    query = {} if "overview" in view else PERIOD_QUERY
    if "retention" in view:
        query = {"period": "past-12-months"}  # the programme's members joined today
    if kwargs.get("fmt") == "csv" and "retention" in view:
        query["table"] = "retention_groups"  # a CSV holds one table: the one naming groups

    response = client.get(reverse(view, kwargs=kwargs), query)

    assert response.status_code == status
    body = response.content.decode("utf-8-sig", errors="replace")
    if status == 302:
        expected = "/accounts/login/" if role == "visitor" else "/accounts/2fa/"
        assert expected in response["Location"]
    if "xlsx" in kwargs.values() and status == 200:
        body = repr(xlsx_sections(response))
    if "overview" not in view:
        for name in sees:
            assert name in body
    for name in never:
        assert name not in body


def test_a_facilitator_asking_for_another_groups_report_gets_a_reason_and_no_numbers(
    client, programme, people
):
    log_in(client, people["facilitator"])
    for view, kwargs in PAGES:
        if "overview" in view:
            continue  # the overview has no filters
        query = {**PERIOD_QUERY, "group": programme.shore.pk}

        response = client.get(reverse(view, kwargs=kwargs), query)

        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        body = response.content.decode()
        assert "Other Shore" not in body
        assert "There is no report for that group, or it is not one of yours." in body
        assert "table-groups" not in body and "figures-summary" not in body


def test_a_facilitator_cannot_filter_by_another_groups_facilitator(client, programme, people):
    log_in(client, people["facilitator"])

    response = client.get(
        reverse("reports:attendance"),
        {**PERIOD_QUERY, "facilitator": programme.staff["ed"].pk},
    )

    assert response.status_code == 400
    assert "Elsewhere Ed" not in response.content.decode()
    assert "Choose a facilitator of one of the groups in the list." in response.content.decode()


def test_a_coordinator_can_narrow_the_report_to_one_facilitators_groups(client, programme, people):
    log_in(client, people["coordinator"])

    response = client.get(
        reverse("reports:attendance"),
        {**PERIOD_QUERY, "facilitator": programme.staff["ed"].pk},
    )

    tables, _ = page_tables(response)
    assert list(as_dicts(tables["groups"])) == ["Other Shore", "All groups in this report"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"period": "custom", "start": "2025-04-30", "end": "2025-03-01"},
            "The last day is before the first day.",
        ),
        (
            {"period": "custom", "start": "2015-01-01", "end": "2024-12-31"},
            "Choose a period of at most two years",
        ),
        ({"period": "custom", "start": "2025-01-01"}, "fill in both the first and the last day"),
        ({"period": "custom", "start": "31/01/2025", "end": "2025-03-01"}, "Enter a date such"),
        ({"period": "custom", "start": "1900-01-01", "end": "1900-02-01"}, "Reports start from"),
        ({"period": "forever"}, "Choose a period from the list."),
        ({"topic": "astrology"}, "Choose a topic from the list."),
        ({"format": "carrier-pigeon"}, "Choose a format from the list."),
        ({"area": "city:Atlantis"}, "Choose an area from the list."),
        ({"group": "abc"}, "There is no report for that group"),
        ({"group": "999999"}, "There is no report for that group"),
        ({"facilitator": "-1"}, "Choose a facilitator of one of the groups"),
    ],
)
@pytest.mark.parametrize("view", ["reports:attendance", "reports:retention"])
def test_bad_filters_get_a_clear_message_and_no_figures(client, people, query, message, view):
    assert_refused(client, people, view, query, message)


def test_an_unknown_trend_unit_gets_a_clear_message(client, people):
    assert_refused(client, people, "reports:attendance", {"by": "year"}, "Choose week or month.")


def assert_refused(client, people, view, query, message):
    log_in(client, people["coordinator"])

    response = client.get(reverse(view), query)

    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "These filters can't make a report" in body
    assert "Harbour Lights</a>" not in body
    assert "table-" not in body


def test_bad_filters_on_an_export_get_the_page_with_the_reason_not_a_file(client, people):
    log_in(client, people["coordinator"])

    response = client.get(
        reverse("reports:attendance_export", kwargs={"fmt": "csv"}),
        {"period": "custom", "start": "2025-04-30", "end": "2025-03-01"},
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in response


def test_an_unknown_export_format_is_not_found(client, people):
    log_in(client, people["coordinator"])

    response = client.get("/reports/attendance/export.pdf")

    assert response.status_code == 404


def test_the_reports_link_shows_for_staff_only(client, people):
    for role, shown in [
        ("member", False),
        ("facilitator", True),
        ("coordinator", True),
        ("co_facilitator", True),
    ]:
        log_in(client, people[role])
        body = client.get(reverse("meetings:mine")).content.decode()
        assert (f'href="{reverse("reports:overview")}"' in body) is shown, role
