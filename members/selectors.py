from allauth.mfa.utils import is_mfa_enabled

from members.models import User


def user_has_mfa(user: User) -> bool:
    return user.is_authenticated and is_mfa_enabled(user)
