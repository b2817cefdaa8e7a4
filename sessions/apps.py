from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    """Meetings live in the `sessions` package; the label avoids django.contrib.sessions."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "sessions"
    label = "meetings"
    verbose_name = _("Meetings")

    def ready(self) -> None:
        from groups.signals import membership_ended
        from members import audit, permissions
        from sessions import notifications, personal_data, selectors

        notifications.register()
        personal_data.register(self.label)
        permissions.register("meeting.manage", selectors.can_manage_meeting)
        permissions.register("meeting.attendance_unlock", permissions.is_coordinator)
        audit.register_action("register.opened", _("opened the register of a meeting"))
        audit.register_action("register.marked", _("marked attendance"))
        membership_ended.connect(_release_places, dispatch_uid="meetings-release-places")


def _release_places(sender, *, group_id: int, user_id: int, **kwargs) -> None:
    from sessions import services

    services.rsvps_release_on_leaving(group_id=group_id, user_id=user_id)
