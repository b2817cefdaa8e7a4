"""The members app's sections of a person's export and erasure (registered in apps.py).

The profile and the email addresses are the account itself: `personal_data_export`
writes them first, and `account_erase` removes them last, after every section ran.
"""

from members import personal_data, selectors
from members.models import (
    AuditEvent,
    ConsentRecord,
    Notification,
    NotificationPreferences,
    User,
)


def _iso(value):
    return value.isoformat() if value else None


# --- Consents ---------------------------------------------------------------------------


def consents_export(user: User) -> list[dict]:
    return [
        {
            "kind": record.kind,
            "version": record.version,
            "given": record.given,
            "recorded_at": record.recorded_at.isoformat(),
        }
        for record in selectors.consent_history(user=user)
    ]


def consents_erase(user: User) -> None:
    """Kept: what was agreed, in which version and when is the record that processing was
    lawful. The rows hold no text about the person and point at the anonymised user row."""


# --- Staff access to the person's data (the audit trail) --------------------------------


def staff_access_export(user: User) -> list[dict]:
    """Who on the staff opened the person's data. What the person, as staff, opened of
    other people's data is about those people and is not in their export."""
    return [
        {
            "by": event.actor.display_name if event.actor else None,
            "action": event.action,
            "context": event.context,
            "at": event.created_at.isoformat(),
        }
        for event in selectors.audit_events(subject=user)
    ]


def staff_access_erase(user: User) -> None:
    """Kept, both as subject and as actor: the audit trail must show that an access
    happened. The rows then point at the anonymised user row; their context is the name
    of a group or page, never the person's."""


# --- Notification preferences -----------------------------------------------------------

# Every choice the person can make: the model's own fields but its keys and stamp.
PREFERENCE_FIELDS = tuple(
    field.name
    for field in NotificationPreferences._meta.concrete_fields
    if field.name not in ("id", "user", "updated_at")
)


def notification_preferences_export(user: User) -> dict | None:
    """The person's choices, or None when they never changed the defaults."""
    prefs = NotificationPreferences.objects.filter(user=user).first()
    if prefs is None:
        return None
    return {
        **{field: getattr(prefs, field) for field in PREFERENCE_FIELDS},
        "updated_at": prefs.updated_at.isoformat(),
    }


def notification_preferences_erase(user: User) -> None:
    """Deleted: no count depends on them, and nothing is sent to an erased account."""
    NotificationPreferences.objects.filter(user=user).delete()


# --- The outbox: emails sent, skipped or failed -----------------------------------------


def email_notifications_export(user: User) -> list[dict]:
    """The emails queued for the person: what kind, what became of it, when.

    Not the error text of a failed send: it is the mail server's, and a server's answer
    can name other recipients.
    """
    rows = Notification.objects.filter(recipient=user).order_by("created_at", "id")
    return [
        {
            "kind": row.kind,
            "state": row.state,
            "created_at": row.created_at.isoformat(),
            "sent_at": _iso(row.sent_at),
            "skip_reason": row.skip_reason,
        }
        for row in rows.only("kind", "state", "created_at", "sent_at", "skip_reason")
    ]


def email_notifications_erase(user: User) -> None:
    """The person's rows stay, without their text: the outbox overview counts them by
    kind and state. Their error text (a mail server's answer quotes the address) and skip
    reason (it tells what they opted out of) are cleared; a row still pending is then
    skipped by the worker, as for any inactive account.

    Other people's rows keep their text, but any of the person's addresses in it (a
    server refusing several recipients at once) is replaced. Rows sent to one of their
    addresses rather than to their account (an invitation) are deleted.
    """
    Notification.objects.filter(recipient=user).update(last_error="", skip_reason="")
    addresses = personal_data.identifying_terms(user, names=False)
    # Messages written to one of their addresses before they had an account (invitations):
    # the address is all such a row is about, so the row goes.
    Notification.objects.filter(recipient__isnull=True, to_email__in=addresses).delete()
    others = Notification.objects.exclude(recipient=user).filter(
        personal_data.mentioning("last_error", addresses)
        | personal_data.mentioning("skip_reason", addresses)
    )
    for row in others.only("last_error", "skip_reason"):
        row.last_error = personal_data.scrub(row.last_error, addresses)
        row.skip_reason = personal_data.scrub(row.skip_reason, addresses)
        row.save(update_fields=["last_error", "skip_reason"])


def register(app_label: str) -> None:
    for name, export, erase, models in (
        ("consents", consents_export, consents_erase, [ConsentRecord]),
        ("staff_access_to_your_data", staff_access_export, staff_access_erase, [AuditEvent]),
        (
            "notification_preferences",
            notification_preferences_export,
            notification_preferences_erase,
            [NotificationPreferences],
        ),
        (
            "email_notifications",
            email_notifications_export,
            email_notifications_erase,
            [Notification],
        ),
    ):
        personal_data.register(name, app_label=app_label, export=export, erase=erase, models=models)
