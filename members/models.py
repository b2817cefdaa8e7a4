from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from members.names import validate_display_name
from members.timezones import is_valid_time_zone

COORDINATOR_PERMISSION = "members.coordinate_programme"


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    ITALIAN = "it", _("Italian")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        extra_fields.setdefault("display_name", email.split("@", 1)[0][:60])
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


def validate_time_zone(value: str) -> None:
    if not is_valid_time_zone(value):
        raise ValidationError(_("Choose a time zone from the list."), code="invalid_time_zone")


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address.

    Peers only ever see `display_name`; `full_name` is private to the person and to
    staff with a reason to read it.
    """

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=60,
        help_text=_("How other members see you. A first name or a nickname is fine."),
        validators=[validate_display_name],
    )
    full_name = models.CharField(
        _("full name"),
        max_length=150,
        blank=True,
        help_text=_("Private: never shown to other members."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Rome", validators=[validate_time_zone]
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    is_staff = models.BooleanField(
        _("admin site access"),
        default=False,
        help_text=_("Can sign in to the technical admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        permissions = [("coordinate_programme", _("Can coordinate the whole programme"))]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="members_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_short_name(self) -> str:
        return self.display_name

    def get_full_name(self) -> str:
        return self.full_name or self.display_name

    @cached_property
    def is_coordinator(self) -> bool:
        """Superusers, and people given the coordinator permission directly or by group."""
        if not self.is_active or self.pk is None:
            return False
        return self.is_superuser or holds_permission(self.pk, COORDINATOR_PERMISSION)


# Django's own tables for permissions, and this user model's two links to them.
_HOLDS_PERMISSION_SQL = """
    SELECT EXISTS (
        SELECT 1 FROM auth_permission AS p
        JOIN django_content_type AS ct ON ct.id = p.content_type_id
        WHERE p.codename = %(codename)s AND ct.app_label = %(app_label)s
            AND (
                EXISTS (
                    SELECT 1 FROM members_user_user_permissions AS up
                    WHERE up.permission_id = p.id AND up.user_id = %(user_id)s
                )
                OR EXISTS (
                    SELECT 1 FROM members_user_groups AS ug
                    JOIN auth_group_permissions AS gp ON gp.group_id = ug.group_id
                    WHERE gp.permission_id = p.id AND ug.user_id = %(user_id)s
                )
            )
    )
"""


def holds_permission(user_id: int, permission: str) -> bool:
    """Whether the person holds `permission` ("app_label.codename"), directly or by group.

    Every page asks this for its navigation, so it is one statement of two indexed EXISTS
    written out in SQL: the ORM's version (four outer joins) took several times longer to
    build than to run, and loading every permission (`has_perm`) more still.
    """
    app_label, codename = permission.split(".")
    with connection.cursor() as cursor:
        cursor.execute(
            _HOLDS_PERMISSION_SQL,
            {"user_id": user_id, "codename": codename, "app_label": app_label},
        )
        return bool(cursor.fetchone()[0])


class ConsentKind(models.TextChoices):
    TERMS = "terms", _("Terms of use and privacy notice")
    EMAIL_CONTACT = "email-contact", _("Emails about my groups and meetings")
    RESEARCH_USE = "research-use", _("Use of my anonymised survey answers in programme reports")


class ConsentRecord(models.Model):
    """One decision: consent given or withdrawn, for one version of one document.

    Rows are only ever added, so the history of a person's choices is kept.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consent_records")
    kind = models.CharField(max_length=32, choices=ConsentKind.choices)
    version = models.CharField(max_length=32)
    given = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["user", "kind", "-recorded_at"], name="consent_latest_idx")]

    def __str__(self) -> str:
        state = "given" if self.given else "withdrawn"
        return f"{self.kind} v{self.version} {state}"


class AuditEvent(models.Model):
    """Who on the staff looked at or changed whose personal data, and when."""

    actor = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="audit_events_done"
    )
    subject = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="audit_events_about"
    )
    action = models.CharField(max_length=64)
    context = models.CharField(max_length=200, blank=True)
    # The support group concerned, if any: a plain number and the name it had then, not a
    # foreign key, since members sits below groups (and a row outlives the group it names).
    group_id = models.BigIntegerField(null=True, blank=True)
    group_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject", "-created_at"], name="audit_subject_idx"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_idx"),
            models.Index(fields=["group_id", "-created_at"], name="audit_group_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.subject_id}"


class NotificationKind(models.TextChoices):
    MEETING_REMINDER = "meeting-reminder", _("Meeting reminders")
    MEETING_CHANGED = "meeting-changed", _("A meeting I'm going to changes or is cancelled")
    WAITLIST_PROMOTED = "waitlist-promoted", _("A place frees up for me")
    REQUEST_DECIDED = "request-decided", _("My request to join a group is answered")
    JOIN_REQUEST = "join-request", _("Someone asks to join a group I facilitate")
    FACILITATOR_DIGEST = (
        "facilitator-digest",
        _("Daily summary of tomorrow's meetings I facilitate"),
    )
    MEMBER_ERASED = (
        "member-erased",
        _("A member of a group I facilitate closes their account"),
    )
    ATTENDANCE_DUE = (
        "attendance-due",
        _("A meeting I facilitate has ended and its register is waiting"),
    )
    # Sent to an address, not a person: the invitee may have no account yet.
    GROUP_INVITATION = "group-invitation", _("An invitation to join a group")


class NotificationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One message to send: the outbox row is the source of truth, not the broker.

    The unique key (recipient, kind, subject, slot) lets any scan run again and again
    while creating each message once.
    """

    recipient = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    to_email = models.EmailField(
        blank=True, help_text="For a message to an address with no account (an invitation)."
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject_key = models.CharField(max_length=64)
    slot = models.CharField(max_length=64)
    due_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(
        max_length=16, choices=NotificationState.choices, default=NotificationState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    skip_reason = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a send task was last queued for it."
    )
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "subject_key", "slot"],
                name="notification_once_per_slot",
            ),
            models.UniqueConstraint(
                fields=["to_email", "kind", "subject_key", "slot"],
                condition=Q(recipient__isnull=True),
                name="notification_once_per_address_slot",
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(to_email=""),
                name="notification_has_a_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"], name="notification_due_idx"),
            models.Index(fields=["created_at", "kind", "state"], name="notification_ops_idx"),
        ]

    def __str__(self) -> str:
        to = self.recipient_id or "an address"
        return f"{self.kind} {self.subject_key} {self.slot} to {to}: {self.state}"


class NotificationPreferences(models.Model):
    """What a person wants to hear about, and when their reminders come."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    reminder_day_before = models.BooleanField(_("The day before"), default=True)
    reminder_day_before_hour = models.PositiveSmallIntegerField(
        _("At what time the day before"),
        default=18,
        validators=[MaxValueValidator(23)],
    )
    reminder_hour_before = models.BooleanField(_("One hour before"), default=False)
    attach_calendar = models.BooleanField(
        _("Attach a calendar invitation to the first reminder"), default=True
    )
    meeting_changed = models.BooleanField(_("When a meeting changes or is cancelled"), default=True)
    waitlist_promoted = models.BooleanField(_("When a place frees up for me"), default=True)
    request_decided = models.BooleanField(_("When my request to join is answered"), default=True)
    join_request = models.BooleanField(
        _("When someone asks to join a group I facilitate"), default=True
    )
    facilitator_digest = models.BooleanField(
        _("A daily summary of tomorrow's meetings I facilitate"), default=True
    )
    member_erased = models.BooleanField(
        _("When a member of a group I facilitate closes their account"), default=True
    )
    attendance_due = models.BooleanField(
        _("After a meeting I facilitate, a reminder to take attendance"), default=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"

    def wants(self, kind: str) -> bool:
        field = {
            NotificationKind.MEETING_REMINDER: None,
            NotificationKind.MEETING_CHANGED: "meeting_changed",
            NotificationKind.WAITLIST_PROMOTED: "waitlist_promoted",
            NotificationKind.REQUEST_DECIDED: "request_decided",
            NotificationKind.JOIN_REQUEST: "join_request",
            NotificationKind.FACILITATOR_DIGEST: "facilitator_digest",
            NotificationKind.MEMBER_ERASED: "member_erased",
            NotificationKind.ATTENDANCE_DUE: "attendance_due",
        }[kind]
        if field is None:
            return self.reminder_day_before or self.reminder_hour_before
        return getattr(self, field)
