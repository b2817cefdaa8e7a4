import pytest
from django.core.cache import cache

from members.services import coordinator_grant
from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _clear_shared_cache():
    """Rate-limit counters live in the shared Redis cache: start every test clean."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def coordinator(db):
    person = UserFactory(display_name="Coordinator Cora")
    coordinator_grant(user=person)
    return person
