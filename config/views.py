from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from config.health import broker_status, database_status
from members.consent import CURRENT_VERSIONS
from members.models import ConsentKind
from members.notifications import oldest_due_unsent_age


@require_GET
def home(request):
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value == "ok" for value in checks.values())
    outbox_lag = oldest_due_unsent_age() if checks["database"] == "ok" else None
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            **checks,
            "oldest_due_unsent_seconds": None if outbox_lag is None else round(outbox_lag),
        },
        status=200 if healthy else 503,
    )


class PrivacyView(TemplateView):
    """The privacy notice and terms of use that people accept when they sign up."""

    template_name = "pages/privacy.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            version=CURRENT_VERSIONS[ConsentKind.TERMS],
            contact_email=settings.PRIVACY_CONTACT_EMAIL,
            **kwargs,
        )


privacy = PrivacyView.as_view()


@cache_control(max_age=60 * 60 * 24, public=True)
@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico on their own; send them to the SVG icon.

    A temporary redirect, because the icon's static address changes with its content.
    """
    return redirect(static("favicon.svg"))
