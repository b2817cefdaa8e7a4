"""Query budgets: a page costs the same number of queries with 10 rows as with 500.

Each test measures a page once with a small data set (after one warm-up request, so
that caches filled on first use do not count), grows the data set, and asserts the
same count. The measured numbers are printed and recorded as test properties.
"""

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import (
    Audience,
    CodeOfConduct,
    Format,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
    Topic,
)
from members.models import User
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

SMALL = 10
LARGE = 500


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def measure(client, url: str) -> int:
    client.get(url)  # warm-up: session and other caches filled on first use
    return count_queries(client, url)


def add_listed_groups(count: int, start: int) -> None:
    SupportGroup.objects.bulk_create(
        SupportGroup(
            name=f"Listed group {number:04d}",
            slug=f"listed-group-{number:04d}",
            summary="Meets every other week to share what helps.",
            topic=Topic.values[number % len(Topic.values)],
            audience=Audience.BOTH,
            format=Format.values[number % len(Format.values)],
            language="en",
            city="Torino",
            region="Piemonte",
            country="IT",
        )
        for number in range(start, start + count)
    )


def add_people(group: SupportGroup, count: int, start: int) -> None:
    """Members in every state the pages show: active, waitlisted, pending; some share email."""
    users = User.objects.bulk_create(
        User(
            email=f"roster{number:04d}@example.net",
            display_name=f"Roster person {number:04d}",
            password="!",
        )
        for number in range(start, start + count)
    )
    conduct = group.codes_of_conduct.get(version=1)
    now = timezone.now()
    statuses = [MembershipStatus.ACTIVE] * 7 + [MembershipStatus.WAITLISTED] * 2
    statuses += [MembershipStatus.PENDING]
    memberships = []
    for index, person in enumerate(users):
        status = statuses[index % len(statuses)]
        memberships.append(
            Membership(
                group=group,
                user=person,
                role=Role.PEER_MODERATOR if index % 25 == 0 else Role.MEMBER,
                status=status,
                request_message="Hello, may I join?" if status == MembershipStatus.PENDING else "",
                joined_at=now if status == MembershipStatus.ACTIVE else None,
                waitlisted_at=now if status == MembershipStatus.WAITLISTED else None,
                accepted_conduct=conduct,
                accepted_conduct_at=now,
                contact_shared=index % 2 == 0,
            )
        )
    Membership.objects.bulk_create(memberships)


def report(record_property, page: str, small: int, large: int) -> None:
    record_property(f"{page}_queries_{SMALL}", small)
    record_property(f"{page}_queries_{LARGE}", large)
    print(f"{page}: {small} queries with {SMALL} rows, {large} with {LARGE} rows")


def test_directory_costs_the_same_queries_for_10_and_500_groups(client, record_property):
    add_listed_groups(SMALL, start=0)
    url = reverse("groups:directory")
    small = measure(client, url)

    add_listed_groups(LARGE - SMALL, start=SMALL)
    assert SupportGroup.objects.count() == LARGE
    large = count_queries(client, url)

    report(record_property, "directory", small, large)
    assert small == large


def test_directory_signed_in_costs_the_same_for_10_and_500_groups(client, user, record_property):
    log_in(client, user)
    add_listed_groups(SMALL, start=0)
    url = reverse("groups:directory") + "?page=1&language=en"
    small = measure(client, url)

    add_listed_groups(LARGE - SMALL, start=SMALL)
    large = count_queries(client, url)

    report(record_property, "directory_signed_in", small, large)
    assert small == large


@pytest.fixture
def group_with_facilitator():
    group = SupportGroupFactory(name="Roster Test Group")
    facilitator = UserFactory(display_name="Facilitator Fenna")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    co_facilitator = UserFactory(display_name="Co-facilitator Cai")
    MembershipFactory(group=group, user=co_facilitator, role=Role.CO_FACILITATOR)
    Authenticator.objects.create(
        user=facilitator, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    return group, facilitator


def test_manage_roster_costs_the_same_queries_for_10_and_500_people(
    client, group_with_facilitator, record_property
):
    group, facilitator = group_with_facilitator
    log_in(client, facilitator)
    add_people(group, SMALL, start=0)
    url = reverse("groups:manage", args=[group.slug])
    small = measure(client, url)

    add_people(group, LARGE - SMALL, start=SMALL)
    response = client.get(url)
    assert "Roster person 0499" in response.text
    assert "roster0498@example.net" in response.text  # shared contact, on the roster
    large = count_queries(client, url)

    report(record_property, "manage_roster", small, large)
    assert small == large


def test_group_page_for_a_member_costs_the_same_for_10_and_500_members(
    client, group_with_facilitator, record_property
):
    group, _facilitator = group_with_facilitator
    member = MembershipFactory(group=group).user
    log_in(client, member)
    add_people(group, SMALL, start=0)
    url = reverse("groups:detail", args=[group.slug])
    small = measure(client, url)

    add_people(group, LARGE - SMALL, start=SMALL)
    response = client.get(url)
    assert "Roster person 0490" in response.text  # peers are listed to members
    large = count_queries(client, url)

    report(record_property, "group_detail_member", small, large)
    assert small == large


def test_group_page_for_a_waitlisted_person_costs_the_same_for_10_and_500_members(
    client, group_with_facilitator, record_property
):
    group, _facilitator = group_with_facilitator
    group.capacity = 1
    group.save(update_fields=["capacity"])
    waiting = MembershipFactory(
        group=group,
        status=MembershipStatus.WAITLISTED,
        joined_at=None,
        waitlisted_at=timezone.now(),
    ).user
    log_in(client, waiting)
    add_people(group, SMALL, start=0)
    url = reverse("groups:detail", args=[group.slug])
    small = measure(client, url)

    add_people(group, LARGE - SMALL, start=SMALL)
    large = count_queries(client, url)

    report(record_property, "group_detail_waitlisted", small, large)
    assert small == large


def test_every_code_of_conduct_version_is_not_loaded_for_the_group_page(
    client, group_with_facilitator
):
    """A long history of conduct versions must not grow the member's page either."""
    group, _facilitator = group_with_facilitator
    member = MembershipFactory(group=group).user
    log_in(client, member)
    url = reverse("groups:detail", args=[group.slug])
    small = measure(client, url)

    CodeOfConduct.objects.bulk_create(
        CodeOfConduct(group=group, version=version, text=f"Version {version}")
        for version in range(2, 50)
    )
    Membership.objects.filter(group=group, user=member).update(
        accepted_conduct=group.codes_of_conduct.get(version=49)
    )
    large = count_queries(client, url)

    assert small == large
