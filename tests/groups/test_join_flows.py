"""Joining a group by each policy, with the rules a person can run into."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups import services
from groups.errors import InvitationError, MembershipError
from groups.models import GroupStatus, Invitation, JoinPolicy, Membership, MembershipStatus, Role
from members.models import Notification, NotificationKind
from members.notifications import notification_send
from tests.auth import log_in
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory, UserFactory
from tests.foundation.helpers import link_path_in


def join_form(version=1, **extra):
    return {"accept_conduct": "on", "conduct_version": str(version), **extra}


@pytest.mark.django_db
def test_joining_an_open_group_records_the_accepted_code_of_conduct(client):
    group = SupportGroupFactory()
    person = UserFactory()
    log_in(client, person)
    response = client.post(reverse("groups:join", args=[group.slug]), join_form(), follow=True)
    membership = Membership.objects.get(group=group, user=person)
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.accepted_conduct.version == 1
    assert membership.accepted_conduct_at is not None
    assert "You are now a member" in response.text


@pytest.mark.django_db
def test_join_page_says_how_the_person_will_appear_to_others(client):
    group = SupportGroupFactory()
    log_in(client, UserFactory(display_name="Gentle Wren"))
    response = client.get(reverse("groups:join", args=[group.slug]))
    assert "visible to other members as <strong>Gentle Wren</strong>" in response.text


@pytest.mark.django_db
def test_joining_without_accepting_the_code_of_conduct_writes_nothing(client):
    group = SupportGroupFactory()
    log_in(client, UserFactory())
    response = client.post(reverse("groups:join", args=[group.slug]), {"conduct_version": "1"})
    assert response.status_code == 200
    assert "Tick the box to agree to the code of conduct" in response.text
    assert not Membership.objects.filter(group=group).exists()


@pytest.mark.django_db
def test_joining_with_an_outdated_code_of_conduct_is_refused():
    group = SupportGroupFactory()
    services.code_of_conduct_publish(group=group, text="A new rule.", actor=CoordinatorFactory())
    with pytest.raises(MembershipError, match="current code of conduct"):
        services.membership_join(
            group_id=group.pk, user=UserFactory(), accepted_conduct_version=1, contact_shared=False
        )


@pytest.mark.django_db
def test_joining_twice_says_so_and_keeps_one_row(client):
    group = SupportGroupFactory()
    person = UserFactory()
    log_in(client, person)
    client.post(reverse("groups:join", args=[group.slug]), join_form())
    response = client.post(reverse("groups:join", args=[group.slug]), join_form(), follow=True)
    assert "already a member" in response.text
    assert Membership.objects.filter(group=group, user=person).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "message"),
    [(GroupStatus.CLOSED, "has closed"), (GroupStatus.PAUSED, "is paused")],
)
def test_closed_and_paused_groups_take_nobody(client, status, message):
    group = SupportGroupFactory(status=status)
    log_in(client, UserFactory())
    response = client.post(reverse("groups:join", args=[group.slug]), join_form(), follow=True)
    assert message in response.text
    assert not Membership.objects.filter(group=group).exists()


@pytest.mark.django_db
def test_a_tampered_slug_is_not_found(client):
    log_in(client, UserFactory())
    assert (
        client.post(reverse("groups:join", args=["no-such-group"]), join_form()).status_code == 404
    )


@pytest.mark.django_db
def test_full_group_puts_newcomers_on_the_waitlist_in_order_and_promotes_the_first():
    group = SupportGroupFactory(capacity=2)
    members = [UserFactory() for _ in range(2)]
    waiting = [UserFactory() for _ in range(3)]
    for person in members + waiting:
        services.membership_join(
            group_id=group.pk, user=person, accepted_conduct_version=1, contact_shared=False
        )
    statuses = dict(Membership.objects.filter(group=group).values_list("user_id", "status"))
    assert [statuses[p.pk] for p in members] == ["active", "active"]
    assert [statuses[p.pk] for p in waiting] == ["waitlisted"] * 3

    services.membership_leave(group_id=group.pk, user=members[0])

    statuses = dict(Membership.objects.filter(group=group).values_list("user_id", "status"))
    assert [statuses[p.pk] for p in waiting] == ["active", "waitlisted", "waitlisted"]


@pytest.mark.django_db
def test_waitlisted_person_sees_their_place(client):
    group = SupportGroupFactory(capacity=1)
    MembershipFactory(group=group)
    first, second = UserFactory(), UserFactory()
    for person in (first, second):
        services.membership_join(
            group_id=group.pk, user=person, accepted_conduct_version=1, contact_shared=False
        )
    log_in(client, second)
    response = client.get(reverse("groups:detail", args=[group.slug]))
    assert "You are number 2 on the waitlist" in response.text


@pytest.mark.django_db
def test_facilitators_do_not_take_member_seats():
    group = SupportGroupFactory(capacity=1)
    MembershipFactory(group=group, role=Role.FACILITATOR)
    membership = services.membership_join(
        group_id=group.pk, user=UserFactory(), accepted_conduct_version=1, contact_shared=False
    )
    assert membership.status == MembershipStatus.ACTIVE


@pytest.mark.django_db
def test_approval_group_request_is_approved_by_a_facilitator(eager_celery, mailoutbox):
    group = SupportGroupFactory(join_policy=JoinPolicy.APPROVAL)
    facilitator = UserFactory(language="it")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    person = UserFactory()
    with eager_celery():
        membership = services.membership_request(
            group_id=group.pk,
            user=person,
            message="I was diagnosed last spring.",
            accepted_conduct_version=1,
            contact_shared=True,
        )
    assert membership.status == MembershipStatus.PENDING
    assert [m.to for m in mailoutbox] == [[facilitator.email]]
    assert "I was diagnosed" not in mailoutbox[0].body  # the message stays in the app

    with eager_celery():
        services.membership_approve(
            group_id=group.pk, membership_id=membership.pk, actor=facilitator
        )
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert mailoutbox[-1].to == [person.email]


@pytest.mark.django_db
def test_declined_request_shows_the_reason_to_the_person(client, eager_celery, mailoutbox):
    group = SupportGroupFactory(join_policy=JoinPolicy.APPROVAL)
    facilitator = UserFactory()
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    person = UserFactory()
    membership = services.membership_request(
        group_id=group.pk, user=person, message="", accepted_conduct_version=1, contact_shared=False
    )
    with eager_celery():
        services.membership_decline(
            group_id=group.pk,
            membership_id=membership.pk,
            actor=facilitator,
            reason="This group is for carers; try the patients' group.",
        )
    assert "try the patients' group" in mailoutbox[-1].body
    log_in(client, person)
    response = client.get(reverse("groups:detail", args=[group.slug]))
    assert "try the patients&#x27; group" in response.text
    with pytest.raises(MembershipError, match="already been answered"):
        services.membership_approve(
            group_id=group.pk, membership_id=membership.pk, actor=facilitator
        )


@pytest.mark.django_db
def test_an_over_long_request_message_is_refused_with_nothing_written(client):
    group = SupportGroupFactory(join_policy=JoinPolicy.APPROVAL)
    log_in(client, UserFactory())
    response = client.post(reverse("groups:join", args=[group.slug]), join_form(message="x" * 501))
    assert response.status_code == 200
    assert "at most 500 characters" in response.text
    assert not Membership.objects.filter(group=group).exists()


@pytest.mark.django_db
def test_open_join_is_refused_on_approval_and_invitation_groups():
    for policy in (JoinPolicy.APPROVAL, JoinPolicy.INVITATION):
        group = SupportGroupFactory(join_policy=policy)
        with pytest.raises(
            MembershipError, match="This group asks you to request a place or be invited"
        ):
            services.membership_join(
                group_id=group.pk,
                user=UserFactory(),
                accepted_conduct_version=1,
                contact_shared=False,
            )


@pytest.fixture
def invitation_setup(db, eager_celery, mailoutbox):
    group = SupportGroupFactory(join_policy=JoinPolicy.INVITATION)
    facilitator = UserFactory()
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    invitee = UserFactory(email="invitee@example.net")
    with eager_celery():
        invitation = services.invitation_create(
            group=group, email="Invitee@Example.net", actor=facilitator
        )
    prefix = reverse("groups:invitation", args=["TOKEN"]).removesuffix("TOKEN/")
    token = link_path_in(mailoutbox[-1], prefix).removeprefix(prefix).strip("/")
    return group, invitee, invitation, token


def test_invitations_go_through_the_outbox_with_only_ids_in_the_broker(
    invitation_setup, mailoutbox
):
    _group, _invitee, invitation, token = invitation_setup
    row = Notification.objects.get(kind=NotificationKind.GROUP_INVITATION)
    assert (row.recipient_id, row.to_email, row.state) == (None, "invitee@example.net", "sent")
    assert row.subject_key == f"invitation:{invitation.pk}"
    assert token not in str(Notification.objects.values().get(pk=row.pk))
    assert "List-Unsubscribe" not in mailoutbox[-1].extra_headers  # no account to unsubscribe


def test_an_invitation_revoked_before_its_email_goes_is_never_sent(db, mailoutbox):
    group = SupportGroupFactory(join_policy=JoinPolicy.INVITATION)
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR).user
    invitation = services.invitation_create(
        group=group, email="late@example.net", actor=facilitator
    )
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    row = Notification.objects.get(kind=NotificationKind.GROUP_INVITATION)

    assert notification_send(notification_id=row.pk) == "skipped"
    assert mailoutbox == []


def test_invitation_email_carries_a_working_single_use_link(client, invitation_setup, mailoutbox):
    group, invitee, invitation, token = invitation_setup
    assert mailoutbox[-1].to == ["invitee@example.net"]
    link = reverse("groups:invitation", args=[token])
    assert link in mailoutbox[-1].body
    invitation.refresh_from_db()
    assert invitation.email == "invitee@example.net"
    assert token not in invitation.token_hash  # only a hash of the link's secret is stored

    log_in(client, invitee)
    response = client.post(link, join_form())
    assert response.status_code == 302
    assert Membership.objects.get(group=group, user=invitee).status == MembershipStatus.ACTIVE

    reused = client.post(link, join_form())
    assert reused.status_code == 404
    assert "already been used" in reused.text
    # A used link shows nothing of the group: it may have been passed on.
    assert group.name not in client.get(link).text and group.summary not in reused.text


def test_expired_invitation_is_refused(invitation_setup):
    group, invitee, invitation, token = invitation_setup
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(InvitationError, match="expired"):
        services.invitation_accept(
            token=token, user=invitee, accepted_conduct_version=1, contact_shared=False
        )
    assert not Membership.objects.filter(group=group, user=invitee).exists()


def test_invitation_for_another_email_is_refused(invitation_setup):
    group, _invitee, _invitation, token = invitation_setup
    stranger = UserFactory()
    with pytest.raises(InvitationError, match="another email"):
        services.invitation_accept(
            token=token, user=stranger, accepted_conduct_version=1, contact_shared=False
        )
    assert not Membership.objects.filter(group=group, user=stranger).exists()


def test_tampered_invitation_token_is_not_found(client, invitation_setup):
    _group, invitee, _invitation, token = invitation_setup
    log_in(client, invitee)
    response = client.get(reverse("groups:invitation", args=[token[:-2] + "xx"]))
    assert response.status_code == 404
    assert "not valid" in response.text


@pytest.mark.django_db
def test_members_reaccept_the_code_of_conduct_after_it_changes(client):
    group = SupportGroupFactory()
    member = MembershipFactory(group=group).user
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR).user
    services.code_of_conduct_publish(group=group, text="New: phones on silent.", actor=facilitator)

    log_in(client, member)
    response = client.get(reverse("groups:detail", args=[group.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("groups:conduct", args=[group.slug])
    page = client.get(response["Location"])
    assert "phones on silent" in page.text

    client.post(
        reverse("groups:conduct", args=[group.slug]),
        {"accept_conduct": "on", "conduct_version": "2"},
    )
    membership = Membership.objects.get(group=group, user=member)
    assert membership.accepted_conduct.version == 2
    assert client.get(reverse("groups:detail", args=[group.slug])).status_code == 200


@pytest.mark.django_db
def test_publishing_the_same_text_does_not_make_a_new_version():
    group = SupportGroupFactory(conduct="Be kind.")
    actor = CoordinatorFactory()
    assert services.code_of_conduct_publish(group=group, text="Be kind.", actor=actor).version == 1
    assert (
        services.code_of_conduct_publish(group=group, text="Be kinder.", actor=actor).version == 2
    )


@pytest.mark.django_db
def test_the_only_facilitator_cannot_leave_or_be_demoted():
    group = SupportGroupFactory()
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR)
    with pytest.raises(MembershipError, match="only facilitator"):
        services.membership_leave(group_id=group.pk, user=facilitator.user)
    with pytest.raises(MembershipError, match="at least one facilitator"):
        services.membership_role_change(
            group_id=group.pk,
            membership_id=facilitator.pk,
            actor=CoordinatorFactory(),
            role="member",
        )


@pytest.mark.django_db
def test_removed_member_cannot_rejoin_but_someone_who_left_can():
    group = SupportGroupFactory()
    facilitator = MembershipFactory(group=group, role=Role.FACILITATOR).user
    removed = MembershipFactory(group=group)
    services.membership_remove(group_id=group.pk, membership_id=removed.pk, actor=facilitator)
    with pytest.raises(MembershipError, match="can't rejoin"):
        services.membership_join(
            group_id=group.pk, user=removed.user, accepted_conduct_version=1, contact_shared=False
        )
    leaver = MembershipFactory(group=group).user
    services.membership_leave(group_id=group.pk, user=leaver)
    again = services.membership_join(
        group_id=group.pk, user=leaver, accepted_conduct_version=1, contact_shared=False
    )
    assert again.status == MembershipStatus.ACTIVE


@pytest.mark.django_db
def test_raising_capacity_promotes_from_the_waitlist():
    group = SupportGroupFactory(capacity=1)
    MembershipFactory(group=group)
    waiting = UserFactory()
    services.membership_join(
        group_id=group.pk, user=waiting, accepted_conduct_version=1, contact_shared=False
    )
    services.support_group_update(group=group, data={"capacity": 2}, actor=CoordinatorFactory())
    assert Membership.objects.get(group=group, user=waiting).status == MembershipStatus.ACTIVE
