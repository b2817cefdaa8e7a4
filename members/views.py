import json

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from members import notifications, selectors, services
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


@coordinator_required
def audit_log(request):
    page = Paginator(selectors.audit_events(), 50).get_page(request.GET.get("page"))
    return render(request, "members/audit_log.html", {"page": page})


@login_required
def notification_preferences(request):
    prefs = NotificationPreferences.objects.filter(user=request.user).first()
    prefs = prefs or NotificationPreferences(user=request.user)
    form = NotificationPreferencesForm(request.POST or None, instance=prefs)
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
    return render(request, "members/outbox.html", selectors.outbox_overview())
