from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from members import services
from members.forms import LanguageForm, ProfileForm
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
    response = redirect(next_url)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_language_set(user=request.user, language=language)
        translation.activate(language)
        response.set_cookie(
            "django_language",
            language,
            max_age=60 * 60 * 24 * 365,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
