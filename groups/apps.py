from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "groups"
    verbose_name = _("Support groups")

    def ready(self) -> None:
        from groups import models, notifications, selectors, services
        from members import permissions, personal_data

        notifications.register()
        permissions.register("group.manage", selectors.can_manage_group)
        permissions.register("group.manage_staff", selectors.manages_staff)
        permissions.register("group.create", permissions.is_coordinator)
        permissions.register("group.assign_facilitator", permissions.is_coordinator)
        personal_data.register(
            "group_memberships",
            app_label=self.label,
            export=selectors.personal_data_for,
            erase=services.memberships_end_for_erasure,
            models=[models.Membership, models.Invitation],
        )
