from dataclasses import dataclass

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView

from config.health import broker_status, database_status
from groups import selectors as group_selectors
from members.consent import CURRENT_VERSIONS
from members.models import ConsentKind
from members.notifications import oldest_due_unsent_age
from members.selectors import session_passed_second_factor
from outcomes import open_items, reports
from sessions import selectors as meeting_selectors

HOME_NEXT_MEETINGS = 3


@dataclass(frozen=True)
class Alert:
    """Something on the programme overview a coordinator should act on."""

    label: str
    count: int
    url: str


def _coordinator_alerts(user, now) -> list[Alert]:
    """The overview's figures that ask for action, and the other areas' open items: the
    same selectors as the overview page, so the two never disagree."""
    scope = reports.report_scope(user)
    overview = reports.programme_overview(scope, now=now)
    overview_url = reverse("reports:overview")
    alerts = [
        Alert(label, count, overview_url)
        for label, count in (
            (_("Groups without an active facilitator"), overview.unstaffed_group_count),
            (
                _("Meetings in the next 7 days without a facilitator"),
                overview.unstaffed_meeting_count,
            ),
            (_("Requests to join waiting more than 7 days"), overview.overdue_total),
        )
    ]
    alerts += [
        Alert(item.label, item.count, item.url or overview_url)
        for item in open_items.open_items(scope, now)
    ]
    return [alert for alert in alerts if alert.count]


def _personal_home(request):
    """Today's and the next meetings with the person's answer, the registers they have to
    take, their groups, and for coordinators what the overview asks them to act on."""
    user = request.user
    now = timezone.now()
    staff_session = session_passed_second_factor(request)
    meetings = meeting_selectors.my_upcoming_meetings(
        user, now=now, staff_links=staff_session
    ).object_list
    today = timezone.localdate(now)
    todays = [m for m in meetings if timezone.localdate(m.starts_at) <= today]
    later = [m for m in meetings if timezone.localdate(m.starts_at) > today]
    is_coordinator = user.is_coordinator
    return render(
        request,
        "home_signed_in.html",
        {
            "todays_meetings": todays,
            "next_meetings": later[:HOME_NEXT_MEETINGS],
            "more_meetings": len(later) > HOME_NEXT_MEETINGS,
            "my_groups": group_selectors.home_groups(user),
            "is_coordinator": is_coordinator,
            "staff_session": staff_session,
            "alerts": _coordinator_alerts(user, now) if is_coordinator and staff_session else None,
        },
    )


@require_GET
def home(request):
    """The programme's front page for visitors; a personal home for people signed in."""
    if request.user.is_authenticated:
        return _personal_home(request)
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
