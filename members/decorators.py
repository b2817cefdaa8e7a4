from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from members.selectors import user_has_mfa


def mfa_required(view_func):
    """Open the view only to signed-in people with two-factor authentication on.

    Staff pages (facilitators, coordinators) wrap their views with this; anyone
    without MFA is led to set it up first.
    """

    @login_required
    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        return mfa_setup_redirect(request) or view_func(request, *args, **kwargs)

    return wrapper


def mfa_setup_redirect(request):
    """None when the signed-in person has MFA on, else the way to set it up first.

    Staff views call this after their own permission check, so people without the
    role get a 403 rather than an invitation to set up MFA.
    """
    if user_has_mfa(request.user):
        return None
    messages.info(
        request,
        _(
            "This page holds other people's information. Set up two-factor "
            "authentication first; it takes two minutes with an authenticator app."
        ),
    )
    return redirect("mfa_activate_totp")
