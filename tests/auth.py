"""Signing people in for tests, with the same session a real sign-in leaves behind.

allauth records each authentication step in the session (password, then the second
factor); staff pages open only to sessions that hold a second-factor step. `log_in`
leaves exactly what signing in with the password and then the authenticator app leaves;
a test about password-only sessions uses `client.force_login` on its own.
"""

import time

from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.utils import is_mfa_enabled

# Which person the records in the session belong to (allauth's key).
AUTHENTICATION_USER_SESSION_KEY = "account_authentication_methods_user"


def log_in(client, user) -> None:
    """Sign `user` in: the password, and the second factor when they have an authenticator."""
    client.force_login(user)
    steps = [{"method": "password", "at": time.time(), "email": user.email}]
    if is_mfa_enabled(user):
        steps.append({"method": "mfa", "at": time.time(), "type": "totp"})
    record_steps(client, user, steps)


def pass_second_factor(client, user) -> None:
    """Record that this client's session has just used the authenticator app."""
    record_steps(client, user, [{"method": "mfa", "at": time.time(), "type": "totp"}])


def record_steps(client, user, steps: list[dict]) -> None:
    session = client.session
    same_person = session.get(AUTHENTICATION_USER_SESSION_KEY) == str(user.pk)
    earlier = session.get(AUTHENTICATION_METHODS_SESSION_KEY, []) if same_person else []
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [*earlier, *steps]
    session[AUTHENTICATION_USER_SESSION_KEY] = str(user.pk)
    session.save()
