"""Group notifications: join requests for facilitators, answers and waitlist places."""

from django.conf import settings
from django.urls import reverse

from groups.models import STAFF_ROLES, Membership, MembershipStatus
from members import notifications
from members.models import Notification, NotificationKind, User


def _membership_from(notification: Notification) -> Membership | None:
    _prefix, _sep, membership_id = notification.subject_key.partition(":")
    return Membership.objects.select_related("group", "user").filter(pk=int(membership_id)).first()


def _group_context(membership: Membership) -> dict:
    return {
        "membership": membership,
        "group": membership.group,
        "group_url": notifications.site_root() + membership.group.get_absolute_url(),
    }


def build_join_request(notification: Notification):
    membership = _membership_from(notification)
    if membership is None or membership.status != MembershipStatus.PENDING:
        return notifications.Skip("request-answered")
    is_staff = Membership.objects.filter(
        group_id=membership.group_id,
        user=notification.recipient,
        status=MembershipStatus.ACTIVE,
        role__in=STAFF_ROLES,
    ).exists()
    if not is_staff:
        return notifications.Skip("not-a-facilitator")
    manage_url = reverse("groups:manage", kwargs={"slug": membership.group.slug})
    return notifications.Message(
        template="notifications/join_request",
        context=_group_context(membership) | {"manage_url": notifications.site_root() + manage_url},
    )


def build_request_decided(notification: Notification):
    membership = _membership_from(notification)
    if membership is None or membership.user_id != notification.recipient_id:
        return notifications.Skip("request-gone")
    if membership.status not in (
        MembershipStatus.ACTIVE,
        MembershipStatus.WAITLISTED,
        MembershipStatus.DECLINED,
    ):
        return notifications.Skip("request-withdrawn")
    return notifications.Message(
        template="notifications/request_decided", context=_group_context(membership)
    )


def build_group_promotion(notification: Notification):
    membership = _membership_from(notification)
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return notifications.Skip("no-longer-a-member")
    return notifications.Message(
        template="notifications/group_promoted", context=_group_context(membership)
    )


def _stamp(membership: Membership) -> str:
    return f"{membership.updated_at:%Y%m%dT%H%M%S%f}"


def notify_join_requested(membership: Membership, facilitators: list[User]) -> None:
    for person in facilitators:
        notifications.notification_enqueue(
            recipient=person,
            kind=NotificationKind.JOIN_REQUEST,
            subject_key=f"membership:{membership.pk}",
            slot=f"requested:{_stamp(membership)}",
        )


def notify_request_decided(membership: Membership) -> None:
    notifications.notification_enqueue(
        recipient=membership.user,
        kind=NotificationKind.REQUEST_DECIDED,
        subject_key=f"membership:{membership.pk}",
        slot=f"decided:{_stamp(membership)}",
    )


def notify_group_promotion(membership: Membership) -> None:
    notifications.notification_enqueue(
        recipient=membership.user,
        kind=NotificationKind.WAITLIST_PROMOTED,
        subject_key=f"membership:{membership.pk}",
        slot=f"promoted:{_stamp(membership)}",
    )


def build_invitation(notification: Notification):
    """The invitation email, with a link made now: its secret is kept nowhere else.

    Each send writes a new secret's hash into the invitation (in the transaction that
    marks the message sent), so only the link in the email that went out opens it.
    """
    from groups import services

    invitation = services.invitation_for_sending(notification.subject_key.partition(":")[2])
    if invitation is None:
        return notifications.Skip("invitation-no-longer-valid")
    token = services.invitation_new_secret(invitation)
    group = invitation.group
    accept_path = reverse("groups:invitation", kwargs={"token": token})
    return notifications.Message(
        template="notifications/group_invitation",
        context={
            "invitation": invitation,
            "group": group,
            "accept_url": notifications.site_root() + accept_path,
        },
        language=group.language if group.language in dict(settings.LANGUAGES) else "",
        time_zone=group.time_zone,
    )


def build_member_erased(notification: Notification):
    group_id = int(notification.subject_key.partition(":")[2])
    staff = (
        Membership.objects.select_related("group")
        .filter(
            group_id=group_id,
            user=notification.recipient,
            status=MembershipStatus.ACTIVE,
            role__in=STAFF_ROLES,
        )
        .first()
    )
    if staff is None:
        return notifications.Skip("not-a-facilitator")
    return notifications.Message(
        template="notifications/member_erased",
        context={
            "group": staff.group,
            "group_url": notifications.site_root() + staff.group.get_absolute_url(),
        },
    )


def notify_invited(invitation) -> None:
    notifications.notification_enqueue(
        to_email=invitation.email,
        kind=NotificationKind.GROUP_INVITATION,
        subject_key=f"invitation:{invitation.pk}",
        slot="invited",
    )


def notify_member_erased(*, group_id: int, membership_id: int, staff: list[User]) -> None:
    """Tell the group's facilitators that a member erased their account (no name given)."""
    for person in staff:
        notifications.notification_enqueue(
            recipient=person,
            kind=NotificationKind.MEMBER_ERASED,
            subject_key=f"group:{group_id}",
            slot=f"erased:{membership_id}",
        )


def register() -> None:
    notifications.register(NotificationKind.JOIN_REQUEST, build_join_request)
    notifications.register(NotificationKind.REQUEST_DECIDED, build_request_decided)
    notifications.register(NotificationKind.GROUP_INVITATION, build_invitation)
    notifications.register(NotificationKind.MEMBER_ERASED, build_member_erased)
