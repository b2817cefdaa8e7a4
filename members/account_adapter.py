"""allauth's account adapter, with one change: a fresh sign-in counts for adding a factor.

allauth asks for the password again before the authenticator app is set up (and before
its recovery codes are shown), and counts only a password typed *again* for that, so
someone who signed in a minute ago, and was sent to set up two-factor authentication by
the staff page they opened, is asked for the password a second time. Here the sign-in
itself counts while it is recent (ACCOUNT_REAUTHENTICATION_TIMEOUT) for turning the app
on, and turning it on counts for seeing the codes it came with (members/mfa_setup.py).
Turning it off, new recovery codes, a new email address and the data export still ask.
"""

from allauth.account.adapter import DefaultAccountAdapter

from members.mfa_setup import reauthentication_waived


class AccountAdapter(DefaultAccountAdapter):
    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        request = self.request
        if app == "allauth.mfa" and request is not None and reauthentication_waived(request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)
