from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "groups"
    verbose_name = _("Support groups")

    def ready(self) -> None:
        from groups import models, notifications, selectors, services
        from members import audit, permissions, personal_data

        notifications.register()
        audit.register_actions(
            {
                "group.roster.view": _("Opened a group's roster"),
                "group.request.approve": _("Approved a request to join"),
                "group.request.decline": _("Declined a request to join"),
                "group.member.remove": _("Removed someone from a group"),
                "group.member.role": _("Changed someone's role in a group"),
                "group.member.restore": _("Restored someone to a group"),
            }
        )
        permissions.register("group.manage", selectors.can_manage_group)
        permissions.register("group.manage_staff", selectors.manages_staff)
        permissions.register(  # facilitates or co-facilitates some group
            "group.facilitate", lambda user, _group=None, **_: selectors.staffs_a_group(user)
        )
        permissions.register("group.create", permissions.is_coordinator)
        permissions.register("group.assign_facilitator", permissions.is_coordinator)
        personal_data.register(
            "group_memberships",
            app_label=self.label,
            export=selectors.personal_data_for,
            erase=services.memberships_end_for_erasure,
            models=[models.Membership, models.Invitation],
        )
