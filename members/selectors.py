from datetime import timedelta

from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.mfa.utils import is_mfa_enabled
from django.db.models import Count
from django.utils import timezone

from members import personal_data
from members.models import (
    AuditEvent,
    ConsentRecord,
    Notification,
    NotificationKind,
    NotificationState,
    User,
)


def user_has_mfa(user: User) -> bool:
    return user.is_authenticated and is_mfa_enabled(user)


def session_passed_second_factor(request) -> bool:
    """Whether this session used an authenticator (at sign-in, since, or by setting one up).

    allauth records every authentication step in the session; the person must also still
    have an authenticator, so removing it closes staff pages again.
    """
    user = request.user
    if not user.is_authenticated:
        return False
    records = get_authentication_records(request, user)
    return any(record.get("method") == "mfa" for record in records) and user_has_mfa(user)


def consent_state(*, user: User) -> dict[str, bool]:
    """The latest decision per kind of consent (kinds never decided are absent)."""
    decisions: dict[str, bool] = {}
    history = ConsentRecord.objects.filter(user=user).order_by("recorded_at", "id")
    for kind, given in history.values_list("kind", "given"):
        decisions[kind] = given
    return decisions


def consent_history(*, user: User):
    return ConsentRecord.objects.filter(user=user).order_by("-recorded_at", "-id")


def audit_events(*, subject: User | None = None):
    events = AuditEvent.objects.select_related("actor", "subject").order_by("-created_at", "-id")
    if subject is not None:
        events = events.filter(subject=subject)
    return events


def personal_data_export(*, user: User) -> dict:
    """Everything stored about one person, JSON-ready: the account itself, then every
    app's registered sections (members.personal_data)."""
    data = {
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "full_name": user.full_name,
            "time_zone": user.time_zone,
            "language": user.language,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "email_addresses": list(
            EmailAddress.objects.filter(user=user).values("email", "verified", "primary")
        ),
    }
    for section in personal_data.sections():
        data[section.name] = section.export(user)
    return data


def outbox_overview(*, days: int = 7) -> dict:
    """Counts by kind and state over the last days, and the failed messages to retry."""
    since = timezone.now() - timedelta(days=days)
    counts = (
        Notification.objects.filter(created_at__gte=since)
        .values("kind", "state")
        .annotate(total=Count("id"))
        .order_by("kind", "state")
    )
    table: dict[str, dict[str, int]] = {}
    for row in counts:
        table.setdefault(row["kind"], {})[row["state"]] = row["total"]
    labels = dict(NotificationKind.choices)
    return {
        "days": days,
        "states": NotificationState.choices,
        "rows": [
            {
                "kind": labels.get(kind, kind),
                "counts": [by_state.get(s, 0) for s, _l in NotificationState.choices],
            }
            for kind, by_state in sorted(table.items())
        ],
        "failed": list(
            Notification.objects.filter(state=NotificationState.FAILED)
            .select_related("recipient")
            .order_by("-due_at")[:100]
        ),
    }
