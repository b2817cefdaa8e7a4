from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        from members import audit, permissions, personal_data_sections, signals

        audit.register_actions(audit.MEMBERS_ACTIONS)
        permissions.register_rules()
        personal_data_sections.register(self.label)
        authenticator_added.connect(signals.second_factor_set_up, dispatch_uid="second-factor")
