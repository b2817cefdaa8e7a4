"""Every write to groups, memberships, codes of conduct and invitations.

Rules that depend on how many people are in a group (capacity, waitlist order) are
decided while holding a row lock on the group, so concurrent requests queue up and
are served in the order they arrive.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from groups import notifications as group_notifications
from groups import selectors
from groups.errors import InvitationError, MembershipError
from groups.models import (
    SEAT_ROLES,
    STAFF_ROLES,
    CodeOfConduct,
    GroupStatus,
    Invitation,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
)
from groups.signals import membership_ended
from members import permissions, ratelimits
from members.models import User
from members.services import audit_record

INVITATION_LIFETIME = timedelta(days=14)
# Every request and invitation is an email to someone: how often each may be sent.
REQUEST_COOL_DOWN = timedelta(days=30)
REQUESTS_PER_GROUP = 3  # a week
REQUESTS_PER_DAY = 10
INVITATIONS_PER_SENDER = 50  # a day
INVITATIONS_PER_ADDRESS = 3  # a day, from every group together


def _lock_group(group_id: int) -> SupportGroup:
    return SupportGroup.objects.select_for_update().get(pk=group_id)


def _seats_taken(group: SupportGroup) -> int:
    return Membership.objects.filter(
        group=group, status=MembershipStatus.ACTIVE, role__in=SEAT_ROLES
    ).count()


def _has_free_seat(group: SupportGroup) -> bool:
    return group.capacity is None or _seats_taken(group) < group.capacity


def current_code_of_conduct(group: SupportGroup) -> CodeOfConduct | None:
    return group.codes_of_conduct.order_by("-version").first()


def _check_conduct(group: SupportGroup, accepted_version: int | None) -> CodeOfConduct | None:
    conduct = current_code_of_conduct(group)
    if conduct is not None and accepted_version != conduct.version:
        raise MembershipError(
            _("Please read and accept the group's current code of conduct to continue.")
        )
    return conduct


def _check_open_to_newcomers(group: SupportGroup) -> None:
    if group.status == GroupStatus.CLOSED:
        raise MembershipError(_("This group has closed and is not taking new members."))
    if group.status == GroupStatus.PAUSED:
        raise MembershipError(_("This group is paused and is not taking new members just now."))


def _existing(group: SupportGroup, user: User) -> Membership | None:
    return Membership.objects.filter(group=group, user=user).first()


def _check_not_already_in(membership: Membership | None) -> None:
    if membership is None:
        return
    if membership.status == MembershipStatus.ACTIVE:
        raise MembershipError(_("You are already a member of this group."))
    if membership.status == MembershipStatus.WAITLISTED:
        raise MembershipError(_("You are already on this group's waitlist."))
    if membership.status == MembershipStatus.PENDING:
        raise MembershipError(_("Your request to join is already waiting for a facilitator."))
    if membership.status == MembershipStatus.REMOVED:
        raise MembershipError(
            _("You can't rejoin this group. Please contact the programme coordinator.")
        )


def _admit(
    group: SupportGroup,
    user: User,
    membership: Membership | None,
    *,
    conduct: CodeOfConduct | None,
    contact_shared: bool,
    role: str = Role.MEMBER,
) -> Membership:
    """Make the person a member, or put them at the end of the waitlist when full."""
    now = timezone.now()
    takes_seat = role in SEAT_ROLES
    status = (
        MembershipStatus.ACTIVE
        if not takes_seat or _has_free_seat(group)
        else MembershipStatus.WAITLISTED
    )
    membership = membership or Membership(group=group, user=user, requested_at=now)
    membership.role = role
    membership.status = status
    membership.joined_at = now if status == MembershipStatus.ACTIVE else None
    membership.waitlisted_at = now if status == MembershipStatus.WAITLISTED else None
    membership.ended_at = None
    membership.contact_shared = contact_shared
    if conduct is not None:
        membership.accepted_conduct = conduct
        membership.accepted_conduct_at = now
    membership.save()
    return membership


def membership_join(
    *, group_id: int, user: User, accepted_conduct_version: int | None, contact_shared: bool
) -> Membership:
    """Join an open group, or its waitlist when it is full."""
    with transaction.atomic():
        group = _lock_group(group_id)
        _check_open_to_newcomers(group)
        if group.join_policy != JoinPolicy.OPEN:
            raise MembershipError(_("This group asks you to request a place or be invited."))
        membership = _existing(group, user)
        _check_not_already_in(membership)
        conduct = _check_conduct(group, accepted_conduct_version)
        return _admit(group, user, membership, conduct=conduct, contact_shared=contact_shared)


def membership_request(
    *,
    group_id: int,
    user: User,
    message: str,
    accepted_conduct_version: int | None,
    contact_shared: bool,
) -> Membership:
    """Ask to join a group whose facilitators approve newcomers."""
    message = message.strip()
    if len(message) > 500:
        raise MembershipError(_("Please keep your message under 500 characters."))
    with transaction.atomic():
        group = _lock_group(group_id)
        _check_open_to_newcomers(group)
        if group.join_policy != JoinPolicy.APPROVAL:
            raise MembershipError(_("This group does not take requests to join."))
        membership = _existing(group, user)
        _check_not_already_in(membership)
        _check_request_not_too_soon(group, membership, user)
        conduct = _check_conduct(group, accepted_conduct_version)
        now = timezone.now()
        membership = membership or Membership(group=group, user=user)
        membership.status = MembershipStatus.PENDING
        membership.role = Role.MEMBER
        membership.request_message = message
        membership.decision_reason = ""
        membership.requested_at = now
        membership.joined_at = None
        membership.ended_at = None
        membership.contact_shared = contact_shared
        membership.accepted_conduct = conduct
        membership.accepted_conduct_at = now if conduct else None
        membership.save()
        group_notifications.notify_join_requested(
            membership,
            [
                staff.user
                for staff in Membership.objects.select_related("user").filter(
                    group=group, status=MembershipStatus.ACTIVE, role__in=STAFF_ROLES
                )
            ],
        )
        return membership


def _check_request_not_too_soon(
    group: SupportGroup, membership: Membership | None, user: User
) -> None:
    """Each request emails the facilitators, so asking is limited: a declined request
    waits out a cool-down, and asking again and again (withdrawing in between) stops."""
    now = timezone.now()
    if (
        membership is not None
        and membership.status == MembershipStatus.DECLINED
        and membership.ended_at is not None
        and membership.ended_at > now - REQUEST_COOL_DOWN
    ):
        raise MembershipError(
            _("The facilitators answered your request recently. You can ask again from %(date)s.")
            % {"date": formats.date_format(membership.ended_at + REQUEST_COOL_DOWN)}
        )
    if not ratelimits.consume(
        key=f"join-request:{user.pk}:{group.pk}", limit=REQUESTS_PER_GROUP, period=timedelta(days=7)
    ) or not ratelimits.consume(
        key=f"join-request:{user.pk}", limit=REQUESTS_PER_DAY, period=timedelta(days=1)
    ):
        raise MembershipError(
            _("You have asked to join several times in a short while. Please try again later.")
        )


def _managed_membership(
    membership_id: int, group_id: int, actor: User
) -> tuple[SupportGroup, Membership]:
    group = _lock_group(group_id)
    permissions.require(actor, "group.manage", group)
    try:
        membership = Membership.objects.select_for_update().get(pk=membership_id, group=group)
    except Membership.DoesNotExist:
        raise MembershipError(_("That person is not in this group.")) from None
    return group, membership


def membership_approve(*, group_id: int, membership_id: int, actor: User) -> Membership:
    with transaction.atomic():
        group, membership = _managed_membership(membership_id, group_id, actor)
        if membership.status != MembershipStatus.PENDING:
            raise MembershipError(_("This request has already been answered."))
        membership = _admit(
            group,
            membership.user,
            membership,
            conduct=membership.accepted_conduct,
            contact_shared=membership.contact_shared,
        )
        _audit(actor, group, membership, "group.request.approve")
        group_notifications.notify_request_decided(membership)
        return membership


def _audit(
    actor: User, group: SupportGroup, membership: Membership, action: str, detail: str = ""
) -> None:
    """Staff actions on someone's membership go in the audit log, with who did them."""
    group_name = group.name
    audit_record(
        actor=actor,
        subjects=[membership.user_id],
        action=action,
        context=f"{group_name}: {detail}" if detail else group_name,
        group_id=group.pk,
        group_name=group_name,
    )


def membership_decline(
    *, group_id: int, membership_id: int, actor: User, reason: str = ""
) -> Membership:
    reason = reason.strip()
    if len(reason) > 500:
        raise MembershipError(_("Please keep the reason under 500 characters."))
    with transaction.atomic():
        group, membership = _managed_membership(membership_id, group_id, actor)
        if membership.status != MembershipStatus.PENDING:
            raise MembershipError(_("This request has already been answered."))
        membership.status = MembershipStatus.DECLINED
        membership.decision_reason = reason
        membership.ended_at = timezone.now()
        membership.save(update_fields=["status", "decision_reason", "ended_at", "updated_at"])
        _audit(actor, group, membership, "group.request.decline")
        group_notifications.notify_request_decided(membership)
        return membership


def _promote_from_waitlist(group: SupportGroup) -> list[Membership]:
    """Fill free seats from the waitlist, first come first served. Caller holds the lock."""
    promoted = []
    while _has_free_seat(group):
        waiting = (
            Membership.objects.select_for_update()
            .filter(group=group, status=MembershipStatus.WAITLISTED)
            .order_by("waitlisted_at", "id")
            .first()
        )
        if waiting is None:
            break
        waiting.status = MembershipStatus.ACTIVE
        waiting.joined_at = timezone.now()
        waiting.waitlisted_at = None
        waiting.save(update_fields=["status", "joined_at", "waitlisted_at", "updated_at"])
        promoted.append(waiting)
    for membership in promoted:
        group_notifications.notify_group_promotion(membership)
    return promoted


def _end(membership: Membership, status: str, reason: str = "") -> None:
    """End a membership; the caller holds the group's lock and promotes from the waitlist."""
    membership.status = status
    membership.ended_at = timezone.now()
    membership.waitlisted_at = None
    if reason:
        membership.decision_reason = reason
    membership.save(
        update_fields=["status", "ended_at", "waitlisted_at", "decision_reason", "updated_at"]
    )
    if membership.role in STAFF_ROLES:
        _void_invitations_by(membership.group_id, membership.user_id)
    _announce_end(membership.group_id, membership.user_id)


def _void_invitations_by(group_id: int, user_id: int) -> None:
    """Someone no longer on a group's staff: the invitations they sent for it die."""
    Invitation.objects.filter(
        group_id=group_id, invited_by_id=user_id, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def _announce_end(group_id: int, user_id: int) -> None:
    """Let other apps release what the person held in the group (places at meetings)."""
    membership_ended.send(sender=Membership, group_id=group_id, user_id=user_id)


def membership_leave(*, group_id: int, user: User) -> Membership:
    with transaction.atomic():
        group = _lock_group(group_id)
        membership = (
            Membership.objects.select_for_update()
            .filter(
                group=group,
                user=user,
                status__in=[
                    MembershipStatus.ACTIVE,
                    MembershipStatus.WAITLISTED,
                    MembershipStatus.PENDING,
                ],
            )
            .first()
        )
        if membership is None:
            raise MembershipError(_("You are not a member of this group."))
        if membership.role == Role.FACILITATOR and not _other_facilitator_exists(membership):
            raise MembershipError(
                _("You are this group's only facilitator. Ask the coordinator to hand over first.")
            )
        _end(membership, MembershipStatus.LEFT)
        _promote_from_waitlist(group)
        return membership


def _other_facilitator_exists(membership: Membership) -> bool:
    return (
        Membership.objects.filter(
            group_id=membership.group_id,
            status=MembershipStatus.ACTIVE,
            role=Role.FACILITATOR,
        )
        .exclude(pk=membership.pk)
        .exists()
    )


def membership_remove(
    *, group_id: int, membership_id: int, actor: User, reason: str = ""
) -> Membership:
    with transaction.atomic():
        group, membership = _managed_membership(membership_id, group_id, actor)
        if membership.user_id == actor.pk:
            raise MembershipError(_("You can't remove yourself; use “Leave group” instead."))
        if membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.WAITLISTED):
            raise MembershipError(_("That person is not a current member."))
        if membership.role in STAFF_ROLES:
            permissions.require(actor, "group.manage_staff", group)
        if membership.role == Role.FACILITATOR and not _other_facilitator_exists(membership):
            raise MembershipError(_("A group needs at least one facilitator."))
        _end(membership, MembershipStatus.REMOVED, reason.strip()[:500])
        _audit(actor, group, membership, "group.member.remove", membership.role)
        _promote_from_waitlist(group)
        return membership


def membership_role_change(
    *, group_id: int, membership_id: int, actor: User, role: str
) -> Membership:
    if role not in Role.values:
        raise MembershipError(_("Choose a role from the list."))
    with transaction.atomic():
        group, membership = _managed_membership(membership_id, group_id, actor)
        if membership.user_id == actor.pk:
            raise MembershipError(
                _("You can't change your own role. Ask another facilitator or the coordinator.")
            )
        if membership.status != MembershipStatus.ACTIVE:
            raise MembershipError(_("Only current members can be given a role."))
        if membership.role in STAFF_ROLES or role in STAFF_ROLES:
            permissions.require(actor, "group.manage_staff", group)
        if (
            membership.role == Role.FACILITATOR
            and role != Role.FACILITATOR
            and not _other_facilitator_exists(membership)
        ):
            raise MembershipError(_("A group needs at least one facilitator."))
        frees_a_seat = membership.role in SEAT_ROLES and role in STAFF_ROLES
        old_role = membership.role
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        if old_role != role:
            _audit(actor, group, membership, "group.member.role", f"{old_role} → {role}")
        if old_role in STAFF_ROLES and role not in STAFF_ROLES:
            _void_invitations_by(group.pk, membership.user_id)
        if frees_a_seat:
            _promote_from_waitlist(group)
        return membership


def conduct_accept(*, group_id: int, user: User, version: int) -> Membership:
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(
            group_id=group_id, user=user, status=MembershipStatus.ACTIVE
        )
        conduct = current_code_of_conduct(membership.group)
        if conduct is None or conduct.version != version:
            raise MembershipError(_("The code of conduct has changed; please read it again."))
        membership.accepted_conduct = conduct
        membership.accepted_conduct_at = timezone.now()
        membership.save(update_fields=["accepted_conduct", "accepted_conduct_at", "updated_at"])
        return membership


def code_of_conduct_publish(*, group: SupportGroup, text: str, actor: User) -> CodeOfConduct:
    """A new version: every member is asked to accept it at their next visit."""
    text = text.strip()
    if not text:
        raise MembershipError(_("The code of conduct can't be empty."))
    with transaction.atomic():
        group = _lock_group(group.pk)
        permissions.require(actor, "group.manage", group)
        current = current_code_of_conduct(group)
        if current is not None and current.text == text:
            return current
        conduct = CodeOfConduct.objects.create(
            group=group,
            version=(current.version + 1) if current else 1,
            text=text,
            created_by=actor,
        )
        # Whoever wrote it has agreed to it; everyone else is asked at their next visit.
        Membership.objects.active().filter(group=group, user=actor).update(
            accepted_conduct=conduct, accepted_conduct_at=timezone.now()
        )
        return conduct


def support_group_create(*, data: dict, facilitator: User, actor: User, conduct_text: str):
    permissions.require(actor, "group.create")
    with transaction.atomic():
        group = SupportGroup(**data)
        group.full_clean()
        group.save()
        CodeOfConduct.objects.create(group=group, version=1, text=conduct_text, created_by=actor)
        _admit(
            group,
            facilitator,
            None,
            conduct=current_code_of_conduct(group),
            contact_shared=True,
            role=Role.FACILITATOR,
        )
        return group


def support_group_update(*, group: SupportGroup, data: dict, actor: User) -> SupportGroup:
    with transaction.atomic():
        locked = _lock_group(group.pk)
        permissions.require(actor, "group.manage", locked)
        capacity_grew = data.get("capacity") is None or (
            locked.capacity is not None and data["capacity"] > locked.capacity
        )
        for field, value in data.items():
            setattr(locked, field, value)
        locked.full_clean()
        locked.save()
        if capacity_grew:
            _promote_from_waitlist(locked)
        return locked


def facilitator_assign(*, group_id: int, user: User, actor: User) -> Membership:
    """Coordinators put a person in charge of a group (joining them if needed)."""
    with transaction.atomic():
        group = _lock_group(group_id)
        permissions.require(actor, "group.assign_facilitator", group)
        membership = _existing(group, user)
        if membership is not None and membership.status == MembershipStatus.ACTIVE:
            membership.role = Role.FACILITATOR
            membership.save(update_fields=["role", "updated_at"])
            _promote_from_waitlist(group)
            return membership
        return _admit(
            group,
            user,
            membership,
            conduct=current_code_of_conduct(group),
            contact_shared=True,
            role=Role.FACILITATOR,
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(*, group: SupportGroup, email: str, actor: User) -> Invitation:
    """Create a single-use invitation and queue its email in the outbox.

    The link's secret is made when the email is written (`invitation_new_secret`), so it
    never travels through the broker or sits in a table; until then the row holds the
    hash of a secret nobody has.
    """
    permissions.require(actor, "group.manage", group)
    email = email.strip().lower()
    with transaction.atomic():
        _lock_group(group.pk)
        waiting = selectors.pending_invitations(group).filter(email__iexact=email).first()
        if waiting is not None:
            raise MembershipError(
                _(
                    "An invitation to this address is already waiting; it can be used "
                    "until %(date)s."
                )
                % {"date": formats.date_format(waiting.expires_at)}
            )
        address_key = hashlib.sha256(email.encode()).hexdigest()
        if not ratelimits.consume(
            key=f"invitations-by:{actor.pk}", limit=INVITATIONS_PER_SENDER, period=timedelta(1)
        ) or not ratelimits.consume(
            key=f"invitations-to:{address_key}", limit=INVITATIONS_PER_ADDRESS, period=timedelta(1)
        ):
            raise MembershipError(
                _("Too many invitations have been sent just now. Please try again tomorrow.")
            )
        invitation = Invitation.objects.create(
            group=group,
            email=email,
            token_hash=_token_hash(secrets.token_urlsafe(32)),
            invited_by=actor,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        group_notifications.notify_invited(invitation)
    return invitation


def invitation_for_sending(invitation_id: str) -> Invitation | None:
    """The invitation, locked, if its email should still go out (unused, unexpired, open)."""
    if not invitation_id.isdecimal():
        return None
    invitation = (
        Invitation.objects.usable()
        .select_for_update(of=("self",))
        .select_related("group")
        .filter(pk=int(invitation_id))
        .first()
    )
    if (
        invitation is None
        or invitation.group.status == GroupStatus.CLOSED
        or not _inviter_still_staff(invitation)
    ):
        return None
    return invitation


def invitation_revoke(*, group_id: int, invitation_id: int, actor: User) -> Invitation:
    """Staff withdraw an invitation; its link stops working and no email goes after this."""
    with transaction.atomic():
        group = _lock_group(group_id)
        permissions.require(actor, "group.manage", group)
        invitation = selectors.pending_invitations(group).filter(pk=invitation_id).first()
        if invitation is None:
            raise MembershipError(_("That invitation has already been used or withdrawn."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        return invitation


def membership_restore(*, group_id: int, membership_id: int, actor: User) -> Membership:
    """A coordinator undoes a removal (a facilitator removed by mistake or in a dispute),
    with the role the person had; a member takes the waitlist if the group is full."""
    with transaction.atomic():
        group = _lock_group(group_id)
        permissions.require(actor, "group.assign_facilitator", group)
        membership = (
            Membership.objects.select_for_update()
            .filter(pk=membership_id, group=group, status=MembershipStatus.REMOVED)
            .first()
        )
        if membership is None:
            raise MembershipError(_("That person has not been removed from this group."))
        membership = _admit(
            group,
            membership.user,
            membership,
            conduct=current_code_of_conduct(group),
            contact_shared=membership.contact_shared,
            role=membership.role,
        )
        _audit(actor, group, membership, "group.member.restore", membership.role)
        return membership


def invitation_new_secret(invitation: Invitation) -> str:
    """A fresh secret for the invitation's link; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _token_hash(token)
    invitation.save(update_fields=["token_hash"])
    return token


def invitation_for_token(token: str) -> Invitation:
    """The invitation a link opens, while it can still be used.

    A used, revoked or expired link says only that, with nothing of the group: the link
    may have been forwarded, and an unlisted group is known only to those it invites.
    """
    invitation = (
        Invitation.objects.select_related("group").filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid."))
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise InvitationError(_("This invitation has already been used."))
    if invitation.expires_at <= timezone.now():
        raise InvitationError(_("This invitation has expired. Ask the facilitator for a new one."))
    if not _inviter_still_staff(invitation):
        raise InvitationError(_("This invitation is no longer valid. Ask the group for a new one."))
    return invitation


def _inviter_still_staff(invitation: Invitation) -> bool:
    inviter = invitation.invited_by
    return inviter is not None and permissions.allowed(inviter, "group.manage", invitation.group)


def invitation_accept(
    *, token: str, user: User, accepted_conduct_version: int | None, contact_shared: bool
) -> Membership:
    with transaction.atomic():
        invitation = invitation_for_token(token)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None or invitation.revoked_at is not None:
            raise InvitationError(_("This invitation has already been used."))
        if invitation.expires_at <= timezone.now():
            raise InvitationError(
                _("This invitation has expired. Ask the facilitator for a new one.")
            )
        if not user.emailaddress_set.filter(email__iexact=invitation.email, verified=True).exists():
            raise InvitationError(
                _("This invitation was sent to another email address. Sign in with that address.")
            )
        group = _lock_group(invitation.group_id)
        if group.status == GroupStatus.CLOSED:
            raise MembershipError(_("This group has closed and is not taking new members."))
        membership = _existing(group, user)
        _check_not_already_in(membership)
        conduct = _check_conduct(group, accepted_conduct_version)
        membership = _admit(group, user, membership, conduct=conduct, contact_shared=contact_shared)
        Invitation.objects.filter(pk=invitation.pk).update(
            accepted_at=timezone.now(), accepted_by=user
        )
        return membership


def memberships_end_for_erasure(user: User) -> None:
    """Erasure: end every membership, clear what the person wrote, refill their seats."""
    group_ids = list(
        Membership.objects.filter(
            user=user,
            status__in=[
                MembershipStatus.ACTIVE,
                MembershipStatus.WAITLISTED,
                MembershipStatus.PENDING,
            ],
        ).values_list("group_id", flat=True)
    )
    for group_id in sorted(group_ids):
        group = _lock_group(group_id)
        Membership.objects.filter(group=group, user=user).update(
            status=MembershipStatus.LEFT, ended_at=timezone.now(), waitlisted_at=None
        )
        _announce_end(group_id, user.pk)
        _promote_from_waitlist(group)
        group_notifications.notify_member_erased(
            group_id=group_id,
            membership_id=Membership.objects.get(group=group, user=user).pk,
            staff=[
                staff.user
                for staff in Membership.objects.select_related("user").filter(
                    group=group,
                    status=MembershipStatus.ACTIVE,
                    role__in=STAFF_ROLES,
                    user__is_active=True,
                )
            ],
        )
    Membership.objects.filter(user=user).update(
        request_message="", decision_reason="", contact_shared=False
    )
    addresses = {user.email.lower()}
    addresses |= {email.lower() for email in user.emailaddress_set.values_list("email", flat=True)}
    for address in addresses:
        Invitation.objects.filter(email__iexact=address).update(email="")
        SupportGroup.objects.filter(contact_email__iexact=address).update(contact_email="")
    Invitation.objects.filter(accepted_by=user).update(email="")
