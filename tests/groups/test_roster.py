"""The roster on a group's manage page: "Active" members, a search by name, the waitlist
apart, and a confirmation page before a role changes or someone is removed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Membership, MembershipStatus, Role
from tests.factories import MembershipFactory, UserFactory
from tests.groups.conftest import ROLES, assert_no_private_data
from tests.query_budget import assert_flat

STAFF = {"facilitator", "coordinator"}


def manage_url(cast) -> str:
    return reverse("groups:manage", args=[cast.group.slug])


def action_url(cast, membership, action) -> str:
    return reverse("groups:member_action", args=[cast.group.slug, membership.pk, action])


def membership_of(cast, role) -> Membership:
    return Membership.objects.get(group=cast.group, user=cast.people[role])


def waitlist(cast, *names) -> list[Membership]:
    now = timezone.now()
    return [
        MembershipFactory(
            group=cast.group,
            user=UserFactory(display_name=name),
            status=MembershipStatus.WAITLISTED,
            joined_at=None,
            waitlisted_at=now.replace(microsecond=0) - timedelta(minutes=10 - index),
        )
        for index, name in enumerate(names)
    ]


def test_roster_says_active_and_keeps_the_waitlist_in_its_own_section(client, cast):
    waitlist(cast, "Waiting Wanda", "Waiting Walt")
    cast.login(client, "facilitator")

    response = client.get(manage_url(cast))

    body = response.text
    assert [m.user.display_name for m in response.context["roster"]] == [
        "Facilitator Fiona",
        "Moderator Mo",
        "Quillon-Member",
    ]
    assert [m.user.display_name for m in response.context["waitlist"]] == [
        "Waiting Wanda",
        "Waiting Walt",
    ]
    roster_table = body[body.index('<table class="roster">') : body.index("</table>")]
    assert roster_table.count('<td data-label="Status">Active</td>') == 3
    assert "Waiting Wanda" not in roster_table
    waitlist_section = body[body.index('id="waitlist-title"') :]
    assert "Waitlist (2)" in waitlist_section
    assert waitlist_section.index("Waiting Wanda") < waitlist_section.index("Waiting Walt")


def test_roster_search_narrows_members_and_waitlist_by_display_name(client, cast):
    waitlist(cast, "Waiting Wanda", "Quiet Quentin")
    cast.login(client, "coordinator")

    response = client.get(manage_url(cast), {"q": "qu"})

    assert [m.user.display_name for m in response.context["roster"]] == ["Quillon-Member"]
    assert [m.user.display_name for m in response.context["waitlist"]] == ["Quiet Quentin"]
    assert "2 people match “qu”." in response.text
    assert 'value="qu"' in response.text


def test_roster_search_with_no_match_says_so(client, cast):
    cast.login(client, "facilitator")
    response = client.get(manage_url(cast), {"q": "Nobody-By-That-Name"})
    assert response.context["roster"] == []
    assert "No member has that name." in response.text
    assert "0 people match" in response.text


def test_manage_page_links_to_scheduling_and_the_meetings(client, cast):
    cast.login(client, "facilitator")
    body = client.get(manage_url(cast)).text
    assert f'href="{reverse("meetings:schedule", args=[cast.group.slug])}"' in body
    assert "Schedule a meeting" in body


@pytest.mark.parametrize("role", ROLES)
def test_confirmation_pages_open_only_to_the_groups_staff(client, cast, role):
    member = membership_of(cast, "member")
    cast.login(client, role)

    remove = client.get(action_url(cast, member, "remove"))
    change = client.get(action_url(cast, member, "role"), {"role": Role.PEER_MODERATOR})

    for response in (remove, change):
        if role in STAFF:
            assert response.status_code == 200
        else:
            assert response.status_code == (302 if role == "visitor" else 403)
            assert_no_private_data(response.text)
    assert Membership.objects.get(pk=member.pk).status == MembershipStatus.ACTIVE


def test_removing_someone_asks_first_and_the_answer_removes_them(client, cast):
    member = membership_of(cast, "member")
    cast.login(client, "facilitator")

    page = client.get(action_url(cast, member, "remove"))

    assert page.status_code == 200
    assert "Remove Quillon-Member?" in page.text
    assert "Yes, remove Quillon-Member" in page.text
    assert f'action="{action_url(cast, member, "remove")}"' in page.text
    assert Membership.objects.get(pk=member.pk).status == MembershipStatus.ACTIVE

    done = client.post(action_url(cast, member, "remove"))

    assert done.status_code == 302
    assert Membership.objects.get(pk=member.pk).status == MembershipStatus.REMOVED


def test_changing_a_role_asks_first_and_names_the_new_role(client, cast):
    member = membership_of(cast, "member")
    cast.login(client, "coordinator")

    page = client.get(action_url(cast, member, "role"), {"role": Role.CO_FACILITATOR})

    assert "Change the role of Quillon-Member?" in page.text
    assert "Quillon-Member is now Member. They will become Co-facilitator." in page.text
    assert 'name="role" value="co-facilitator"' in page.text
    assert Membership.objects.get(pk=member.pk).role == Role.MEMBER

    client.post(action_url(cast, member, "role"), {"role": Role.CO_FACILITATOR})

    assert Membership.objects.get(pk=member.pk).role == Role.CO_FACILITATOR


def test_the_same_role_or_an_unknown_one_goes_back_to_the_roster_with_a_message(client, cast):
    member = membership_of(cast, "member")
    cast.login(client, "facilitator")

    same = client.get(action_url(cast, member, "role"), {"role": Role.MEMBER}, follow=True)
    unknown = client.get(action_url(cast, member, "role"), {"role": "queen"}, follow=True)

    assert "Quillon-Member is already Member." in same.text
    assert "Choose a role from the list." in unknown.text


def test_asking_about_someone_not_in_the_group_goes_back_with_a_message(client, cast):
    pending = membership_of(cast, "pending")
    cast.login(client, "facilitator")
    response = client.get(action_url(cast, pending, "remove"), follow=True)
    assert "That person is not a current member." in response.text
    assert response.redirect_chain[-1][0] == manage_url(cast)


def test_other_actions_still_take_only_a_post(client, cast):
    pending = membership_of(cast, "pending")
    cast.login(client, "facilitator")
    assert client.get(action_url(cast, pending, "approve")).status_code == 405
    assert Membership.objects.get(pk=pending.pk).status == MembershipStatus.PENDING


def test_roster_search_costs_the_same_for_5_and_200_people(client, cast):
    cast.login(client, "facilitator")

    def add(count, status):
        for index in range(count):
            MembershipFactory(
                group=cast.group,
                user=UserFactory(display_name=f"Searchable {status} {index}"),
                status=status,
                waitlisted_at=timezone.now() if status == MembershipStatus.WAITLISTED else None,
            )

    def grow(count):
        add(count, MembershipStatus.ACTIVE)
        add(count, MembershipStatus.WAITLISTED)

    assert_flat(
        small_setup=lambda: grow(5),
        large_setup=lambda: grow(195),
        request=lambda: client.get(manage_url(cast), {"q": "searchable"}),
        label="roster search",
    )


def test_someone_on_the_waitlist_can_be_removed_but_not_given_a_role(client, cast):
    (waiting,) = waitlist(cast, "Waiting Wanda")
    cast.login(client, "facilitator")

    role = client.get(action_url(cast, waiting, "role"), {"role": Role.MEMBER}, follow=True)
    remove = client.get(action_url(cast, waiting, "remove"))

    assert "Only current members can be given a role." in role.text
    assert "Waiting Wanda will leave the waitlist of Harbour Lights" in remove.text
