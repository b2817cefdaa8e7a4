from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "groups"
    verbose_name = _("Support groups")

    def ready(self) -> None:
        from groups import notifications, selectors, services
        from members import personal_data

        notifications.register()
        personal_data.register(
            "group_memberships",
            export=selectors.personal_data_for,
            erase=services.memberships_end_for_erasure,
        )
