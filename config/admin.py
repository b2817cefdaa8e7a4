"""The technical admin site, behind the same door as every other staff page.

Its own password form is never used: signing in goes through allauth (rate limits, the
second factor), and the site opens only to staff accounts whose session has passed the
second factor.
"""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin

from members.decorators import second_factor_redirect
from members.selectors import session_passed_second_factor


class PeerSupportAdminSite(admin.AdminSite):
    def has_permission(self, request) -> bool:
        return super().has_permission(request) and session_passed_second_factor(request)

    def login(self, request, extra_context=None):
        """allauth's login for visitors, 403 for people without admin access, and the
        second factor for staff whose session has not passed it."""

        @secure_admin_login
        def admin_login(request):
            return second_factor_redirect(request) or super(PeerSupportAdminSite, self).login(
                request, extra_context
            )

        return admin_login(request)
