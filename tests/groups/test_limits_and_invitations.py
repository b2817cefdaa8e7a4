"""Emails staff and invitees can be flooded with, and invitations that staff control.

Every join request emails the facilitators and every invitation emails an address, so
both are limited; invitations can be withdrawn, die with their sender's role, and a dead
link shows nothing of the group. A coordinator can restore someone removed by mistake.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups import services
from groups.errors import MembershipError
from groups.models import Invitation, JoinPolicy, Membership, MembershipStatus, Role
from members.models import AuditEvent, Notification, NotificationKind
from members.notifications import notification_send
from members.permissions import NotAllowed
from tests.auth import log_in
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa

pytestmark = pytest.mark.django_db


def ask(group, person):
    return services.membership_request(
        group_id=group.pk, user=person, message="", accepted_conduct_version=1, contact_shared=False
    )


@pytest.fixture
def approval_group():
    group = SupportGroupFactory(join_policy=JoinPolicy.APPROVAL, name="Careful Circle")
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR).user
    return group, facilitator


def test_asking_and_withdrawing_in_a_loop_stops_emailing_the_facilitators(approval_group):
    group, facilitator = approval_group
    person = UserFactory()
    for _ in range(services.REQUESTS_PER_GROUP):
        ask(group, person)
        services.membership_leave(group_id=group.pk, user=person)

    with pytest.raises(MembershipError, match="several times in a short while"):
        ask(group, person)

    sent = Notification.objects.filter(recipient=facilitator, kind=NotificationKind.JOIN_REQUEST)
    assert sent.count() == services.REQUESTS_PER_GROUP
    assert Membership.objects.get(group=group, user=person).status == MembershipStatus.LEFT


def test_a_declined_request_waits_out_a_cool_down(approval_group):
    group, facilitator = approval_group
    person = UserFactory()
    membership = ask(group, person)
    services.membership_decline(group_id=group.pk, membership_id=membership.pk, actor=facilitator)

    with pytest.raises(MembershipError, match="ask again from"):
        ask(group, person)

    Membership.objects.filter(pk=membership.pk).update(
        ended_at=timezone.now() - services.REQUEST_COOL_DOWN - timedelta(minutes=1)
    )
    assert ask(group, person).status == MembershipStatus.PENDING


@pytest.fixture
def inviting():
    group = SupportGroupFactory(join_policy=JoinPolicy.INVITATION, name="Unlisted Willow")
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR).user
    return group, facilitator


def test_no_second_invitation_waits_for_the_same_address(inviting):
    group, facilitator = inviting
    services.invitation_create(group=group, email="kim@example.org", actor=facilitator)

    with pytest.raises(MembershipError, match="already waiting"):
        services.invitation_create(group=group, email="Kim@Example.org ", actor=facilitator)
    assert Invitation.objects.filter(group=group).count() == 1


def test_invitations_per_address_are_limited_across_groups(inviting):
    _group, _facilitator = inviting
    for _ in range(services.INVITATIONS_PER_ADDRESS):
        other = SupportGroupFactory()
        staff = MembershipFactory(group=other, role=Role.FACILITATOR).user
        services.invitation_create(group=other, email="target@example.org", actor=staff)
    one_more = SupportGroupFactory()
    staff = MembershipFactory(group=one_more, role=Role.FACILITATOR).user

    with pytest.raises(MembershipError, match="Too many invitations"):
        services.invitation_create(group=one_more, email="target@example.org", actor=staff)


def test_over_the_limit_the_invite_page_says_so_by_the_field(client, inviting):
    group, facilitator = inviting
    enable_mfa(facilitator)
    log_in(client, facilitator)
    url = reverse("groups:invite", args=[group.slug])
    client.post(url, {"email": "kim@example.org"})

    response = client.post(url, {"email": "kim@example.org"})

    assert response.status_code == 200
    assert "already waiting" in response.text
    assert 'value="kim@example.org"' in response.text


def _link_token(invitation) -> str:
    """The link as the email would carry it: a fresh secret, as the outbox makes."""
    with_lock = Invitation.objects.select_related("group").get(pk=invitation.pk)
    return services.invitation_new_secret(with_lock)


def test_a_withdrawn_invitation_is_never_sent_and_its_link_is_dead(client, inviting):
    group, facilitator = inviting
    invitation = services.invitation_create(group=group, email="kim@example.org", actor=facilitator)
    token = _link_token(invitation)

    services.invitation_revoke(group_id=group.pk, invitation_id=invitation.pk, actor=facilitator)

    row = Notification.objects.get(kind=NotificationKind.GROUP_INVITATION)
    assert notification_send(notification_id=row.pk) == "skipped"
    log_in(client, UserFactory(email="kim@example.org"))
    response = client.get(reverse("groups:invitation", args=[token]))
    assert response.status_code == 404
    assert group.name not in response.text


def test_only_the_groups_staff_withdraw_its_invitations(client, inviting):
    group, facilitator = inviting
    invitation = services.invitation_create(group=group, email="kim@example.org", actor=facilitator)
    member = MembershipFactory(group=group).user

    with pytest.raises(NotAllowed, match=r"^group\.manage$"):
        services.invitation_revoke(group_id=group.pk, invitation_id=invitation.pk, actor=member)
    log_in(client, member)
    url = reverse("groups:invitation_revoke", args=[group.slug, invitation.pk])
    assert client.post(url).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


@pytest.mark.parametrize("loses_it", ["leaves", "demoted"])
def test_invitations_die_when_their_sender_loses_the_role(inviting, loses_it):
    group, facilitator = inviting
    co_facilitator = MembershipFactory(group=group, role=Role.CO_FACILITATOR)
    invitation = services.invitation_create(
        group=group, email="kim@example.org", actor=co_facilitator.user
    )
    token = _link_token(invitation)

    if loses_it == "leaves":
        services.membership_leave(group_id=group.pk, user=co_facilitator.user)
    else:
        services.membership_role_change(
            group_id=group.pk, membership_id=co_facilitator.pk, actor=facilitator, role=Role.MEMBER
        )

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    with pytest.raises(MembershipError, match="already been used"):
        services.invitation_for_token(token)


def test_the_manage_page_lists_waiting_invitations_with_a_withdraw_button(client, inviting):
    group, facilitator = inviting
    services.invitation_create(group=group, email="kim@example.org", actor=facilitator)
    enable_mfa(facilitator)
    log_in(client, facilitator)

    page = client.get(reverse("groups:manage", args=[group.slug])).text

    assert "kim@example.org" in page
    assert "Withdraw the invitation to kim@example.org" in page


def test_a_coordinator_restores_a_removed_facilitator_with_their_role(client, inviting):
    group, facilitator = inviting
    removed = MembershipFactory(group=group, role=Role.FACILITATOR)
    services.membership_remove(group_id=group.pk, membership_id=removed.pk, actor=facilitator)
    coordinator = CoordinatorFactory()
    enable_mfa(coordinator)
    log_in(client, coordinator)
    assert (
        "Restore " + removed.user.display_name
        in client.get(reverse("groups:manage", args=[group.slug])).text
    )

    response = client.post(
        reverse("groups:member_action", args=[group.slug, removed.pk, "restore"])
    )

    assert response.status_code == 302
    removed.refresh_from_db()
    assert (removed.status, removed.role) == (MembershipStatus.ACTIVE, Role.FACILITATOR)
    assert AuditEvent.objects.filter(
        action="group.member.restore", actor=coordinator, subject=removed.user
    ).exists()


def test_a_facilitator_cannot_restore_and_does_not_see_the_removed(client, inviting):
    group, facilitator = inviting
    removed = MembershipFactory(group=group)
    services.membership_remove(group_id=group.pk, membership_id=removed.pk, actor=facilitator)
    enable_mfa(facilitator)
    log_in(client, facilitator)

    page = client.get(reverse("groups:manage", args=[group.slug])).text
    client.post(reverse("groups:member_action", args=[group.slug, removed.pk, "restore"]))

    assert "Restore " + removed.user.display_name not in page
    removed.refresh_from_db()
    assert removed.status == MembershipStatus.REMOVED
