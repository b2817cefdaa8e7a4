"""Who counts as a coordinator: the one role check every page makes for its navigation."""

import pytest
from django.contrib.auth.models import Group, Permission

from members.models import User
from members.services import coordinator_grant, coordinator_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The same person as a new request would load them (is_coordinator is cached)."""
    return User.objects.get(pk=user.pk)


def coordinator_permission() -> Permission:
    return Permission.objects.get(
        codename="coordinate_programme", content_type__app_label="members"
    )


def test_a_person_with_no_permission_is_not_a_coordinator():
    assert not fresh(UserFactory()).is_coordinator


def test_the_coordinators_group_makes_a_coordinator_and_leaving_it_unmakes_one():
    person = UserFactory()
    coordinator_grant(user=person)
    assert fresh(person).is_coordinator
    coordinator_revoke(user=person)
    assert not fresh(person).is_coordinator


def test_the_permission_given_directly_makes_a_coordinator():
    person = UserFactory()
    person.user_permissions.add(coordinator_permission())
    assert fresh(person).is_coordinator


def test_another_permission_through_a_group_does_not():
    person = UserFactory()
    editors = Group.objects.create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="change_user"))
    person.groups.add(editors)
    assert not fresh(person).is_coordinator


def test_someone_elses_permission_does_not_count():
    holder, other = UserFactory(), UserFactory()
    holder.user_permissions.add(coordinator_permission())
    assert not fresh(other).is_coordinator


def test_superusers_are_coordinators_and_deactivated_people_are_not():
    assert fresh(UserFactory(is_superuser=True)).is_coordinator
    person = UserFactory(is_active=False)
    coordinator_grant(user=person)
    assert not fresh(person).is_coordinator
