"""Every non-trivial read of groups and memberships, planned to a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import (
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)

from config.queries import correlated_count
from groups.models import (
    SEAT_ROLES,
    STAFF_ROLES,
    GroupStatus,
    Invitation,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
    Visibility,
    current_conduct_id,
)
from members.models import User
from sessions.selectors import next_meeting_start

DIRECTORY_PAGE_SIZE = 20


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    upcoming: bool = False
    topic: str = ""
    audience: str = ""
    format: str = ""
    language: str = ""
    area: str = ""


def _facilitators_prefetch() -> Prefetch:
    return Prefetch(
        "memberships",
        queryset=Membership.objects.filter(status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES)
        .select_related("user")
        .order_by("role", "user__display_name"),
        to_attr="facilitator_memberships",
    )


def directory_search(filters: DirectoryFilters) -> QuerySet[SupportGroup]:
    """Listed groups that are not closed, matching every filter given."""
    groups = (
        SupportGroup.objects.filter(visibility=Visibility.LISTED)
        .exclude(status=GroupStatus.CLOSED)
        .annotate(next_meeting_at=next_meeting_start())
    )
    if filters.upcoming:
        groups = groups.filter(next_meeting_at__isnull=False)
    if filters.q:
        groups = groups.filter(Q(name__icontains=filters.q) | Q(summary__icontains=filters.q))
    for field in ("topic", "audience", "format", "language"):
        value = getattr(filters, field)
        if value:
            groups = groups.filter(**{field: value})
    if filters.area:
        groups = groups.filter(
            Q(city__icontains=filters.area)
            | Q(region__icontains=filters.area)
            | Q(country__iexact=filters.area)
        )
    return groups.order_by("name", "id")


def group_by_slug(slug: str) -> SupportGroup | None:
    """A group with its facilitators (display names are public) and current conduct."""
    return (
        SupportGroup.objects.prefetch_related(_facilitators_prefetch())
        .annotate(
            next_meeting_at=next_meeting_start(),
            current_conduct_id=current_conduct_id("pk"),
            seats_taken=correlated_count(
                Membership.objects.filter(
                    group_id=OuterRef("pk"), status=MembershipStatus.ACTIVE, role__in=SEAT_ROLES
                )
            ),
        )
        .filter(slug=slug)
        .first()
    )


def membership_of(user: User, group: SupportGroup) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(group=group, user=user).first()


def can_manage(user: User, membership: Membership | None) -> bool:
    """Facilitators and co-facilitators manage their group; coordinators manage all."""
    if not user.is_authenticated:
        return False
    if membership is not None and membership.is_staff_role:
        return True
    return user.is_coordinator


_NOT_READ = object()


def can_manage_group(user: User, group: SupportGroup, *, membership=_NOT_READ) -> bool:
    """The "group.manage" rule; pass the viewer's membership when it has been read."""
    if membership is _NOT_READ:
        membership = membership_of(user, group)
    elif membership is not None and membership.group_id != group.pk:
        raise ValueError("That membership belongs to another group.")
    return can_manage(user, membership)


def manages_staff(user: User, group: SupportGroup, *, membership=_NOT_READ) -> bool:
    """The "group.manage_staff" rule: the group's facilitators and coordinators (not
    co-facilitators) give and take staff roles and remove staff."""
    if membership is _NOT_READ:
        membership = membership_of(user, group)
    if (
        membership is not None
        and membership.group_id == group.pk
        and membership.status == MembershipStatus.ACTIVE
        and membership.role == Role.FACILITATOR
    ):
        return True
    return user.is_coordinator


def is_public(group: SupportGroup) -> bool:
    """Listed and not closed: its page, meetings and next date are open to anyone."""
    return group.visibility == Visibility.LISTED and group.status != GroupStatus.CLOSED


def staffs_a_group(user: User) -> bool:
    """Facilitates or co-facilitates at least one group."""
    return Membership.objects.filter(
        user_id=user.pk, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES
    ).exists()


def roster_for(group: SupportGroup) -> QuerySet[Membership]:
    """Current members and the waitlist, staff first, then by display name."""
    return (
        Membership.objects.filter(
            group=group, status__in=[MembershipStatus.ACTIVE, MembershipStatus.WAITLISTED]
        )
        .select_related("user")
        .order_by("status", "-role", "user__display_name", "id")
    )


@dataclass(frozen=True)
class Peer:
    display_name: str
    role: str

    @property
    def role_label(self) -> str:
        return Role(self.role).label


def peers_of(group: SupportGroup) -> list[Peer]:
    """The active members as other members see them: display name and role only."""
    rows = (
        Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE)
        .order_by("-role", "user__display_name", "id")
        .values_list("user__display_name", "role")
    )
    return [Peer(*row) for row in rows]


def pending_requests(group: SupportGroup) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(group=group, status=MembershipStatus.PENDING)
        .select_related("user")
        .order_by("requested_at", "id")
    )


def pending_invitations(group: SupportGroup) -> QuerySet[Invitation]:
    """Invitations of the group that can still be used, newest first."""
    return (
        Invitation.objects.usable()
        .filter(group=group)
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def removed_from(group: SupportGroup) -> QuerySet[Membership]:
    """People removed from the group, for the coordinator who may restore them."""
    return (
        Membership.objects.filter(group=group, status=MembershipStatus.REMOVED)
        .select_related("user")
        .order_by("-ended_at", "-id")
    )


def waitlist_position(membership: Membership) -> int | None:
    if membership.status != MembershipStatus.WAITLISTED:
        return None
    ahead = Membership.objects.filter(
        group_id=membership.group_id, status=MembershipStatus.WAITLISTED
    ).filter(
        Q(waitlisted_at__lt=membership.waitlisted_at)
        | Q(waitlisted_at=membership.waitlisted_at, id__lt=membership.id)
    )
    return ahead.count() + 1


def groups_of(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .exclude(status__in=[MembershipStatus.LEFT, MembershipStatus.REMOVED])
        .select_related("group")
        .order_by("group__name")
    )


def personal_data_for(user: User) -> list[dict]:
    return [
        {
            "group": membership.group.name,
            "role": membership.role,
            "status": membership.status,
            "requested_at": membership.requested_at.isoformat(),
            "joined_at": membership.joined_at.isoformat() if membership.joined_at else None,
            "ended_at": membership.ended_at.isoformat() if membership.ended_at else None,
            "request_message": membership.request_message,
            "decision_reason": membership.decision_reason,
            "code_of_conduct_version_accepted": membership.accepted_conduct.version
            if membership.accepted_conduct
            else None,
            "code_of_conduct_accepted_at": membership.accepted_conduct_at.isoformat()
            if membership.accepted_conduct_at
            else None,
            "email_shared_with_facilitators": membership.contact_shared,
        }
        for membership in Membership.objects.filter(user=user)
        .select_related("group", "accepted_conduct")
        .order_by("requested_at", "id")
    ]
