from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator

from groups.models import JoinPolicy, MembershipStatus, Role
from members.services import coordinator_grant
from tests.auth import log_in
from tests.celery_eager import eager_celery  # noqa: F401  (tasks inline, raising)
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

ROLES = [
    "visitor",
    "outsider",
    "pending",
    "member",
    "peer_moderator",
    "other_facilitator",
    "facilitator",
    "coordinator",
]

# Strings that only people allowed to see the roster may ever receive.
PRIVATE_MARKERS = ["Quillon-Member", "quillon.member@example.net", "Pending-Petra"]


def enable_mfa(user) -> None:
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})


@dataclass
class Cast:
    group: object
    other_group: object
    people: dict

    def login(self, client, role: str):
        person = self.people.get(role)
        if person is not None:
            log_in(client, person)
        return person


@pytest.fixture
def cast(db) -> Cast:
    """A group with one person in every role, plus a facilitator of another group."""
    group = SupportGroupFactory(name="Harbour Lights", join_policy=JoinPolicy.APPROVAL)
    other_group = SupportGroupFactory(name="Other Shore")
    facilitator = UserFactory(display_name="Facilitator Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    member = UserFactory(display_name="Quillon-Member", email="quillon.member@example.net")
    MembershipFactory(group=group, user=member, contact_shared=True)
    peer_moderator = UserFactory(display_name="Moderator Mo")
    MembershipFactory(group=group, user=peer_moderator, role=Role.PEER_MODERATOR)
    pending = UserFactory(display_name="Pending-Petra")
    MembershipFactory(group=group, user=pending, status=MembershipStatus.PENDING, joined_at=None)
    other_facilitator = UserFactory(display_name="Elsewhere Ed")
    MembershipFactory(group=other_group, user=other_facilitator, role=Role.FACILITATOR)
    coordinator = UserFactory(display_name="Coordinator Cora")
    coordinator_grant(user=coordinator)
    for staff in (facilitator, other_facilitator, coordinator):
        enable_mfa(staff)
    return Cast(
        group=group,
        other_group=other_group,
        people={
            "visitor": None,
            "outsider": UserFactory(display_name="Outsider Olga"),
            "pending": pending,
            "member": member,
            "peer_moderator": peer_moderator,
            "other_facilitator": other_facilitator,
            "facilitator": facilitator,
            "coordinator": coordinator,
        },
    )


def assert_no_private_data(body: str) -> None:
    for marker in PRIVATE_MARKERS:
        assert marker not in body, f"{marker!r} leaked"
