import pytest

from groups.models import Role
from tests.celery_eager import eager_celery  # noqa: F401  (tasks inline, raising)
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory


@pytest.fixture
def group(db):
    """A group that meets in Rome."""
    return SupportGroupFactory(name="Harbour Lights", time_zone="Europe/Rome")


@pytest.fixture
def facilitator(group):
    person = UserFactory(display_name="Facilitator Fiona")
    MembershipFactory(group=group, user=person, role=Role.FACILITATOR)
    return person


@pytest.fixture
def member(group):
    return MembershipFactory(group=group).user
