import json

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from members import notifications, permissions, selectors, services
from members.audit import label_for
from members.decorators import coordinator_required
from members.forms import (
    AccountDeleteForm,
    ConsentForm,
    LanguageForm,
    NotificationPreferencesForm,
    ProfileForm,
)
from members.models import ConsentKind, NotificationKind, NotificationPreferences, User
from members.selectors import user_has_mfa
from members.staff_forms import AuditFilterForm, OutboxFilterForm


@login_required
def account(request):
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            services.user_profile_update(user=request.user, **form.cleaned_data)
            translation.activate(request.user.language)
            messages.success(request, _("Your profile has been saved."))
            return redirect("members:account")
    else:
        form = ProfileForm(instance=request.user)
    return render(
        request,
        "members/account.html",
        {"form": form, "mfa_enabled": user_has_mfa(request.user)},
    )


@require_POST
def switch_language(request):
    form = LanguageForm(request.POST)
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)  # an address, never a view name
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_language_set(user=request.user, language=language)
        translation.activate(language)
        messages.success(request, _("Language changed."))
        response.set_cookie(
            "django_language",
            language,
            max_age=60 * 60 * 24 * 365,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@login_required
def privacy_choices(request):
    state = selectors.consent_state(user=request.user)
    form = ConsentForm(
        request.POST or None,
        initial={
            "email_contact": state.get(ConsentKind.EMAIL_CONTACT, False),
            "research_use": state.get(ConsentKind.RESEARCH_USE, False),
        },
    )
    if request.method == "POST" and form.is_valid():
        changed = services.consents_update(
            user=request.user,
            choices={
                ConsentKind.EMAIL_CONTACT: form.cleaned_data["email_contact"],
                ConsentKind.RESEARCH_USE: form.cleaned_data["research_use"],
            },
        )
        messages.success(
            request,
            _("Your choices have been saved.") if changed else _("Nothing has changed."),
        )
        return redirect("members:privacy")
    return render(
        request,
        "members/privacy.html",
        {"form": form, "history": selectors.consent_history(user=request.user)},
    )


@login_required
@reauthentication_required  # a session alone (perhaps a stolen one) never downloads it all
def export(request):
    data = selectors.personal_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="my-peer-support-data-{stamp}.json"'
    return response


@login_required
@reauthentication_required
def delete(request):
    form = AccountDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.account_erase(user=request.user)
        logout(request)
        messages.success(request, _("Your account and your personal data have been erased."))
        return redirect("home")
    return render(request, "members/delete.html", {"form": form})


AUDIT_PAGE_SIZE = 50
OUTBOX_PAGE_SIZE = 25


def _query_without(request, *names: str) -> str:
    """The page's query string without `names`, for links that keep the filters."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@coordinator_required
def audit_log(request):
    """Who on the staff opened or changed whose data, in plain words; filtered by staff
    member, person, group and dates; the same rows as a CSV (a download that is itself
    written to the log)."""
    form = AuditFilterForm(request.GET)
    valid = form.is_valid()
    events = selectors.audit_events(filters=form.filters() if valid else None)
    if not valid:
        events = events.none()
    if valid and request.GET.get("format") == "csv":
        services.audit_record(
            actor=request.user, subjects=[None], action="audit.export", context=form.described()
        )
        response = HttpResponse(selectors.audit_csv(events), content_type="text/csv; charset=utf-8")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.label = label_for(event.action)
    filters_query = _query_without(request, "page", "format")
    return render(
        request,
        "members/audit_log.html",
        {
            "form": form,
            "page": page,
            "filters_query": filters_query,
            "filtered": bool(filters_query),
        },
        status=200 if valid else 400,
    )


@login_required
def notification_preferences(request):
    prefs = NotificationPreferences.objects.filter(user=request.user).first()
    prefs = prefs or NotificationPreferences(user=request.user)
    facilitates = permissions.allowed(request.user, "group.facilitate")
    form = NotificationPreferencesForm(
        request.POST or None, instance=prefs, facilitates=facilitates
    )
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your email choices have been saved."))
        return redirect("members:notifications")
    return render(request, "members/notifications.html", {"form": form})


@csrf_exempt
def unsubscribe(request, token):
    """One-click unsubscribe (RFC 8058): works logged out; GET asks, POST does it.

    Mail providers POST 'List-Unsubscribe=One-Click' without cookies, hence no CSRF
    check: the signed token is the proof.
    """
    parsed = notifications.unsubscribe_read(token)
    if parsed is None or parsed[1] not in NotificationKind.values:
        return render(request, "members/unsubscribe.html", {"invalid": True}, status=404)
    user_id, kind = parsed
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return render(request, "members/unsubscribe.html", {"invalid": True}, status=404)
    label = NotificationKind(kind).label
    if request.method == "POST":
        services.notifications_unsubscribe(user=user, kind=kind)
        return render(request, "members/unsubscribe.html", {"done": True, "label": label})
    return render(request, "members/unsubscribe.html", {"label": label, "token": token})


@coordinator_required
def outbox(request):
    """Every message, found by recipient, status and kind, each with what it said (built
    again now, as the sending worker builds it); failed ones can be put back in the queue."""
    if request.method == "POST":
        notification_id = request.POST.get("retry", "")
        # Only ASCII digits: "²" passes isdigit() but int() refuses it.
        if (
            notification_id.isascii()
            and notification_id.isdecimal()
            and notifications.notification_retry(
                notification_id=int(notification_id), actor=request.user
            )
        ):
            messages.success(request, _("The message is back in the queue."))
        else:
            messages.error(request, _("That message can't be retried."))
        return redirect("members:outbox")
    form = OutboxFilterForm(request.GET)
    valid = form.is_valid()
    found = selectors.outbox_messages(filters=form.filters()) if valid else None
    page = Paginator(found if valid else [], OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = preview = None
    message_id = request.GET.get("message", "")
    if message_id:
        if not (message_id.isascii() and message_id.isdecimal()):
            raise Http404
        shown = selectors.outbox_message(notification_id=int(message_id))
        if shown is None:
            raise Http404
        preview = notifications.notification_preview(shown)
        services.audit_record(
            actor=request.user,
            subjects=[shown.recipient_id],
            action="outbox.message.view",
            context=f"{shown.get_kind_display()} #{shown.pk}"
            + (f" to {shown.to_email}" if shown.recipient_id is None else ""),
        )
    return render(
        request,
        "members/outbox.html",
        {
            **selectors.outbox_overview(),
            "form": form,
            "page": page,
            "shown": shown,
            "preview": preview,
            "filters_query": _query_without(request, "page", "message"),
            "page_query": _query_without(request, "message"),
        },
        status=200 if valid else 400,
    )
