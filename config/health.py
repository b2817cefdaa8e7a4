"""Liveness and readiness: can this process reach its database and its broker?"""

from django.conf import settings
from django.db import connection

from config.celery import app as celery_app


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return f"error: {exc.__class__.__name__}"
    return "ok"


def broker_status() -> str:
    try:
        with celery_app.connection_for_write(
            url=settings.CELERY_BROKER_URL, connect_timeout=2
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:  # any failure means "not ready"; the reason is reported
        return f"error: {exc.__class__.__name__}"
    return "ok"
