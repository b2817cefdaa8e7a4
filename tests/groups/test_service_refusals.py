"""Every refusal of the membership services: a clear message, and nothing written.

Each case sets up the state a real person runs into (a second request, a reason that is
too long, the last facilitator leaving...) and checks the exact message they read, and
that the membership rows are as they were.
"""

import pytest

from groups import services
from groups.errors import MembershipError
from groups.models import JoinPolicy, Membership, MembershipStatus, Role
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(group) -> list[tuple]:
    return list(
        Membership.objects.filter(group=group)
        .order_by("pk")
        .values_list("user_id", "status", "role", "decision_reason")
    )


def refused(group, call, message: str) -> None:
    before = rows(group)
    with pytest.raises(MembershipError, match=message):
        call()
    assert rows(group) == before


def request(group, user, message="Hello"):
    return lambda: services.membership_request(
        group_id=group.pk,
        user=user,
        message=message,
        accepted_conduct_version=1,
        contact_shared=False,
    )


@pytest.fixture
def approval_group():
    return SupportGroupFactory(join_policy=JoinPolicy.APPROVAL)


@pytest.fixture
def facilitator(approval_group):
    return MembershipFactory(group=approval_group, role=Role.FACILITATOR).user


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (MembershipStatus.WAITLISTED, "already on this group's waitlist"),
        (MembershipStatus.PENDING, "already waiting for a facilitator"),
        (MembershipStatus.ACTIVE, "already a member"),
        (MembershipStatus.REMOVED, "can't rejoin this group"),
    ],
)
def test_asking_again_says_where_the_person_already_stands(approval_group, status, message):
    person = MembershipFactory(group=approval_group, status=status).user
    refused(approval_group, request(approval_group, person), message)


def test_a_request_message_over_500_characters_is_refused(approval_group):
    refused(approval_group, request(approval_group, UserFactory(), "x" * 501), "under 500")


def test_an_open_group_takes_no_requests():
    group = SupportGroupFactory(join_policy=JoinPolicy.OPEN)
    refused(group, request(group, UserFactory()), "does not take requests")


def test_declining_with_a_long_reason_or_twice_is_refused(approval_group, facilitator):
    pending = MembershipFactory(group=approval_group, status=MembershipStatus.PENDING)

    def decline(reason=""):
        return lambda: services.membership_decline(
            group_id=approval_group.pk, membership_id=pending.pk, actor=facilitator, reason=reason
        )

    refused(approval_group, decline("x" * 501), "reason under 500")
    services.membership_decline(
        group_id=approval_group.pk, membership_id=pending.pk, actor=facilitator, reason="Full"
    )
    pending.refresh_from_db()
    assert (pending.status, pending.decision_reason) == (MembershipStatus.DECLINED, "Full")
    refused(approval_group, decline(), "already been answered")


def test_leaving_a_group_one_is_not_in_is_refused(approval_group):
    leave = lambda: services.membership_leave(group_id=approval_group.pk, user=UserFactory())  # noqa: E731
    refused(approval_group, leave, "not a member of this group")


def test_the_only_facilitator_cannot_leave_or_be_removed_or_demoted(approval_group, facilitator):
    coordinator = CoordinatorFactory()
    only = Membership.objects.get(group=approval_group, user=facilitator)
    refused(
        approval_group,
        lambda: services.membership_leave(group_id=approval_group.pk, user=facilitator),
        "only facilitator",
    )
    refused(
        approval_group,
        lambda: services.membership_remove(
            group_id=approval_group.pk, membership_id=only.pk, actor=coordinator
        ),
        "at least one facilitator",
    )
    refused(
        approval_group,
        lambda: services.membership_role_change(
            group_id=approval_group.pk, membership_id=only.pk, actor=coordinator, role=Role.MEMBER
        ),
        "at least one facilitator",
    )


def test_staff_cannot_remove_themselves_or_someone_already_gone(approval_group, facilitator):
    mine = Membership.objects.get(group=approval_group, user=facilitator)
    gone = MembershipFactory(group=approval_group, status=MembershipStatus.LEFT)
    for membership, message in [(mine, "can't remove yourself"), (gone, "not a current member")]:
        refused(
            approval_group,
            lambda membership=membership: services.membership_remove(
                group_id=approval_group.pk, membership_id=membership.pk, actor=facilitator
            ),
            message,
        )


def test_a_role_must_come_from_the_list_and_go_to_a_current_member(approval_group, facilitator):
    waiting = MembershipFactory(group=approval_group, status=MembershipStatus.WAITLISTED)
    for role, message in [("overlord", "Choose a role"), (Role.PEER_MODERATOR, "Only current")]:
        refused(
            approval_group,
            lambda role=role: services.membership_role_change(
                group_id=approval_group.pk, membership_id=waiting.pk, actor=facilitator, role=role
            ),
            message,
        )


def test_an_empty_code_of_conduct_is_refused(approval_group, facilitator):
    versions = list(approval_group.codes_of_conduct.values_list("version", flat=True))
    with pytest.raises(MembershipError, match="can't be empty"):
        services.code_of_conduct_publish(group=approval_group, text="   ", actor=facilitator)
    assert list(approval_group.codes_of_conduct.values_list("version", flat=True)) == versions


def test_withdrawing_an_invitation_twice_and_restoring_someone_never_removed(
    approval_group, facilitator
):
    invitation = services.invitation_create(
        group=approval_group, email="newcomer@example.net", actor=facilitator
    )
    services.invitation_revoke(
        group_id=approval_group.pk, invitation_id=invitation.pk, actor=facilitator
    )
    refused(
        approval_group,
        lambda: services.invitation_revoke(
            group_id=approval_group.pk, invitation_id=invitation.pk, actor=facilitator
        ),
        "already been used or withdrawn",
    )
    member = MembershipFactory(group=approval_group)
    refused(
        approval_group,
        lambda: services.membership_restore(
            group_id=approval_group.pk, membership_id=member.pk, actor=CoordinatorFactory()
        ),
        "has not been removed",
    )
