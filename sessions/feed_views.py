"""Feeds for calendar apps and meeting finders, and the page with a member's feed address.

The feeds take no login (calendar apps can't sign in): the member feed is found by the
secret token in its address, the others show only what the public pages show.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods

from sessions import feed_selectors, feeds, services

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


def _base_url(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _language(code: str) -> str:
    available = {language for language, _name in settings.LANGUAGES}
    return code if code in available else settings.LANGUAGE_CODE


def _ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@cache_control(private=True, max_age=900)
def member_calendar(request, token: str):
    user = feed_selectors.member_by_feed_token(token)
    if user is None:
        raise Http404
    meetings = feed_selectors.member_feed_meetings(user)
    with translation.override(_language(user.language)):
        body = feeds.calendar_ics(
            meetings,
            name=_("My support group meetings"),
            calendar_key=f"member/{user.pk}",
            base_url=_base_url(request),
            for_members=True,
        )
    response = _ics_response(body, "meetings.ics")
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
@cache_control(public=True, max_age=900)
def group_calendar(request, slug: str):
    group = feed_selectors.public_feed_group(slug)
    if group is None:
        raise Http404
    meetings = feed_selectors.group_feed_meetings(group)
    with translation.override(_language(group.language)):
        body = feeds.calendar_ics(
            meetings,
            name=group.name,
            calendar_key=f"group/{group.pk}",
            base_url=_base_url(request),
            for_members=False,
        )
    return _ics_response(body, f"{group.slug}.ics")


@require_GET
@cache_control(public=True, max_age=900)
def meeting_guide(request):
    entries = feeds.meeting_guide_entries(
        feed_selectors.meeting_guide_rows(), base_url=_base_url(request)
    )
    response = JsonResponse(entries, safe=False)
    # Meeting finders (TSML UI and others) fetch the feed from their own sites.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def calendar_settings(request):
    if request.method == "POST":
        services.calendar_token_regenerate(user=request.user)
        messages.success(
            request,
            _(
                "Your calendar has a new address. The old one has stopped working: "
                "subscribe again with the address below."
            ),
        )
        return redirect("meetings_feeds:calendar_settings")
    address = services.calendar_token_for(user=request.user)
    if address.replaced:
        messages.info(
            request,
            _(
                "Your calendar address has changed and the old one no longer works: "
                "subscribe again with the address below."
            ),
        )
    path = reverse("meetings_feeds:member_calendar", kwargs={"token": address.token})
    feed_url = request.build_absolute_uri(path)
    return render(request, "sessions/calendar.html", {"feed_url": feed_url})
