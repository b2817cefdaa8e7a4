"""The Celery app: configuration from Django settings (CELERY_*), tasks found per app."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("peersupport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"])

# The clock: one beat process enqueues these; any number of workers run them.
app.conf.beat_schedule = {
    "notifications-tick": {
        "task": "members.tasks.notifications_tick",
        "schedule": 60.0,
    },
    "materialise-meeting-series": {
        "task": "sessions.tasks.materialise_series_horizons",
        "schedule": crontab(hour=2, minute=7),
    },
    "clear-expired-sessions": {
        "task": "config.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=17),
    },
}
