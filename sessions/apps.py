from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    """Meetings live in the `sessions` package; the label avoids django.contrib.sessions."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sessions"
    label = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        from sessions import notifications

        notifications.register()
