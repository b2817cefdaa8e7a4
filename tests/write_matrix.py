"""Role matrices for writes: who may POST, and proof that a refused POST changed nothing.

A refused write is proved harmless by comparing a snapshot of every row of every table
the project owns (and the auth, account and MFA tables it relies on) before and after the
request: any write at all, to any row, shows up as a difference. Sessions are left out:
signing in and flashing a message legitimately write to them.

Roles are those of `tests/groups/conftest.py`'s cast, plus the people `build_crew` adds:
a co-facilitator, a co-facilitator whose account has been deactivated, and the two staff
roles signed in with the password only (they have an authenticator but this session has
not used it).
"""

import re
from dataclasses import dataclass
from operator import itemgetter

import pytest
from django.apps import apps
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone

from groups.models import MembershipStatus, Role
from members.permissions import NotAllowed
from tests.auth import log_in
from tests.factories import CoordinatorFactory, MembershipFactory, UserFactory
from tests.groups.conftest import PRIVATE_MARKERS, ROLES, enable_mfa

# The apps whose tables a write could touch (auth holds the coordinators' group links).
SNAPSHOT_APPS = ("members", "groups", "meetings", "outcomes", "auth", "account", "mfa")

PASSWORD_ONLY = "_password_only"
WRITE_ROLES = [
    *ROLES,
    "co_facilitator",
    "deactivated_co_facilitator",
    "facilitator" + PASSWORD_ONLY,
    "coordinator" + PASSWORD_ONLY,
]

# What a POST does for a role.
ALLOWED = "allowed"  # the write happens
FORBIDDEN = "403"  # signed in without the role: 403, nothing in the body
LOGIN = "login"  # not signed in (or the account is deactivated): sent to sign in
SECOND_FACTOR = "second-factor"  # staff whose session has not used the authenticator yet
NOT_FOUND = "404"  # the thing is not there for this person
TURNED_AWAY = "turned-away"  # sent back with an explanation; nothing written

# Group staff (facilitators, co-facilitators) and coordinators, second factor passed.
GROUP_STAFF = {
    "visitor": LOGIN,
    "outsider": FORBIDDEN,
    "pending": FORBIDDEN,
    "member": FORBIDDEN,
    "peer_moderator": FORBIDDEN,
    "other_facilitator": FORBIDDEN,
    "deactivated_co_facilitator": LOGIN,  # a switched-off account's session is signed out
    "facilitator" + PASSWORD_ONLY: SECOND_FACTOR,
    "coordinator" + PASSWORD_ONLY: SECOND_FACTOR,
    "facilitator": ALLOWED,
    "co_facilitator": ALLOWED,
    "coordinator": ALLOWED,
}
assert set(GROUP_STAFF) == set(WRITE_ROLES)

# Programme-wide tools behind `coordinator_required`: the role is checked before the
# second factor, so group staff get a 403 even on a password-only session.
COORDINATORS = {
    **{role: FORBIDDEN for role in WRITE_ROLES},
    "visitor": LOGIN,
    "deactivated_co_facilitator": LOGIN,
    "coordinator" + PASSWORD_ONLY: SECOND_FACTOR,
    "coordinator": ALLOWED,
}


def table(matrix: dict[str, str]) -> list[tuple[str, str]]:
    """The matrix as (role, outcome) rows for pytest.mark.parametrize."""
    return list(matrix.items())


# ---------------------------------------------------------------- people


@dataclass
class Crew:
    """The cast of every role, with its group, the other group and who is who."""

    group: object
    other_group: object
    people: dict

    def person(self, role: str):
        return self.people[role.removesuffix(PASSWORD_ONLY)]

    def sign_in(self, client, role: str):
        """Sign in as `role`; password-only roles skip the second factor."""
        person = self.person(role)
        if person is None:
            return None
        if role.endswith(PASSWORD_ONLY):
            client.force_login(person)  # the password alone: no second-factor step
        else:
            log_in(client, person)
        return person


def build_crew(cast) -> Crew:
    """The groups' cast plus a co-facilitator and a deactivated co-facilitator."""
    co_facilitator = UserFactory(display_name="Co-facilitator Cai")
    MembershipFactory(group=cast.group, user=co_facilitator, role=Role.CO_FACILITATOR)
    deactivated = UserFactory(display_name="Deactivated Dana")
    MembershipFactory(group=cast.group, user=deactivated, role=Role.CO_FACILITATOR)
    for person in (co_facilitator, deactivated):
        enable_mfa(person)
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])
    people = {
        **cast.people,
        "co_facilitator": co_facilitator,
        "deactivated_co_facilitator": deactivated,
    }
    return Crew(group=cast.group, other_group=cast.other_group, people=people)


# ---------------------------------------------------------------- snapshots


def snapshot_models() -> list[type[Model]]:
    """Every concrete model (link tables included) of the apps a write could touch."""
    return [
        model
        for label in SNAPSHOT_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if not model._meta.proxy
    ]


def snapshot(models: list[type[Model]] | None = None) -> dict[str, list[tuple]]:
    """Per model, every row as a tuple of all its column values, sorted by primary key."""
    snap = {}
    for model in models if models is not None else snapshot_models():
        columns = [field.attname for field in model._meta.concrete_fields]
        # The primary key's columns (several for a composite key) come first.
        key = [field.attname for field in model._meta.pk_fields]
        columns = key + [column for column in columns if column not in key]
        snap[model._meta.label] = sorted(
            model._default_manager.order_by().values_list(*columns),
            key=itemgetter(slice(0, len(key))),
        )
    return snap


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, dict]:
    """What differs, per model: the rows as they were, and as they are now."""
    found = {}
    for label in before.keys() | after.keys():
        old, new = set(map(repr, before.get(label, []))), set(map(repr, after.get(label, [])))
        if old != new:
            found[label] = {
                "gone or changed": sorted(old - new),
                "new or changed": sorted(new - old),
            }
    return found


def changed_rows(before: dict[str, list[tuple]], label: str) -> set:
    """Primary keys of the rows of `label` added, removed or changed since `before`."""
    old = {row[0]: row for row in before[label]}
    new = {row[0]: row for row in snapshot()[label]}
    return {pk for pk in old.keys() | new.keys() if old.get(pk) != new.get(pk)}


def assert_unchanged(before: dict[str, list[tuple]]) -> None:
    difference = changes(before, snapshot())
    assert not difference, f"a refused write changed the database: {difference}"


# ---------------------------------------------------------------- refusals


def assert_no_markers(body: str, markers: list[str]) -> None:
    for marker in markers:
        assert marker not in body, f"{marker!r} leaked"


def assert_refused(response, outcome: str, before, *, markers: list[str] = PRIVATE_MARKERS):
    """The answer a refused role gets, with no private data in it and nothing written."""
    assert outcome != ALLOWED
    location = response.get("Location", "")
    if outcome == LOGIN:
        assert response.status_code == 302
        assert location.startswith(reverse("account_login")), location
    elif outcome == SECOND_FACTOR:
        assert response.status_code == 302
        assert location.startswith(reverse("mfa_reauthenticate")), location
    elif outcome == FORBIDDEN:
        assert response.status_code == 403
    elif outcome == NOT_FOUND:
        assert response.status_code == 404
    elif outcome == TURNED_AWAY:
        assert response.status_code == 302
        assert not location.startswith(reverse("account_login")), location
    else:
        raise AssertionError(f"unknown outcome {outcome!r}")
    assert_no_markers(response.content.decode(), markers)
    assert_unchanged(before)


# ---------------------------------------------------------------- services


def people_without_the_role(crew: Crew, *, coordinators_only: bool = False) -> dict:
    """Actors a service must refuse, by name; for coordinator-only actions, staff too.

    The former facilitator left the group (their membership still says facilitator);
    the deactivated facilitator's membership is current but their account is switched off,
    as is the deactivated coordinator's.
    """
    former = UserFactory(display_name="Former Fran")
    MembershipFactory(
        group=crew.group,
        user=former,
        role=Role.FACILITATOR,
        status=MembershipStatus.LEFT,
        ended_at=timezone.now(),
    )
    deactivated = UserFactory(display_name="Deactivated Dev", is_active=False)
    MembershipFactory(group=crew.group, user=deactivated, role=Role.FACILITATOR)
    actors = {
        role: crew.people[role]
        for role in ("outsider", "pending", "member", "peer_moderator", "other_facilitator")
    }
    actors |= {"former_facilitator": former, "deactivated_facilitator": deactivated}
    if coordinators_only:
        coordinator = CoordinatorFactory(display_name="Retired Rita", is_active=False)
        actors |= {
            "facilitator": crew.people["facilitator"],
            "co_facilitator": crew.people["co_facilitator"],
            "deactivated_coordinator": coordinator,
        }
    return actors


# Who a gated service must refuse, by name (see people_without_the_role).
SERVICE_ACTORS = [
    "outsider",
    "pending",
    "member",
    "peer_moderator",
    "other_facilitator",
    "former_facilitator",
    "deactivated_facilitator",
]
COORDINATOR_SERVICE_ACTORS = [
    *SERVICE_ACTORS,
    "facilitator",
    "co_facilitator",
    "deactivated_coordinator",
]


def service_cases(gated: dict) -> list:
    """One case per service and refused actor; `gated` maps a service's name to
    (its action, call(crew, actor), whether only coordinators may)."""
    return [
        pytest.param(name, actor, id=f"{name}-{actor}")
        for name, (_action, _call, coordinators_only) in gated.items()
        for actor in (COORDINATOR_SERVICE_ACTORS if coordinators_only else SERVICE_ACTORS)
    ]


def assert_service_refuses(crew, gated: dict, service: str, actor: str) -> None:
    """The service raises NotAllowed for its action and writes nothing."""
    action, call, coordinators_only = gated[service]
    actors = people_without_the_role(crew, coordinators_only=coordinators_only)
    before = snapshot()
    with pytest.raises(NotAllowed, match=f"^{re.escape(action)}$") as refused:
        call(crew, actors[actor])
    assert refused.value.action == action
    assert_unchanged(before)
