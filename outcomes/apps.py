from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutcomesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outcomes"
    verbose_name = _("Outcomes")

    def ready(self) -> None:
        from members import audit
        from outcomes import personal_data

        personal_data.register(self.label)
        audit.register_actions(
            {
                "report.drilldown.opened": _("Opened one group's report"),
                "report.exported": _("Downloaded a report"),
            }
        )
