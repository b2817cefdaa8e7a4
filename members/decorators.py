from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from members import permissions
from members.selectors import session_passed_second_factor, user_has_mfa


def mfa_required(view_func):
    """Open the view only to people whose session has passed the second factor.

    Staff pages (facilitators, coordinators) wrap their views with this; anyone
    without MFA is led to set it up first, anyone whose session has not used it yet
    is asked for a code first.
    """

    @login_required
    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        return second_factor_redirect(request) or view_func(request, *args, **kwargs)

    return wrapper


def coordinator_required(view_func):
    """Coordinators only (403 for anyone else), with the second factor passed."""

    @login_required
    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        permissions.require(request.user, "programme.coordinate")
        return second_factor_redirect(request) or view_func(request, *args, **kwargs)

    return wrapper


def second_factor_redirect(request):
    """None when this session has passed the second factor, else the way to pass it.

    Having an authenticator is not enough: the session must have used it (at sign-in,
    or by confirming a code since, or by setting it up just now), so a password alone,
    or a session that signed in before the authenticator existed, never opens a staff
    page. Staff views call this after their own permission check, so people without
    the role get a 403 rather than an invitation to set up MFA.
    """
    if session_passed_second_factor(request):
        return None
    next_query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
    if not user_has_mfa(request.user):
        messages.info(
            request,
            _(
                "This page holds other people's information. Set up two-factor "
                "authentication first; it takes two minutes with an authenticator app."
            ),
        )
        return redirect(f"{reverse('mfa_activate_totp')}?{next_query}")
    messages.info(
        request,
        _(
            "This page holds other people's information. Enter a code from your "
            "authenticator app (or a recovery code) to continue."
        ),
    )
    return redirect(f"{reverse('mfa_reauthenticate')}?{next_query}")
