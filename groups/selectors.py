"""Every non-trivial read of groups and memberships, planned to a fixed number of queries."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import translation

from config.queries import correlated_count
from groups.countries import countries_matching
from groups.models import (
    SEAT_ROLES,
    STAFF_ROLES,
    Audience,
    GroupStatus,
    Invitation,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
    Topic,
    Visibility,
    current_conduct_id,
)
from members.models import User
from sessions.selectors import next_meeting_start

DIRECTORY_PAGE_SIZE = 20
SUGGESTIONS = 3
# Words a search skips: "a group for dementia in Italy" searches "dementia Italy".
SEARCH_STOP_WORDS = frozenset(
    {"a", "an", "and", "for", "group", "groups", "in", "of", "on", "the", "to", "with"}
    | {"con", "da", "del", "della", "di", "e", "gruppi", "gruppo", "il", "la", "le", "nel", "per"}
)


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


def _choices_matching(choices, term: str) -> list[str]:
    """Values whose label contains `term`, in English or in any language the site speaks
    (the viewer's among them): "dementia" and "demenza" both find the dementia topic."""
    folded = term.casefold()
    names = {value: {str(label).casefold()} for value, label in choices.choices}
    for code, _language in settings.LANGUAGES:
        with translation.override(code):
            for value, label in choices.choices:
                names[value].add(str(label).casefold())
    return [value for value, labels in names.items() if any(folded in label for label in labels)]


def search_terms(q: str) -> list[str]:
    """The words of a search that carry meaning: every one of them must match."""
    words = [word for word in q.split() if word.casefold() not in SEARCH_STOP_WORDS]
    return words or q.split()


def _term_matches(term: str) -> Q:
    """A group matches a word through its name, summary, place, topic or country."""
    if len(term) <= 2:
        return Q(country__iexact=term) | Q(name__icontains=term)
    return (
        Q(name__icontains=term)
        | Q(summary__icontains=term)
        | Q(city__icontains=term)
        | Q(region__icontains=term)
        | Q(topic__in=_choices_matching(Topic, term))
        | Q(audience__in=_audiences_matching(term))
        | Q(country__in=countries_matching(term))
    )


def audiences_for(audience: str) -> list[str]:
    """A group for both audiences is also a group for caregivers, and for patients."""
    if audience in (Audience.PATIENTS, Audience.CAREGIVERS):
        return [audience, Audience.BOTH]
    return [audience]


def _audiences_matching(term: str) -> set[str]:
    """ "caregivers" finds the groups for caregivers and those for both audiences."""
    return {
        audience for value in _choices_matching(Audience, term) for audience in audiences_for(value)
    }


def _viewer_place(user: User | None):
    """What the viewer is in each group: "staff", "member", "waitlisted", "pending" or None
    (one subquery, so a directory page costs the same for anyone)."""
    if user is None or not user.is_authenticated:
        return Value(None, output_field=CharField())
    theirs = Membership.objects.filter(group_id=OuterRef("pk"), user_id=user.pk)
    place = theirs.annotate(
        place=Case(
            When(status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES, then=Value("staff")),
            When(status=MembershipStatus.ACTIVE, then=Value("member")),
            When(status=MembershipStatus.WAITLISTED, then=Value("waitlisted")),
            When(status=MembershipStatus.PENDING, then=Value("pending")),
            default=Value(None),
            output_field=CharField(),
        )
    ).values("place")[:1]
    return Subquery(place, output_field=CharField())


def directory_search(
    filters: DirectoryFilters, *, viewer: User | None = None
) -> QuerySet[SupportGroup]:
    """Listed groups that are not closed, matching every filter given, each marked with
    the viewer's place in it (`viewer_place`)."""
    groups = (
        SupportGroup.objects.filter(visibility=Visibility.LISTED)
        .exclude(status=GroupStatus.CLOSED)
        .annotate(next_meeting_at=next_meeting_start(), viewer_place=_viewer_place(viewer))
    )
    if filters.upcoming:
        groups = groups.filter(next_meeting_at__isnull=False)
    for term in search_terms(filters.q):
        groups = groups.filter(_term_matches(term))
    for field in ("topic", "format", "language"):
        value = getattr(filters, field)
        if value:
            groups = groups.filter(**{field: value})
    if filters.audience:
        groups = groups.filter(audience__in=audiences_for(filters.audience))
    if filters.area:
        groups = groups.filter(
            Q(city__icontains=filters.area)
            | Q(region__icontains=filters.area)
            | Q(country__iexact=filters.area)
            | Q(country__in=countries_matching(filters.area))
        )
    return groups.order_by("name", "id")


def groups_with_room(group: SupportGroup, *, limit: int = SUGGESTIONS) -> list[SupportGroup]:
    """Other listed, active groups anyone can join at once that have a free place, on the
    same topic and for the same people: what a full group suggests instead."""
    seats_taken = correlated_count(
        Membership.objects.filter(
            group_id=OuterRef("pk"), status=MembershipStatus.ACTIVE, role__in=SEAT_ROLES
        )
    )
    return list(
        SupportGroup.objects.filter(
            visibility=Visibility.LISTED,
            status=GroupStatus.ACTIVE,
            join_policy=JoinPolicy.OPEN,
            topic=group.topic,
            audience__in=audiences_for(group.audience),
        )
        .exclude(pk=group.pk)
        .annotate(seats_taken=seats_taken, next_meeting_at=next_meeting_start())
        .filter(Q(capacity__isnull=True) | Q(seats_taken__lt=F("capacity")))
        .order_by(
            Case(When(language=group.language, then=Value(0)), default=Value(1)), "name", "id"
        )[:limit]
    )


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


_ROLE_RANK = Case(
    *(When(role=role, then=Value(rank)) for rank, role in enumerate(Role.values[::-1])),
    output_field=IntegerField(),
)


def roster_for(group: SupportGroup) -> QuerySet[Membership]:
    """Current members, staff first, then by display name (the waitlist: waitlist_for)."""
    return (
        Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE)
        .select_related("user")
        .order_by(_ROLE_RANK, "user__display_name", "id")
    )


def roster_matching(roster: QuerySet[Membership], q: str) -> QuerySet[Membership]:
    """The roster narrowed to people whose display name contains `q`."""
    return roster.filter(user__display_name__icontains=q.strip()) if q.strip() else roster


def roster_member(group: SupportGroup, membership_id: int) -> Membership | None:
    """A current member of the group, or someone on its waitlist."""
    return (
        Membership.objects.filter(
            group=group,
            pk=membership_id,
            status__in=[MembershipStatus.ACTIVE, MembershipStatus.WAITLISTED],
        )
        .select_related("user")
        .first()
    )


def waitlist_for(group: SupportGroup) -> QuerySet[Membership]:
    """The group's waitlist in the order places are offered: first come, first served."""
    return (
        Membership.objects.filter(group=group, status=MembershipStatus.WAITLISTED)
        .select_related("user")
        .order_by("waitlisted_at", "id")
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


def home_groups(user: User) -> list[Membership]:
    """The person's groups for their home: active, waiting or asked, with the number of
    requests to join waiting in the groups they run (None in the others)."""
    pending = correlated_count(
        Membership.objects.filter(group_id=OuterRef("group_id"), status=MembershipStatus.PENDING)
    )
    return list(
        Membership.objects.filter(
            user_id=user.pk,
            status__in=[
                MembershipStatus.ACTIVE,
                MembershipStatus.WAITLISTED,
                MembershipStatus.PENDING,
            ],
        )
        .select_related("group")
        .annotate(
            requests_waiting=Case(
                When(status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES, then=pending),
                default=Value(None),
                output_field=IntegerField(),
            )
        )
        .order_by(
            Case(
                When(status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES, then=Value(0)),
                When(status=MembershipStatus.ACTIVE, then=Value(1)),
                default=Value(2),
            ),
            "group__name",
            "id",
        )
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
