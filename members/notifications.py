"""The notifications outbox: rows in the database, sent by workers exactly once.

Apps register a builder per kind (in AppConfig.ready). A builder re-reads what the
message is about at send time and returns the message, or a reason to skip it.

Sending claims the row with SELECT ... FOR UPDATE SKIP LOCKED, re-checks, sends and
marks it sent in one transaction, so a task delivered twice or run by two workers
sends once. Failed sends are retried with exponential backoff by moving `due_at`
forward; the dispatcher re-enqueues rows whose task was lost (a worker killed, a
broker restart), so nothing depends on long ETA or countdown tasks.

One window is left, as in any outbox that talks to a server it cannot enlist in its
transaction: a worker killed after the mail server accepted a message and before the
COMMIT leaves the row pending, and the message goes out again (with the same
Message-ID, so mail systems can spot the copy). The row is written before the message
goes out and the SMTP connection stays open between messages, so that window is only
the server's answer to the message and the COMMIT (tests/notifications/test_faults.py).
"""

import contextlib
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import transaction
from django.db.models import Min
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from members import permissions
from members.models import (
    ConsentKind,
    ConsentRecord,
    Notification,
    NotificationPreferences,
    NotificationState,
    User,
)

MAX_ATTEMPTS = 6
RETRY_BASE = timedelta(minutes=1)
REQUEUE_AFTER = timedelta(minutes=5)
UNSUBSCRIBE_SALT = "members.unsubscribe"
MAIL_CONNECTION_MAX_MESSAGES = 100


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass
class Message:
    """What a builder returns: a template and its context, plus optional attachments."""

    template: str
    context: dict
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    # For a message to an address with no account: the language and zone to write in.
    language: str = ""
    time_zone: str = ""


Builder = Callable[[Notification], "Message | Skip"]
Scanner = Callable[[datetime], int]
_builders: dict[str, Builder] = {}
_scanners: dict[str, Scanner] = {}


def register(kind: str, builder: Builder) -> None:
    _builders[kind] = builder


def register_scanner(name: str, scanner: Scanner) -> None:
    """A function that inserts the rows now due (conflict-safe) and returns how many."""
    _scanners[name] = scanner


def scan_all(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {name: scanner(now) for name, scanner in _scanners.items()}


# ---------------------------------------------------------------- creating rows


def notification_enqueue(
    *,
    recipient: User | None = None,
    to_email: str = "",
    kind: str,
    subject_key: str,
    slot: str,
    due_at: datetime | None = None,
) -> Notification | None:
    """Create the row once (conflict-safe); send it after commit if already due.

    A message goes to a person (`recipient`) or, for someone who may have no account yet
    (an invitation), to an address (`to_email`); each has its own unique key.
    """
    if (recipient is None) == (not to_email):
        raise ValueError("A notification goes to a recipient or to an address, not both.")
    notification, created = Notification.objects.get_or_create(
        recipient=recipient,
        to_email=to_email.strip().lower() if recipient is None else "",
        kind=kind,
        subject_key=subject_key,
        slot=slot,
        defaults={"due_at": due_at or timezone.now()},
    )
    if created and notification.due_at <= timezone.now():
        _send_after_commit([notification.pk])
    return notification if created else None


def _send_after_commit(ids: list[int]) -> None:
    from members import tasks

    def enqueue():
        for notification_id in ids:
            tasks.send_notification.delay(notification_id)

    transaction.on_commit(enqueue)


def insert_new(rows: list[Notification]) -> int:
    """Insert rows whose key is not taken yet (conflict-safe); returns how many were new.

    The new rows share one creation stamp, so counting them reads the created_at index
    instead of counting the whole outbox before and after.
    """
    stamp = timezone.now()
    for row in rows:
        row.created_at = stamp
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return Notification.objects.filter(created_at=stamp).count() if rows else 0


def dispatch_due(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Enqueue a send task for every due row not already queued in the last minutes."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(state=NotificationState.PENDING, due_at__lte=now)
            .exclude(sent_at__isnull=False)
            .filter(_not_recently_queued(now))
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        Notification.objects.filter(pk__in=ids).update(claimed_at=now)
    _send_after_commit(ids)
    return len(ids)


def _not_recently_queued(now: datetime):
    from django.db.models import Q

    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - REQUEUE_AFTER)


# ---------------------------------------------------------------- sending


def _verified(user: User) -> bool:
    return user.emailaddress_set.filter(email__iexact=user.email, verified=True).exists()


def _contact_withdrawn(user: User) -> bool:
    latest = (
        ConsentRecord.objects.filter(user=user, kind=ConsentKind.EMAIL_CONTACT)
        .order_by("-recorded_at", "-id")
        .values_list("given", flat=True)
        .first()
    )
    return latest is False


def preferences_for(user: User) -> NotificationPreferences:
    prefs = getattr(user, "_notification_prefs", None)
    if prefs is None:
        prefs = NotificationPreferences.objects.filter(user=user).first() or (
            NotificationPreferences(user=user)
        )
        user._notification_prefs = prefs
    return prefs


def _general_skip_reason(notification: Notification) -> str | None:
    """Checks for a person; a message to an address is checked by its own builder."""
    user = notification.recipient
    if user is None:
        return None
    if not user.is_active:
        return "account-inactive"
    if not _verified(user):
        return "email-unverified"
    if _contact_withdrawn(user):
        return "consent-withdrawn"
    if not preferences_for(user).wants(notification.kind):
        return "opted-out"
    return None


def unsubscribe_token(user: User, kind: str) -> str:
    return signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or "u" not in data or "k" not in data:
        return None
    return int(data["u"]), str(data["k"])


def site_root() -> str:
    return settings.SITE_URL.rstrip("/")


def _site_url(path: str) -> str:
    return site_root() + path


def _render(notification: Notification, message: Message) -> EmailMultiAlternatives:
    user = notification.recipient
    domain = settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    headers = {
        # The same message always has the same id, so mail systems can spot a copy.
        "Message-ID": f"<notification-{notification.pk}@{domain or 'localhost'}>",
        "Auto-Submitted": "auto-generated",
    }
    context = {**message.context, "recipient": user, "site_url": site_root()}
    if user is not None:
        unsubscribe_url = _site_url(
            reverse("unsubscribe", kwargs={"token": unsubscribe_token(user, notification.kind)})
        )
        context["unsubscribe_url"] = unsubscribe_url
        context["preferences_url"] = _site_url(reverse("members:notifications"))
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    language = message.language or (user.language if user else settings.LANGUAGE_CODE)
    time_zone = message.time_zone or (user.time_zone if user else settings.TIME_ZONE)
    with translation.override(language), timezone.override(time_zone):
        # A subject is plain text, not HTML: rendered with autoescaping off, so a group
        # called "Parkinson's & Co" is not sent as "Parkinson&#x27;s &amp; Co". Any line
        # break a name might carry is collapsed below, so no header can be injected (and
        # EmailMessage refuses newlines in headers anyway).
        subject = (
            get_template(f"{message.template}_subject.txt")
            .template.render(Context(context, autoescape=False))
            .strip()
        )
        text = render_to_string(f"{message.template}.txt", context)
        html = render_to_string(f"{message.template}.html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email if user is not None else notification.to_email],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    for filename, content, mimetype in message.attachments:
        email.attach(filename, content, mimetype)
    return email


def notification_send(*, notification_id: int, now: datetime | None = None) -> str:
    """Claim, re-check, send and mark one row; returns what happened, for logs and tests."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None:
            return "locked"
        if notification.state != NotificationState.PENDING:
            return notification.state
        now = now or timezone.now()
        if notification.due_at > now:
            return "not-due"
        reason = _general_skip_reason(notification)
        builder = _builders.get(notification.kind)
        outcome = (
            Skip(reason) if reason else (builder(notification) if builder else Skip("no-builder"))
        )
        if isinstance(outcome, Skip):
            notification.state = NotificationState.SKIPPED
            notification.skip_reason = outcome.reason
            notification.save(update_fields=["state", "skip_reason"])
            return "skipped"
        email = _render(notification, outcome)
        notification.attempts += 1
        try:
            mail = _mail_connection()
            # Everything is written before the message goes out, so that once the server
            # has accepted it only the COMMIT is left: a worker killed between the two
            # leaves the row pending, and it is sent again (the one window for a copy).
            notification.state = NotificationState.SENT
            notification.sent_at = timezone.now()
            notification.save(update_fields=["state", "sent_at", "attempts"])
            mail.send_messages([email])
        except (smtplib.SMTPException, OSError) as error:
            _mail_connection_close()
            return _send_failed(notification, error, now)
        return "sent"


def _send_failed(notification: Notification, error: Exception, now: datetime) -> str:
    """Record a failed attempt: retry later with backoff, or give up after MAX_ATTEMPTS."""
    notification.last_error = f"{error.__class__.__name__}: {error}"[:2000]
    notification.sent_at = None
    if notification.attempts >= MAX_ATTEMPTS:
        notification.state = NotificationState.FAILED
    else:
        notification.state = NotificationState.PENDING
        notification.due_at = now + RETRY_BASE * (2 ** (notification.attempts - 1))
        notification.claimed_at = None
    notification.save(
        update_fields=["attempts", "last_error", "state", "sent_at", "due_at", "claimed_at"]
    )
    return "failed" if notification.state == NotificationState.FAILED else "retry"


# One SMTP connection per worker process (per thread), opened on first use and kept:
# no connect, greeting and QUIT around each message, and nothing but the COMMIT between
# the server accepting a message and the row being sent for good.
_mail = threading.local()


def _mail_settings() -> tuple:
    return tuple(
        getattr(settings, name, None)
        for name in ("EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER",
                     "EMAIL_USE_TLS", "EMAIL_USE_SSL")
    )  # fmt: skip


def _mail_connection():
    """An open mail connection: for SMTP, this thread's, checked with NOOP each time.

    A connection the server dropped while idle is replaced before anything is sent; a
    connection is also replaced after MAIL_CONNECTION_MAX_MESSAGES, below the limits
    servers put on one connection. Other backends (console, locmem) are made per message.
    """
    backend = getattr(_mail, "backend", None)
    if backend is not None and (
        _mail.settings != _mail_settings()
        or _mail.sent >= MAIL_CONNECTION_MAX_MESSAGES
        or not _smtp_alive(backend)
    ):
        _mail_connection_close()
        backend = None
    if backend is None:
        backend = get_connection()
        if not isinstance(backend, SmtpBackend):
            return backend
        _mail.backend, _mail.settings, _mail.sent = backend, _mail_settings(), 0
    backend.open()
    _mail.sent += 1
    return backend


def _smtp_alive(backend: SmtpBackend) -> bool:
    if backend.connection is None:  # not open yet: open() sees to it
        return True
    try:
        return backend.connection.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _mail_connection_close() -> None:
    backend, _mail.backend = getattr(_mail, "backend", None), None
    if backend is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            backend.close()


def notification_retry(*, notification_id: int, actor: User) -> bool:
    """Coordinators put a failed message back in the queue."""
    permissions.require(actor, "programme.coordinate")
    with transaction.atomic():
        updated = Notification.objects.filter(
            pk=notification_id, state=NotificationState.FAILED
        ).update(
            state=NotificationState.PENDING,
            attempts=0,
            due_at=timezone.now(),
            claimed_at=None,
        )
        if updated:
            _send_after_commit([notification_id])
        return bool(updated)


def oldest_due_unsent_age(now: datetime | None = None) -> float | None:
    now = now or timezone.now()
    oldest = Notification.objects.filter(
        state=NotificationState.PENDING, due_at__lte=now
    ).aggregate(oldest=Min("due_at"))["oldest"]
    return None if oldest is None else (now - oldest).total_seconds()


@dataclass(frozen=True)
class Preview:
    """A message as it would be sent now, for the outbox page."""

    to: str
    subject: str = ""
    text: str = ""
    skip_reason: str = ""


def notification_preview(notification: Notification) -> Preview:
    """Render a row's message without sending it. Builders re-read what the message is
    about, so this is what it says today (a meeting moved since shows its new time), not
    a stored copy. Nothing is written: the work runs in a transaction rolled back."""
    to = notification.recipient.email if notification.recipient else notification.to_email
    with transaction.atomic():
        builder = _builders.get(notification.kind)
        outcome = builder(notification) if builder else Skip("no-builder")
        if isinstance(outcome, Skip):
            preview = Preview(to=to, skip_reason=outcome.reason)
        else:
            email = _render(notification, outcome)
            preview = Preview(to=email.to[0], subject=email.subject, text=email.body)
        transaction.set_rollback(True)
    return preview
