import base64
import hashlib
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from groups.models import SupportGroup


class MeetingFormat(models.TextChoices):
    IN_PERSON = "in-person", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid")


class AddressVisibility(models.TextChoices):
    PUBLIC = "public", _("Anyone can see the address")
    MEMBERS = "members", _("Only members can see the address")


class Place(models.Model):
    """Where and how a meeting happens; shared by series and their meetings."""

    format = models.CharField(_("format"), max_length=16, choices=MeetingFormat.choices)
    venue_name = models.CharField(_("venue"), max_length=120, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    address_visibility = models.CharField(
        _("who can see the address"),
        max_length=16,
        choices=AddressVisibility.choices,
        default=AddressVisibility.MEMBERS,
    )
    step_free = models.BooleanField(_("step-free access"), default=False)
    access_notes = models.CharField(
        _("access notes"),
        max_length=500,
        blank=True,
        help_text=_("Parking, public transport, which door to use, accessible toilets…"),
    )
    video_url = models.URLField(_("video call link"), max_length=500, blank=True)
    dial_in = models.CharField(_("dial-in by phone"), max_length=200, blank=True)
    online_notes = models.CharField(_("notes for joining online"), max_length=500, blank=True)

    class Meta:
        abstract = True

    @property
    def has_venue(self) -> bool:
        return self.format in (MeetingFormat.IN_PERSON, MeetingFormat.HYBRID)

    @property
    def is_online(self) -> bool:
        return self.format in (MeetingFormat.ONLINE, MeetingFormat.HYBRID)


class MeetingSeries(Place):
    """A recurring schedule: an RFC 5545 RRULE evaluated in the series' time zone.

    `starts_on` and `start_time` are local to `time_zone`; concrete Meeting rows are
    materialised from the rule up to `materialised_until`.
    """

    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="series")
    title = models.CharField(_("title"), max_length=120, blank=True)
    rrule = models.CharField(max_length=500)
    starts_on = models.DateField(_("first date"))
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(
        _("length in minutes"), validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    time_zone = models.CharField(max_length=64)
    capacity = models.PositiveIntegerField(_("places per meeting"), null=True, blank=True)
    materialised_until = models.DateTimeField(null=True, blank=True)
    split_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        indexes = [models.Index(fields=["materialised_until"], name="series_horizon_idx")]

    def __str__(self) -> str:
        return self.title or self.group.name


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(Place):
    """One concrete meeting; times are stored in UTC, shown in the viewer's time zone."""

    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="meetings")
    series = models.ForeignKey(
        MeetingSeries, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    original_start = models.DateTimeField(
        null=True, blank=True, help_text="The occurrence of the series this row stands for."
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=120, blank=True)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(max_length=64)
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    cancel_reason = models.CharField(_("reason"), max_length=300, blank=True)
    is_exception = models.BooleanField(
        default=False, help_text="Edited on its own, apart from its series."
    )
    sequence = models.PositiveIntegerField(default=0)
    guest_count = models.PositiveIntegerField(_("walk-in guests"), default=0)
    facilitator_note = models.CharField(_("private note"), max_length=1000, blank=True)
    attendance_unlocked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["group", "starts_at"], name="meeting_group_start_idx"),
            models.Index(fields=["starts_at"], name="meeting_start_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "original_start"], name="meeting_one_row_per_occurrence"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_title} {self.starts_at:%Y-%m-%d %H:%M} UTC"

    def get_absolute_url(self) -> str:
        return reverse("meetings:detail", kwargs={"pk": self.pk})

    @property
    def display_title(self) -> str:
        return self.title or self.group.name

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED


class RsvpResponse(models.TextChoices):
    GOING = "going", _("Going")
    NOT_GOING = "not-going", _("Not going")


class RsvpStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waitlist")
    DECLINED = "declined", _("Not going")


class Rsvp(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps"
    )
    response = models.CharField(max_length=16, choices=RsvpResponse.choices)
    status = models.CharField(max_length=16, choices=RsvpStatus.choices)
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="rsvp_one_per_person"),
        ]
        indexes = [
            models.Index(fields=["meeting", "status", "waitlisted_at"], name="rsvp_meeting_idx"),
            models.Index(fields=["user", "status"], name="rsvp_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} for {self.meeting_id}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    LATE = "late", _("Late")
    EXCUSED = "excused", _("Excused")
    ABSENT = "absent", _("Absent")


ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendance"
    )
    status = models.CharField(max_length=16, choices=AttendanceStatus.choices)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="attendance_one_per_person"),
        ]
        indexes = [models.Index(fields=["user", "meeting"], name="attendance_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} at {self.meeting_id}"


class AttendanceChange(models.Model):
    """History: every change to a meeting's attendance, guests or note."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="attendance_changes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field = models.CharField(max_length=32)
    old_value = models.CharField(max_length=1000, blank=True)
    new_value = models.CharField(max_length=1000, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.field} {self.old_value!r} -> {self.new_value!r}"


class MeetingChangeKind(models.TextChoices):
    CHANGED = "changed", _("Changed")
    CANCELLED = "cancelled", _("Cancelled")


class MeetingChange(models.Model):
    """A change members must be told about; the notifications outbox sends it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=16, choices=MeetingChangeKind.choices)
    details = models.JSONField(default=dict)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(notified_at__isnull=True),
                name="meeting_change_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} meeting {self.meeting_id}"


class CalendarFeedToken(models.Model):
    """The secret in a member's private calendar address; a new one kills the old.

    The address is never stored. A row keeps a random `nonce`, and the token in the address
    is an HMAC of it under SECRET_KEY (`token`), so the settings page can show the member
    their address on every visit while the database alone (a backup, a leaked dump) yields
    no working address. Feeds are found by `token_hash`, the SHA-256 of the token.

    Rows made before tokens were hashed keep the hash of their old plain token and an empty
    nonce: their address still works, but can't be shown, so the settings page replaces it.

    Changing SECRET_KEY changes every address the page shows and stops every address made
    under the old key (SECRET_KEY_FALLBACKS are not consulted): members then get a new
    address on their next visit to the page and must subscribe again.
    """

    KEY_SALT = "meetings.calendar-feed"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token"
    )
    # Empty for an address made before tokens were hashed (its token is lost).
    nonce = models.CharField(max_length=64, blank=True, default="")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"calendar feed of {self.user_id}"

    @classmethod
    def token_from(cls, nonce: str) -> str:
        """The token in the address: 43 URL-safe characters, an HMAC of the nonce."""
        digest = salted_hmac(cls.KEY_SALT, nonce, algorithm="sha256").digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @staticmethod
    def hash_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def token(self) -> str | None:
        """The token in the member's address, or None when it can't be worked out: the row
        predates hashing, or SECRET_KEY has changed since the address was made."""
        if not self.nonce:
            return None
        token = self.token_from(self.nonce)
        return token if constant_time_compare(self.hash_of(token), self.token_hash) else None

    def opens_with(self, token: str) -> bool:
        """Whether the address with this token opens this feed (the row found by its hash)."""
        if not self.nonce:
            return True  # a pre-hashing address: its hash is all there is
        return constant_time_compare(self.token_from(self.nonce), token)
