"""A real Celery worker on the Redis broker, and the /healthz readiness probe."""

import pytest
from celery._state import _set_task_join_will_block
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.test import override_settings

from config.celery import app as celery_app
from config.tasks import ping


@pytest.fixture(scope="module")
def celery_worker():
    """A worker thread consuming from the same Redis broker the web processes publish to."""
    with start_worker(
        celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10
    ) as worker:
        yield worker
    # Starting a worker marks this process as one in which waiting on a result would
    # block a task; it is a test process again once the worker has stopped.
    _set_task_join_will_block(False)


def test_settings_point_celery_at_redis_not_at_an_in_process_stand_in():
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    assert celery_app.conf.broker_url.startswith("redis://")
    assert celery_app.conf.result_backend.startswith("redis://")
    assert not celery_app.conf.task_always_eager


def test_ping_task_round_trips_through_the_broker_to_a_worker(celery_worker):
    result = ping.delay()

    assert result.get(timeout=20) == "pong"
    assert result.status == "SUCCESS"


def test_worker_runs_tasks_sent_by_name(celery_worker):
    result = celery_app.send_task("config.tasks.ping")

    assert result.get(timeout=20) == "pong"


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "oldest_due_unsent_seconds": None,
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_reports_how_long_the_oldest_due_message_has_waited(client):
    from datetime import timedelta

    from django.utils import timezone

    from members.models import Notification
    from tests.factories import UserFactory

    Notification.objects.create(
        recipient=UserFactory(),
        kind="meeting-reminder",
        subject_key="meeting:1",
        slot="day-before:x",
        due_at=timezone.now() - timedelta(minutes=10),
    )
    Notification.objects.create(
        recipient=UserFactory(),
        kind="meeting-reminder",
        subject_key="meeting:1",
        slot="day-before:y",
        due_at=timezone.now() + timedelta(minutes=10),  # not due yet: not counted
    )
    age = client.get("/healthz").json()["oldest_due_unsent_seconds"]
    assert 590 <= age <= 660


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_healthz_is_503_when_the_broker_is_unreachable(client):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


@pytest.mark.django_db
def test_healthz_answers_only_get(client):
    assert client.post("/healthz").status_code == 405
