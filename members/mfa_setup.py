"""Setting up the authenticator app: where the person was going, and a fresh sign-in.

allauth's activation page is kept (its form, its checks, its recovery codes); on top of
it, a `next` address the second-factor redirect (members/decorators.py) hands over is
carried through the activation and the recovery codes, so "Continue" goes back to the
staff page that asked for it. An address is followed only if it stays on this site.

It also says when a step of the setting-up may skip allauth's password prompt
(members/account_adapter.py asks): turning the app on within the re-authentication
timeout of signing in, and seeing its recovery codes within it of turning the app on.
"""

import time

from allauth.account import app_settings as account_settings
from allauth.account.authentication import get_authentication_records
from allauth.core.internal.httpkit import add_query_params
from allauth.mfa.totp import views as totp_views
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.utils.http import url_has_allowed_host_and_scheme

# allauth's own name for the activation page, which our view takes over (config/urls.py).
ACTIVATE_TOTP_URL_NAME = "mfa_activate_totp"
RECOVERY_CODE_URL_NAMES = frozenset({"mfa_view_recovery_codes", "mfa_download_recovery_codes"})
# When this session turned the authenticator app on (seconds since the epoch).
SET_UP_SESSION_KEY = "mfa_set_up_at"


def safe_next(request) -> str | None:
    """The `next` address of this request (form first, then query) if it stays on this site."""
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _recent_steps(request) -> list[dict]:
    """This session's authentication steps (signing in, codes) within the timeout.

    allauth keeps each step in the session with its time; the re-authentication
    timeout is the same window in which allauth trusts a password typed again.
    """
    user = request.user
    if not user.is_authenticated:
        return []
    now = time.time()
    return [
        step
        for step in get_authentication_records(request, user)
        if now - step.get("at", 0) < account_settings.REAUTHENTICATION_TIMEOUT
    ]


def signed_in_recently(request) -> bool:
    return bool(_recent_steps(request))


def set_up_recently(request) -> bool:
    """Whether this session turned the authenticator app on within the timeout."""
    set_up_at = request.session.get(SET_UP_SESSION_KEY)
    return (
        request.user.is_authenticated
        and set_up_at is not None
        and time.time() - set_up_at < account_settings.REAUTHENTICATION_TIMEOUT
    )


def reauthentication_waived(request) -> bool:
    """Whether this step of setting up the second factor may skip the password prompt.

    Turning the app on, just after signing in; seeing (or downloading) the recovery
    codes, just after turning it on. Everything else about the second factor asks.
    """
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match is not None else None
    if name == ACTIVATE_TOTP_URL_NAME:
        return signed_in_recently(request)
    if name in RECOVERY_CODE_URL_NAMES:
        return set_up_recently(request)
    return False


class ActivateTOTPView(totp_views.ActivateTOTPView):
    """allauth's activation page, keeping a safe `next` through to the recovery codes."""

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["next_url"] = safe_next(self.request)
        return context

    def get_success_url(self) -> str:
        url = super().get_success_url()
        next_url = safe_next(self.request)
        if next_url is None:
            return url
        if self.did_generate_recovery_codes:
            return add_query_params(url, {REDIRECT_FIELD_NAME: next_url})
        return next_url  # codes kept from before: straight back to where they were going

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[SET_UP_SESSION_KEY] = time.time()
        return response


activate_totp = ActivateTOTPView.as_view()
