from django.contrib.auth.models import Group, Permission
from django.db import transaction

from members.models import Language, User
from members.timezones import is_valid_time_zone

COORDINATORS_GROUP_NAME = "Coordinators"


def coordinators_auth_group() -> Group:
    """The Django auth group that carries the site-wide coordinator permission."""
    group, _ = Group.objects.get_or_create(name=COORDINATORS_GROUP_NAME)
    permission = Permission.objects.get(
        content_type__app_label="members", codename="coordinate_programme"
    )
    group.permissions.add(permission)
    return group


@transaction.atomic
def coordinator_grant(*, user: User) -> None:
    user.groups.add(coordinators_auth_group())


@transaction.atomic
def coordinator_revoke(*, user: User) -> None:
    user.groups.remove(coordinators_auth_group())


def user_language_set(*, user: User, language: str) -> None:
    if language not in Language.values:
        raise ValueError(f"Unsupported language {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def user_profile_update(
    *, user: User, display_name: str, full_name: str, time_zone: str, language: str
) -> User:
    if not is_valid_time_zone(time_zone):
        raise ValueError(f"Unknown time zone {time_zone!r}")
    user.display_name = display_name.strip()
    user.full_name = full_name.strip()
    user.time_zone = time_zone
    user.language = language
    user.full_clean()
    user.save(update_fields=["display_name", "full_name", "time_zone", "language"])
    return user
