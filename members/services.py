from collections.abc import Iterable

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils.translation import gettext

from members import personal_data, selectors, tasks
from members.consent import CURRENT_VERSIONS
from members.models import (
    AuditEvent,
    ConsentRecord,
    Language,
    NotificationKind,
    NotificationPreferences,
    User,
)
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


def consent_record(*, user: User, kind: str, given: bool) -> ConsentRecord:
    """Record a decision on the current version of a document (giving or withdrawing)."""
    return ConsentRecord.objects.create(
        user=user, kind=kind, version=CURRENT_VERSIONS[kind], given=given
    )


def consents_update(*, user: User, choices: dict[str, bool]) -> list[ConsentRecord]:
    """Record only the choices that differ from the person's current state."""
    current = selectors.consent_state(user=user)
    return [
        consent_record(user=user, kind=kind, given=given)
        for kind, given in choices.items()
        if current.get(kind) != given
    ]


def audit_record(
    *,
    actor: User,
    subjects: Iterable[User | int | None],
    action: str,
    context: str = "",
    group_id: int | None = None,
    group_name: str = "",
) -> None:
    """Write one audit row per person whose data a member of staff opened or changed.

    A subject of None is a row about no one person (a report's aggregates, an export of
    them, the audit log's own export): who opened it and when are still worth a row.
    `group_id` and `group_name` name the support group concerned, so the log can be read
    by group (plain values: members knows nothing of groups).
    """
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            subject_id=subject if subject is None or isinstance(subject, int) else subject.pk,
            action=action,
            context=context[:200],
            group_id=group_id,
            group_name=group_name[:200],
        )
        for subject in subjects
    )


def account_erase(*, user: User) -> None:
    """Erase a person: identity removed everywhere, anonymous rows kept for counts.

    The user row stays (without email, names or password) so that memberships,
    attendance and other aggregates from before still add up.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        for section in personal_data.sections():
            section.erase(user)
        EmailAddress.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
        ).update(object_repr="", change_message="")
        user.email = f"erased-{user.pk}@invalid.invalid"
        user.display_name = gettext("Former member")
        user.full_name = ""
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.set_unusable_password()
        user.last_login = None
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
    # The sessions are already unusable (the password hash they carry has changed and
    # the account is inactive); a worker then deletes them so no copy of the email stays.
    transaction.on_commit(lambda: tasks.sessions_purge_for_user.delay(user.pk))


UNSUBSCRIBE_FIELDS = {
    NotificationKind.MEETING_REMINDER: ["reminder_day_before", "reminder_hour_before"],
    NotificationKind.MEETING_CHANGED: ["meeting_changed"],
    NotificationKind.WAITLIST_PROMOTED: ["waitlist_promoted"],
    NotificationKind.REQUEST_DECIDED: ["request_decided"],
    NotificationKind.JOIN_REQUEST: ["join_request"],
    NotificationKind.FACILITATOR_DIGEST: ["facilitator_digest"],
    NotificationKind.MEMBER_ERASED: ["member_erased"],
}


def notifications_unsubscribe(*, user: User, kind: str) -> NotificationPreferences:
    """Switch off one kind of email for one person (the unsubscribe link's action)."""
    prefs, _created = NotificationPreferences.objects.get_or_create(user=user)
    for field in UNSUBSCRIBE_FIELDS[kind]:
        setattr(prefs, field, False)
    prefs.save()
    return prefs
