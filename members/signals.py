"""Receivers for allauth's signals, connected in MembersConfig.ready()."""

# allauth keeps its log of a session's authentication steps behind this function; the
# public `allauth.account.authentication` reads it, and writing it is how allauth's own
# flows mark a step done.
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator


def second_factor_set_up(sender, request, user, authenticator, **kwargs) -> None:
    """Setting up an authenticator app counts as using it: its code was just checked.

    So a facilitator who switches MFA on is not asked for a second code straight away,
    while their other sessions, signed in before it existed, still are.
    """
    if request is None or authenticator.type != Authenticator.Type.TOTP:
        return
    record_authentication(
        request, user, "mfa", id=authenticator.pk, type=authenticator.type, activated=True
    )
