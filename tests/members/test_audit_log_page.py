"""The audit log reads in plain words, narrows by staff member, person, group and dates,
downloads as a CSV (itself written to the log), and holds what the app promises to log:
rosters, report drill-downs and downloads, messages read in the outbox."""

import csv
import io
import itertools
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from members.models import AuditEvent, User
from members.services import audit_record
from tests.groups import conftest as groups_conftest
from tests.groups.conftest import ROLES, assert_no_private_data
from tests.query_budget import assert_flat, query_per_row

pytestmark = pytest.mark.django_db

cast = groups_conftest.cast  # the role cast: one person in every role

URL = "/account/audit/"


def rows_of(body: str) -> list[list[str]]:
    """The audit table's body rows as cell texts (a crude reader: cells hold no tags)."""
    table = body.split('id="audit-caption"')[1].split("</tbody>")[0].split("<tbody>")[1]
    rows = []
    for chunk in table.split("<tr>")[1:]:
        cells = [cell.split("</td>")[0].strip() for cell in chunk.split("<td>")[1:]]
        rows.append(cells)
    return rows


def download(client, **query) -> list[dict]:
    response = client.get(URL, {**query, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.fixture
def history(cast):
    """Fiona opened her group's roster today; Ed opened a report on his group ten days
    ago; Cora read a message to the member three days ago."""
    now = timezone.now()
    fiona, ed, cora = (cast.people[r] for r in ("facilitator", "other_facilitator", "coordinator"))
    member, petra = cast.people["member"], cast.people["pending"]
    audit_record(
        actor=fiona,
        subjects=[member, petra],
        action="group.roster.view",
        context=cast.group.name,
        group_id=cast.group.pk,
        group_name=cast.group.name,
    )
    audit_record(
        actor=ed,
        subjects=[None],
        action="report.drilldown.opened",
        context="attendance",
        group_id=cast.other_group.pk,
        group_name=cast.other_group.name,
    )
    AuditEvent.objects.filter(actor=ed).update(created_at=now - timedelta(days=10))
    audit_record(
        actor=cora, subjects=[member], action="outbox.message.view", context="Meeting reminders"
    )
    AuditEvent.objects.filter(actor=cora).update(created_at=now - timedelta(days=3))
    return cast


def test_the_url_is_the_audit_log():
    assert reverse("members:audit_log") == URL


@pytest.mark.parametrize("role", ROLES)
def test_only_coordinators_read_or_download_the_log(client, history, role):
    history.login(client, role)

    page = client.get(URL)
    csv_file = client.get(URL, {"format": "csv"})

    if role == "coordinator":
        assert page.status_code == csv_file.status_code == 200
        assert "Quillon-Member" in page.text and "Quillon-Member" in csv_file.content.decode()
    else:
        expected = 302 if role == "visitor" else 403
        assert page.status_code == csv_file.status_code == expected
        for body in (page.text, csv_file.content.decode()):
            assert_no_private_data(body)
            assert "Opened a group" not in body
        assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_rows_read_in_plain_words(client, history):
    history.login(client, "coordinator")

    rows = rows_of(client.get(URL).text)

    assert ["Facilitator Fiona", "Opened a group&#x27;s roster", "Quillon-Member"] in [
        row[1:4] for row in rows
    ]
    assert ["Elsewhere Ed", "Opened one group&#x27;s report", "—", "Other Shore"] in [
        row[1:5] for row in rows
    ]
    assert ["Coordinator Cora", "Read a message in the email outbox"] in [row[1:3] for row in rows]
    assert all("." not in row[2] for row in rows)  # no action codes


@pytest.mark.parametrize(
    ("query", "staff"),
    [
        ({"staff": "fiona"}, {"Facilitator Fiona"}),
        ({"person": "quillon.member@"}, {"Facilitator Fiona", "Coordinator Cora"}),
        ({"person": "Petra"}, {"Facilitator Fiona"}),
        ({"group": "other shore"}, {"Elsewhere Ed"}),
        ({"group": "Harbour", "staff": "Cora"}, set()),
    ],
)
def test_filters_narrow_by_staff_member_person_and_group(client, history, query, staff):
    history.login(client, "coordinator")

    response = client.get(URL, query)

    assert response.status_code == 200
    shown = {row[1] for row in rows_of(response.text) if len(row) > 1}
    assert shown == staff


def test_filters_narrow_by_days(client, history):
    history.login(client, "coordinator")
    today = timezone.localdate()

    last_week = client.get(URL, {"since": (today - timedelta(days=7)).isoformat()})
    before = client.get(
        URL,
        {
            "since": (today - timedelta(days=12)).isoformat(),
            "until": (today - timedelta(days=5)).isoformat(),
        },
    )

    assert {row[1] for row in rows_of(last_week.text)} == {"Facilitator Fiona", "Coordinator Cora"}
    assert {row[1] for row in rows_of(before.text)} == {"Elsewhere Ed"}


def test_days_the_wrong_way_round_say_so_and_show_nothing(client, history):
    history.login(client, "coordinator")
    today = timezone.localdate()

    response = client.get(
        URL, {"since": today.isoformat(), "until": (today - timedelta(days=1)).isoformat()}
    )

    assert response.status_code == 400
    assert "The last day is before the first day." in response.text
    assert "Quillon-Member" not in response.text


def test_the_download_holds_the_filtered_rows_and_is_itself_logged(client, history):
    history.login(client, "coordinator")

    rows = download(client, group="harbour")

    assert {row["Whose data"] for row in rows} == {"Quillon-Member", "Pending-Petra"}
    assert {row["What"] for row in rows} == {"Opened a group's roster"}
    assert {row["Action code"] for row in rows} == {"group.roster.view"}
    assert {row["Staff member's email"] for row in rows} == {history.people["facilitator"].email}
    logged = AuditEvent.objects.get(action="audit.export")
    assert logged.actor == history.people["coordinator"] and logged.subject is None
    assert "group=harbour" in logged.context
    assert ["Coordinator Cora", "Downloaded the audit log"] in [
        row[1:3] for row in rows_of(client.get(URL).text)
    ]


def test_a_name_that_looks_like_a_formula_is_text_in_the_download(client, history):
    User.objects.filter(pk=history.people["facilitator"].pk).update(display_name="=1+2")
    history.login(client, "coordinator")

    everything = download(client)

    assert "'=1+2" in {row["Staff member"] for row in everything}


# --- What the app promises to log -----------------------------------------------------


def test_opening_one_groups_report_and_downloading_it_are_logged(client, history):
    history.login(client, "coordinator")
    group = history.group
    query = {"period": "past-3-months", "group": group.pk}

    assert client.get(reverse("reports:attendance"), query).status_code == 200
    assert client.get(reverse("reports:attendance"), {"period": "past-3-months"}).status_code == 200
    export = client.get(reverse("reports:attendance_export", kwargs={"fmt": "csv"}), query)
    assert export.status_code == 200

    opened = AuditEvent.objects.get(action="report.drilldown.opened", group_id=group.pk)
    assert opened.actor == history.people["coordinator"] and opened.subject is None
    assert opened.group_name == group.name
    assert AuditEvent.objects.filter(action="report.drilldown.opened").count() == 2  # + Ed's
    exported = AuditEvent.objects.get(action="report.exported")
    assert exported.group_id == group.pk and exported.context.startswith("attendance csv")
    rows = rows_of(client.get(URL, {"group": group.name}).text)
    assert ["Coordinator Cora", "Downloaded a report", "—", group.name] in [
        row[1:5] for row in rows
    ]


def test_a_roster_view_carries_its_group(client, cast):
    cast.login(client, "facilitator")
    client.get(reverse("groups:manage", args=[cast.group.slug]))

    events = AuditEvent.objects.filter(action="group.roster.view")

    assert events.exists()
    assert set(events.values_list("group_id", "group_name")) == {(cast.group.pk, cast.group.name)}


# --- Query budget ----------------------------------------------------------------------

_numbers = itertools.count()


def add_rows(count: int) -> None:
    numbers = [next(_numbers) for _ in range(count)]
    people = User.objects.bulk_create(
        User(email=f"audit{n}@example.net", display_name=f"Looked {n:04d}", password="!")
        for n in numbers
    )
    staff = User.objects.bulk_create(
        User(email=f"staff{n}@example.net", display_name=f"Staff {n:04d}", password="!")
        for n in numbers
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            subject=subject,
            action="group.roster.view",
            group_id=n,
            group_name=f"Group {n}",
        )
        for n, actor, subject in zip(numbers, staff, people, strict=True)
    )


def filtered_budget(client):
    return assert_flat(
        small_setup=lambda: add_rows(5),
        large_setup=lambda: add_rows(195),
        request=lambda: client.get(URL, {"person": "example.net", "group": "Group"}),
        label="audit search",
    )


def test_a_filtered_page_costs_the_same_for_5_and_200_rows(client, cast):
    cast.login(client, "coordinator")
    filtered_budget(client)


def test_control_a_query_per_row_fails_the_budget(client, cast, monkeypatch):
    from members import selectors

    query_per_row(monkeypatch, selectors, "audit_events")
    cast.login(client, "coordinator")
    with pytest.raises(AssertionError, match=r"audit search: \d+ queries"):
        filtered_budget(client)
