"""Every staff write to a group, role by role: who may POST, and nothing written otherwise.

The GET matrices (test_role_matrix.py) prove who may open each page; these prove the same
for each form behind it, and that a refused POST leaves every table as it was. The last
part calls the services directly, as a view that forgot its gate would.
"""

import pytest
from django.urls import reverse

from groups import services
from groups.errors import MembershipError
from groups.forms import SupportGroupForm
from groups.models import (
    CodeOfConduct,
    Invitation,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
)
from members import notifications
from members.models import AuditEvent, Notification, NotificationState
from members.permissions import NotAllowed
from tests import forms
from tests.factories import MembershipFactory
from tests.write_matrix import (
    ALLOWED,
    COORDINATORS,
    FORBIDDEN,
    GROUP_STAFF,
    LOGIN,
    PASSWORD_ONLY,
    TURNED_AWAY,
    WRITE_ROLES,
    assert_refused,
    assert_service_refuses,
    assert_unchanged,
    build_crew,
    changed_rows,
    changes,
    service_cases,
    snapshot,
    table,
)

INVITEE = "new.person@example.net"


@pytest.fixture
def crew(cast):
    return build_crew(cast)


def membership(crew, role: str) -> Membership:
    return Membership.objects.get(group=crew.group, user=crew.people[role])


def group_form_data(group, **changed) -> dict:
    """The group's details as its edit form posts them, with `changed` applied."""
    data = {}
    for field in SupportGroupForm.Meta.fields:
        value = getattr(group, field)
        data[field] = "" if value is None else value
    return {**data, **changed}


# ---------------------------------------------------------------- group details


@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_editing_group_details_is_for_its_staff_and_writes_nothing_for_others(
    client, crew, role, outcome
):
    crew.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("groups:edit", args=[crew.group.slug]),
        group_form_data(crew.group, name="Harbour Lights Renamed", city="Genova"),
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        crew.group.refresh_from_db()
        assert (crew.group.name, crew.group.city) == ("Harbour Lights Renamed", "Genova")
    else:
        assert_refused(response, outcome, before)


@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_publishing_a_code_of_conduct_is_for_its_staff_and_writes_nothing_for_others(
    client, crew, role, outcome
):
    crew.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("groups:conduct_edit", args=[crew.group.slug]), {"text": "Listen first."}
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        current = CodeOfConduct.objects.filter(group=crew.group).order_by("-version").first()
        assert (current.version, current.text) == (2, "Listen first.")
    else:
        assert_refused(response, outcome, before)


@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_inviting_someone_is_for_its_staff_and_writes_nothing_for_others(
    client, crew, role, outcome
):
    crew.sign_in(client, role)
    before = snapshot()
    response = client.post(reverse("groups:invite", args=[crew.group.slug]), {"email": INVITEE})
    if outcome == ALLOWED:
        assert response.status_code == 302
        invitation = Invitation.objects.get(group=crew.group, email=INVITEE)
        assert invitation.invited_by == crew.person(role)
    else:
        assert_refused(response, outcome, before)


# ---------------------------------------------------------------- roster actions

# action: (whose membership, form data, the status and role it has afterwards)
MEMBER_ACTIONS = {
    "approve": ("pending", {}, (MembershipStatus.ACTIVE, Role.MEMBER)),
    "decline": ("pending", {"reason": "Full"}, (MembershipStatus.DECLINED, Role.MEMBER)),
    "remove": ("member", {}, (MembershipStatus.REMOVED, Role.MEMBER)),
    "role": ("member", {"role": "peer-moderator"}, (MembershipStatus.ACTIVE, Role.PEER_MODERATOR)),
}


@pytest.mark.parametrize("action", MEMBER_ACTIONS)
@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_roster_actions_are_for_its_staff_and_write_nothing_for_others(
    client, crew, role, outcome, action
):
    target_role, data, after = MEMBER_ACTIONS[action]
    target = membership(crew, target_role)
    crew.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("groups:member_action", args=[crew.group.slug, target.pk, action]), data
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        assert response["Location"] == reverse("groups:manage", args=[crew.group.slug])
        target.refresh_from_db()
        assert (target.status, target.role) == after
    else:
        assert_refused(response, outcome, before)


# ---------------------------------------------------------------- leaving

# Leaving ends the signed-in person's own membership and no one else's; there is no
# staff gate (nor second factor) because it is not a staff write.
LEAVE = {
    "visitor": LOGIN,
    "outsider": TURNED_AWAY,
    "pending": ALLOWED,  # withdraws the request
    "member": ALLOWED,
    "peer_moderator": ALLOWED,
    "other_facilitator": TURNED_AWAY,  # not in this group
    "deactivated_co_facilitator": LOGIN,
    "facilitator" + PASSWORD_ONLY: TURNED_AWAY,  # the only facilitator must hand over first
    "coordinator" + PASSWORD_ONLY: TURNED_AWAY,
    "facilitator": TURNED_AWAY,
    "co_facilitator": ALLOWED,
    "coordinator": TURNED_AWAY,  # coordinators manage the group but are not in it
}
assert set(LEAVE) == set(WRITE_ROLES)


@pytest.mark.parametrize(("role", "outcome"), table(LEAVE))
def test_leaving_ends_only_the_leavers_own_membership(client, crew, role, outcome):
    person = crew.sign_in(client, role)
    before = snapshot()
    response = client.post(reverse("groups:leave", args=[crew.group.slug]))
    if outcome == ALLOWED:
        assert response.status_code == 302
        own = Membership.objects.get(group=crew.group, user=person)
        assert own.status == MembershipStatus.LEFT
        assert set(changes(before, snapshot())) == {"groups.Membership"}
        assert changed_rows(before, "groups.Membership") == {own.pk}
    else:
        assert_refused(response, outcome, before)
        if outcome == TURNED_AWAY:
            assert response["Location"] == crew.group.get_absolute_url()


# ---------------------------------------------------------------- new groups


def create_form_data(facilitator_email: str) -> dict:
    return forms.new_group(facilitator_email, country="IT")


@pytest.mark.parametrize(("role", "outcome"), table(COORDINATORS))
def test_creating_a_group_is_for_coordinators_and_writes_nothing_for_others(
    client, crew, role, outcome
):
    crew.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("groups:create"), create_form_data(crew.people["outsider"].email)
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        created = SupportGroup.objects.get(slug="parkinsons-torino")
        assert created.memberships.get().user == crew.people["outsider"]
    else:
        assert_refused(response, outcome, before)


# ---------------------------------------------------------------- the email outbox


@pytest.mark.parametrize(("role", "outcome"), table(COORDINATORS))
def test_retrying_a_failed_email_is_for_coordinators_and_writes_nothing_for_others(
    client, crew, role, outcome
):
    failed = Notification.objects.create(
        recipient=crew.people["member"],
        kind="meeting-reminder",
        subject_key="meeting:1",
        slot="x",
        attempts=6,
        state=NotificationState.FAILED,
        last_error="SMTPServerDisconnected: gone",
    )
    crew.sign_in(client, role)
    before = snapshot()
    response = client.post(reverse("members:outbox"), {"retry": failed.pk})
    if outcome == ALLOWED:
        assert response.status_code == 302
        failed.refresh_from_db()
        assert (failed.state, failed.attempts) == (NotificationState.PENDING, 0)
    else:
        assert_refused(response, outcome, before, markers=["SMTPServerDisconnected"])


def test_retry_service_refuses_people_who_do_not_coordinate(crew):
    failed = Notification.objects.create(
        recipient=crew.people["member"],
        kind="meeting-reminder",
        subject_key="meeting:1",
        slot="x",
        attempts=6,
        state=NotificationState.FAILED,
    )
    before = snapshot()
    with pytest.raises(NotAllowed, match=r"^programme\.coordinate$"):
        notifications.notification_retry(notification_id=failed.pk, actor=crew.people["member"])
    assert_unchanged(before)


# ---------------------------------------------------------------- services, gate or not

# name: (action, call(crew, actor), coordinators only)
GROUP_SERVICES = {
    "support_group_update": (
        "group.manage",
        lambda crew, actor: services.support_group_update(
            group=crew.group, data={"name": "Taken over"}, actor=actor
        ),
        False,
    ),
    "code_of_conduct_publish": (
        "group.manage",
        lambda crew, actor: services.code_of_conduct_publish(
            group=crew.group, text="New rules.", actor=actor
        ),
        False,
    ),
    "invitation_create": (
        "group.manage",
        lambda crew, actor: services.invitation_create(
            group=crew.group, email=INVITEE, actor=actor
        ),
        False,
    ),
    "membership_approve": (
        "group.manage",
        lambda crew, actor: services.membership_approve(
            group_id=crew.group.pk, membership_id=membership(crew, "pending").pk, actor=actor
        ),
        False,
    ),
    "membership_decline": (
        "group.manage",
        lambda crew, actor: services.membership_decline(
            group_id=crew.group.pk, membership_id=membership(crew, "pending").pk, actor=actor
        ),
        False,
    ),
    "membership_remove": (
        "group.manage",
        lambda crew, actor: services.membership_remove(
            group_id=crew.group.pk, membership_id=membership(crew, "member").pk, actor=actor
        ),
        False,
    ),
    "membership_role_change": (
        "group.manage",
        lambda crew, actor: services.membership_role_change(
            group_id=crew.group.pk,
            membership_id=membership(crew, "member").pk,
            actor=actor,
            role=Role.FACILITATOR,
        ),
        False,
    ),
    "support_group_create": (
        "group.create",
        lambda crew, actor: services.support_group_create(
            data={
                key: value
                for key, value in create_form_data("").items()
                if key in {"slug", *SupportGroupForm.Meta.fields} and value != ""
            },
            facilitator=crew.people["outsider"],
            actor=actor,
            conduct_text="Be kind.",
        ),
        True,
    ),
    "facilitator_assign": (
        "group.assign_facilitator",
        lambda crew, actor: services.facilitator_assign(
            group_id=crew.group.pk, user=crew.people["member"], actor=actor
        ),
        True,
    ),
}

SERVICE_CASES = service_cases(GROUP_SERVICES)


@pytest.mark.parametrize(("service", "actor"), SERVICE_CASES)
def test_group_services_refuse_actors_without_the_role_and_write_nothing(crew, service, actor):
    assert_service_refuses(crew, GROUP_SERVICES, service, actor)


@pytest.mark.parametrize(
    ("service", "role"),
    [
        ("support_group_update", "co_facilitator"),
        ("membership_role_change", "facilitator"),
        ("support_group_create", "coordinator"),
        ("facilitator_assign", "coordinator"),
    ],
)
def test_group_services_write_for_actors_with_the_role(crew, service, role):
    """The control for the refusals above: the same calls succeed for the right people."""
    _action, call, _coordinators_only = GROUP_SERVICES[service]
    before = snapshot()
    call(crew, crew.people[role])
    assert changes(before, snapshot())


def test_view_gate_and_service_gate_agree_on_a_refusal(client, crew):
    """A member posting to the staff form meets the same refusal the service gives."""
    crew.sign_in(client, "member")
    before = snapshot()
    response = client.post(
        reverse("groups:conduct_edit", args=[crew.group.slug]), {"text": "Mine now."}
    )
    assert_refused(response, FORBIDDEN, before)
    with pytest.raises(NotAllowed, match=r"^group\.manage$"):
        services.code_of_conduct_publish(
            group=crew.group, text="Mine now.", actor=crew.people["member"]
        )
    assert_unchanged(before)


# ---------------------------------------------------------------- staff roles

# (who acts, whose membership, new role or "remove", allowed)
STAFF_CHANGES = [
    pytest.param(
        "co_facilitator", "co_facilitator", Role.FACILITATOR, False, id="co-self-promotes"
    ),
    pytest.param("co_facilitator", "facilitator", Role.MEMBER, False, id="co-demotes-lead"),
    pytest.param("co_facilitator", "member", Role.CO_FACILITATOR, False, id="co-makes-staff"),
    pytest.param("co_facilitator", "facilitator", "remove", False, id="co-removes-lead"),
    pytest.param("facilitator", "facilitator", Role.MEMBER, False, id="lead-self-demotes"),
    pytest.param("co_facilitator", "member", Role.PEER_MODERATOR, True, id="co-makes-moderator"),
    pytest.param("co_facilitator", "member", "remove", True, id="co-removes-member"),
    pytest.param("facilitator", "member", Role.FACILITATOR, True, id="lead-promotes-member"),
    pytest.param("facilitator", "co_facilitator", "remove", True, id="lead-removes-co"),
    pytest.param("coordinator", "facilitator", Role.CO_FACILITATOR, True, id="coordinator-demotes"),
]


@pytest.mark.parametrize(("role", "target_role", "change", "allowed"), STAFF_CHANGES)
def test_staff_roles_are_given_and_taken_only_by_facilitators_and_coordinators(
    client, crew, role, target_role, change, allowed
):
    """Nobody changes their own role; a co-facilitator manages members and peer
    moderators only; every change that happens is in the audit log, with who did it."""
    MembershipFactory(group=crew.group, role=Role.FACILITATOR)  # so a lead can be demoted
    target = membership(crew, target_role)
    crew.sign_in(client, role)
    action = "remove" if change == "remove" else "role"
    before = snapshot()
    audited = AuditEvent.objects.filter(action__startswith="group.member").count()

    response = client.post(
        reverse("groups:member_action", args=[crew.group.slug, target.pk, action]),
        {} if change == "remove" else {"role": change},
    )

    target.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        if change == "remove":
            assert target.status == MembershipStatus.REMOVED
        else:
            assert target.role == change
        event = AuditEvent.objects.filter(action__startswith="group.member").latest("id")
        assert (event.actor, event.subject_id) == (crew.person(role), target.user_id)
        assert AuditEvent.objects.filter(action__startswith="group.member").count() == audited + 1
    else:
        assert response.status_code in (302, 403)
        assert_unchanged(before)


@pytest.mark.parametrize(
    ("role", "target_role", "change", "allowed"),
    [case for case in STAFF_CHANGES if not case.values[3] and case.values[0] != case.values[1]],
)
def test_the_services_refuse_staff_changes_by_co_facilitators(
    crew, role, target_role, change, allowed
):
    MembershipFactory(group=crew.group, role=Role.FACILITATOR)
    target = membership(crew, target_role)
    before = snapshot()
    with pytest.raises(NotAllowed, match=r"^group\.manage_staff$"):
        if change == "remove":
            services.membership_remove(
                group_id=crew.group.pk, membership_id=target.pk, actor=crew.people[role]
            )
        else:
            services.membership_role_change(
                group_id=crew.group.pk,
                membership_id=target.pk,
                actor=crew.people[role],
                role=change,
            )
    assert_unchanged(before)


def test_nobody_changes_their_own_role_even_a_coordinator_in_the_group(crew):
    coordinator_membership = MembershipFactory(
        group=crew.group, user=crew.people["coordinator"], role=Role.CO_FACILITATOR
    )
    with pytest.raises(MembershipError, match="your own role"):
        services.membership_role_change(
            group_id=crew.group.pk,
            membership_id=coordinator_membership.pk,
            actor=crew.people["coordinator"],
            role=Role.FACILITATOR,
        )


# ---------------------------------------------------------------- the snapshot itself

SILENT_WRITES = {
    # Writes that leave no updated_at behind, which the snapshot must still see.
    "membership-flag": lambda crew: Membership.objects.filter(group=crew.group).update(
        contact_shared=False
    ),
    "coordinator-link": lambda crew: crew.people["coordinator"].groups.clear(),
    "authenticator": lambda crew: crew.people["facilitator"].authenticator_set.all().delete(),
    "outbox-row": lambda crew: Notification.objects.create(
        recipient=crew.people["member"], kind="meeting-reminder", subject_key="m", slot="s"
    ),
}


@pytest.mark.parametrize("write", SILENT_WRITES)
def test_snapshot_notices_any_write_to_any_table(crew, write):
    before = snapshot()
    SILENT_WRITES[write](crew)
    with pytest.raises(AssertionError, match="a refused write changed the database"):
        assert_unchanged(before)
