"""On a database other than PostgreSQL (the embedded SQLite of `make run`), the attendance
and retention reports and their exports answer with a page that says what they need and
how to get it, never a 500; the programme overview, counted by the ORM, still works."""

import pytest
from django.urls import reverse

from members.services import coordinator_grant
from outcomes import views
from tests.auth import log_in
from tests.factories import UserFactory
from tests.groups.conftest import enable_mfa

pytestmark = pytest.mark.django_db

NEED_POSTGRESQL = [
    ("reports:attendance", {}),
    ("reports:attendance_export", {"fmt": "csv"}),
    ("reports:attendance_export", {"fmt": "xlsx"}),
    ("reports:retention", {}),
    ("reports:retention_export", {"fmt": "csv"}),
    ("reports:retention_export", {"fmt": "xlsx"}),
]


@pytest.fixture
def coordinator(client):
    person = UserFactory(display_name="Coordinator Cora")
    coordinator_grant(user=person)
    enable_mfa(person)
    log_in(client, person)
    return person


@pytest.fixture
def not_postgresql(monkeypatch):
    monkeypatch.setattr(views, "report_tables_available", lambda: False)


@pytest.mark.parametrize(("view", "kwargs"), NEED_POSTGRESQL)
def test_reports_counted_by_postgresql_say_so_on_another_database(
    client, coordinator, not_postgresql, view, kwargs
):
    response = client.get(reverse(view, kwargs=kwargs), {"period": "past-6-months"})

    assert response.status_code == 501
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "<h1>This report needs PostgreSQL</h1>" in body
    assert "DATABASE_URL=postgres://" in body
    assert "python manage.py migrate" in body
    assert 'aria-current="page"' in body  # in the reports' navigation, in the base layout


def test_the_page_is_translated(client, coordinator, not_postgresql):
    coordinator.language = "it"
    coordinator.save()

    response = client.get(reverse("reports:retention"))

    assert response.status_code == 501
    body = response.content.decode()
    assert "PostgreSQL" in body
    assert "This report needs PostgreSQL" not in body


def test_visitors_and_members_are_still_refused_first(client, not_postgresql):
    response = client.get(reverse("reports:attendance"))
    assert response.status_code == 302  # to sign in

    log_in(client, UserFactory())
    assert client.get(reverse("reports:attendance")).status_code == 403


def test_programme_overview_works_on_any_database(client, coordinator, not_postgresql):
    assert client.get(reverse("reports:overview")).status_code == 200
    assert client.get(reverse("reports:overview_export", kwargs={"fmt": "csv"})).status_code == 200
