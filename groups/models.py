from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import validate_time_zone


class Topic(models.TextChoices):
    DIABETES = "diabetes", _("Diabetes")
    HEART_FAILURE = "heart-failure", _("Heart failure")
    COPD = "copd", _("COPD and lung conditions")
    CHRONIC_PAIN = "chronic-pain", _("Chronic pain")
    MULTIPLE_SCLEROSIS = "multiple-sclerosis", _("Multiple sclerosis")
    KIDNEY_DISEASE = "kidney-disease", _("Chronic kidney disease")
    BREAST_CANCER = "breast-cancer", _("Breast cancer")
    PROSTATE_CANCER = "prostate-cancer", _("Prostate cancer")
    BOWEL_CANCER = "bowel-cancer", _("Bowel cancer")
    BLOOD_CANCER = "blood-cancer", _("Blood cancers")
    CANCER_OTHER = "cancer-other", _("Other cancers")
    RARE_DISEASE = "rare-disease", _("Rare diseases")
    SERIOUS_MENTAL_ILLNESS = "serious-mental-illness", _("Serious mental illness")
    DEMENTIA = "dementia", _("Dementia")
    LONG_COVID = "long-covid", _("Long COVID")
    OTHER = "other", _("Other")


class Audience(models.TextChoices):
    PATIENTS = "patients", _("People living with the condition")
    CAREGIVERS = "caregivers", _("Family caregivers")
    BOTH = "both", _("Both")


class Format(models.TextChoices):
    IN_PERSON = "in-person", _("In person")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid")


class GroupLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    ITALIAN = "it", _("Italian")
    SPANISH = "es", _("Spanish")
    FRENCH = "fr", _("French")
    GERMAN = "de", _("German")


class Visibility(models.TextChoices):
    LISTED = "listed", _("Listed in the directory")
    UNLISTED = "unlisted", _("Unlisted: only people with the link")


class JoinPolicy(models.TextChoices):
    OPEN = "open", _("Open: anyone can join")
    APPROVAL = "approval", _("By request: a facilitator approves")
    INVITATION = "invitation", _("By invitation only")


class GroupStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", _("Closed")


class VideoLinkPolicy(models.TextChoices):
    AROUND_MEETING = "around-meeting", _("From an hour before until the meeting ends")
    ALWAYS = "always", _("Always, to members")


class SupportGroup(models.Model):
    """A peer support group (not to be confused with django.contrib.auth's Group)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("web address"), max_length=80, unique=True)
    summary = models.CharField(_("summary"), max_length=280)
    description = models.TextField(_("description"), blank=True)
    topic = models.CharField(_("topic"), max_length=32, choices=Topic.choices)
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices)
    format = models.CharField(_("format"), max_length=16, choices=Format.choices)
    language = models.CharField(_("language"), max_length=8, choices=GroupLanguage.choices)
    city = models.CharField(_("town or city"), max_length=80, blank=True)
    region = models.CharField(_("region"), max_length=80, blank=True)
    country = models.CharField(
        _("country"), max_length=2, help_text=_("Two-letter code, e.g. IT or US.")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Rome", validators=[validate_time_zone]
    )
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.LISTED
    )
    join_policy = models.CharField(
        _("how people join"), max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    capacity = models.PositiveIntegerField(
        _("member capacity"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Leave empty for no limit. When full, new members join a waitlist."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=GroupStatus.choices, default=GroupStatus.ACTIVE
    )
    contact_email = models.EmailField(_("contact email for questions"), blank=True)
    video_link_policy = models.CharField(
        _("when members see the video link"),
        max_length=16,
        choices=VideoLinkPolicy.choices,
        default=VideoLinkPolicy.AROUND_MEETING,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("support group")
        verbose_name_plural = _("support groups")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["visibility", "status", "name"], name="groups_directory_idx"),
            models.Index(fields=["topic"], name="groups_topic_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(capacity__gte=1),
                name="groups_capacity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:detail", kwargs={"slug": self.slug})

    @property
    def area(self) -> str:
        return ", ".join(part for part in (self.city, self.region, self.country) if part)


class CodeOfConduct(models.Model):
    """One version of a group's code of conduct; a new version means members re-accept."""

    group = models.ForeignKey(
        SupportGroup, on_delete=models.CASCADE, related_name="codes_of_conduct"
    )
    version = models.PositiveIntegerField()
    text = models.TextField(_("code of conduct"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["group", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["group", "version"], name="conduct_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.group} v{self.version}"


class Role(models.TextChoices):
    MEMBER = "member", _("Member")
    PEER_MODERATOR = "peer-moderator", _("Peer moderator")
    CO_FACILITATOR = "co-facilitator", _("Co-facilitator")
    FACILITATOR = "facilitator", _("Facilitator")


STAFF_ROLES = (Role.FACILITATOR, Role.CO_FACILITATOR)
# Roles that take one of the group's places (its capacity).
SEAT_ROLES = (Role.MEMBER, Role.PEER_MODERATOR)


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("Request pending")
    ACTIVE = "active", _("Member")
    WAITLISTED = "waitlisted", _("On the waitlist")
    DECLINED = "declined", _("Request declined")
    LEFT = "left", _("Left")
    REMOVED = "removed", _("Removed")


def current_conduct_id(group_ref: str = "group_id") -> Subquery:
    """A subquery for the id of the newest code of conduct of the group at `group_ref`."""
    return Subquery(
        CodeOfConduct.objects.filter(group_id=OuterRef(group_ref))
        .order_by("-version")
        .values("pk")[:1]
    )


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=MembershipStatus.ACTIVE)

    def in_good_standing(self):
        """Active, and agreed to the group's current code of conduct (if it has one).

        The one test of "is a member" on every member path (meetings, answers, feeds,
        reminders): until someone accepts a new code, they are treated as not yet in.
        """
        return (
            self.active()
            .annotate(current_conduct_id=current_conduct_id())
            .filter(
                Q(current_conduct_id__isnull=True) | Q(accepted_conduct_id=F("current_conduct_id"))
            )
        )


class Membership(models.Model):
    """A person's place in a group: one row per person and group, reused on re-joining."""

    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(_("status"), max_length=16, choices=MembershipStatus.choices)
    request_message = models.CharField(_("message to the facilitators"), max_length=500, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=500, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    accepted_conduct = models.ForeignKey(
        CodeOfConduct, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_conduct_at = models.DateTimeField(null=True, blank=True)
    contact_shared = models.BooleanField(
        _("share my email with the facilitators"),
        default=False,
        help_text=_("Lets the group's facilitators contact you directly."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="membership_unique_person"),
        ]
        indexes = [
            models.Index(fields=["group", "status", "role"], name="membership_roster_idx"),
            models.Index(fields=["group", "status", "waitlisted_at"], name="membership_wait_idx"),
            models.Index(fields=["user", "status"], name="membership_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE

    def has_accepted(self, conduct_id: int | None) -> bool:
        """Whether the member agreed to the group's current code (`conduct_id`, or None)."""
        return conduct_id is None or self.accepted_conduct_id == conduct_id

    @property
    def is_staff_role(self) -> bool:
        return self.status == MembershipStatus.ACTIVE and self.role in STAFF_ROLES


class InvitationQuerySet(models.QuerySet):
    def usable(self):
        """Not used, withdrawn or expired, and still addressed (erasure blanks the address)."""
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).exclude(email="")


class Invitation(models.Model):
    """A single-use invitation sent by email; only the token's hash is stored."""

    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["group", "created_at"], name="invitation_group_idx")]

    def __str__(self) -> str:
        return f"Invitation to {self.group}"
