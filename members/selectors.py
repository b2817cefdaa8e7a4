import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from allauth.account.authentication import get_authentication_records
from allauth.account.models import EmailAddress
from allauth.mfa.utils import is_mfa_enabled
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from members import audit, personal_data
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


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to; empty fields mean no narrowing."""

    staff: str = ""  # a staff member's name or email, or part of it
    person: str = ""  # the person whose data it was
    group: str = ""  # a group's name, or part of it
    since: date | None = None  # first day, in the viewer's time zone
    until: date | None = None  # last day, included


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _people_matching(prefix: str, words: str) -> Q:
    condition = Q()
    for field in ("display_name", "full_name", "email"):
        condition |= Q(**{f"{prefix}__{field}__icontains": words})
    return condition


def audit_events(*, subject: User | None = None, filters: AuditFilters | None = None):
    """The audit log, newest first, with the staff member and the person joined in (one
    query a page, whatever the filters)."""
    events = AuditEvent.objects.select_related("actor", "subject").order_by("-created_at", "-id")
    if subject is not None:
        events = events.filter(subject=subject)
    if filters is None:
        return events
    if filters.staff:
        events = events.filter(_people_matching("actor", filters.staff.strip()))
    if filters.person:
        events = events.filter(_people_matching("subject", filters.person.strip()))
    if filters.group:
        events = events.filter(group_name__icontains=filters.group.strip())
    if filters.since:
        events = events.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        events = events.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    return events


@dataclass(frozen=True)
class OutboxFilters:
    recipient: str = ""  # an email address or a name, or part of one
    state: str = ""
    kind: str = ""


def outbox_messages(*, filters: OutboxFilters = OutboxFilters()):
    """Every message in the outbox, newest first, found by recipient, state and kind (one
    query a page: the recipient is joined in)."""
    messages = Notification.objects.select_related("recipient").order_by("-created_at", "-id")
    if filters.recipient:
        words = filters.recipient.strip()
        messages = messages.filter(
            Q(to_email__icontains=words) | _people_matching("recipient", words)
        )
    if filters.state:
        messages = messages.filter(state=filters.state)
    if filters.kind:
        messages = messages.filter(kind=filters.kind)
    return messages


def outbox_message(*, notification_id: int) -> Notification | None:
    return Notification.objects.select_related("recipient").filter(pk=notification_id).first()


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


CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value) -> str:
    """Text a spreadsheet would take for a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text


def audit_csv(events) -> bytes:
    """The audit log (as filtered) as one CSV table, in plain words and with the codes,
    read in chunks so that a long log never sits in memory at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            gettext("When"),
            gettext("Staff member"),
            gettext("Staff member's email"),
            gettext("What"),
            gettext("Action code"),
            gettext("Whose data"),
            gettext("Group"),
            gettext("Details"),
        ]
    )
    for event in events.iterator(chunk_size=2000):
        actor, subject = event.actor, event.subject
        writer.writerow(
            [
                timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                _csv_text(actor.display_name if actor else ""),
                _csv_text(actor.email if actor else ""),
                _csv_text(audit.label_for(event.action)),
                _csv_text(event.action),
                _csv_text(subject.display_name if subject else ""),
                _csv_text(event.group_name),
                _csv_text(event.context),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
