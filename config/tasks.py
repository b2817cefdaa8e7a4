"""Project-wide housekeeping tasks."""

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task(ignore_result=False)
def ping() -> str:
    """Answer 'pong': lets health checks and tests prove a worker really runs tasks."""
    return "pong"


@shared_task
def clear_expired_sessions() -> None:
    """Delete expired login sessions so the session table does not grow forever."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
