import pytest
from django.conf import settings
from django.core.cache import cache

from members.services import coordinator_grant
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytest_plugins = ["tests.pinned_clock"]  # --pretend-today=YYYY-MM-DD


def clear_this_runs_cache() -> None:
    """Delete this run's keys only (cache.clear() would empty the whole Redis database)."""
    client = cache._cache.get_client(write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _clear_shared_cache():
    """Rate-limit counters live in the shared Redis cache: start every test clean."""
    clear_this_runs_cache()
    yield
    clear_this_runs_cache()


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
