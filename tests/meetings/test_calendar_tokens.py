"""Private calendar addresses: never stored, shown again from a nonce, found by their hash."""

import hashlib
import importlib
import re
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sessions import services
from sessions.models import CalendarFeedToken
from tests.auth import log_in
from tests.concurrency import run_at_once
from tests.factories import MembershipFactory, SupportGroupFactory
from tests.meetings.factories import MeetingFactory

CALENDAR_PAGE = "meetings_feeds:calendar_settings"
MIGRATION = "0002_calendar_feed_token_hash"
BEFORE_HASHING = [("meetings", "0001_initial")]
AFTER_HASHING = [("meetings", MIGRATION)]
CHANGED = "Your calendar address has changed and the old one no longer works"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
ANOTHER_SECRET_KEY = "another-secret-key-for-tests-only-9876543210-abcdefghijklmnop"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def feed_path(token: str) -> str:
    return reverse("meetings_feeds:member_calendar", kwargs={"token": token})


def page(client):
    response = client.get(reverse(CALENDAR_PAGE))
    assert response.status_code == 200
    return response


def address_on(response) -> str:
    """The feed path in the page's address field, as the member copies it."""
    match = re.search(r'id="calendar-url" type="url" value="([^"]+)"', response.content.decode())
    assert match, "no calendar address on the page"
    return urlsplit(match.group(1)).path


def token_of(path: str) -> str:
    return path.removeprefix("/calendar/").removesuffix(".ics")


def legacy_row(user, plain: str) -> CalendarFeedToken:
    """A row as the migration leaves an address made before tokens were hashed."""
    return CalendarFeedToken.objects.create(user=user, nonce="", token_hash=sha256(plain))


def table_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM meetings_calendarfeedtoken")
        return cursor.fetchall()


def opens(client, path: str, title: str = "Our meeting") -> bool:
    response = client.get(path)
    if response.status_code == 404:
        return False
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert title in response.content.decode()
    return True


@pytest.fixture
def meeting(group):
    return MeetingFactory(group=group, title="Our meeting")


# ---------------------------------------------------------------- never stored


@pytest.mark.django_db
def test_the_database_never_holds_the_token_in_any_column(client, member, meeting):
    log_in(client, member)
    token = token_of(address_on(page(client)))
    assert TOKEN.match(token)
    client.post(reverse(CALENDAR_PAGE))
    newer = token_of(address_on(page(client)))

    rows = table_rows()
    assert len(rows) == 1
    for column in rows[0]:
        assert token not in str(column)
        assert newer not in str(column)
    assert sha256(newer) in rows[0]  # what is kept is the hash, for lookup


@pytest.mark.django_db
def test_the_database_alone_yields_no_working_address(client, member, meeting):
    log_in(client, member)
    path = address_on(page(client))
    row = CalendarFeedToken.objects.get(user=member)

    # Someone with a dump but not SECRET_KEY: the nonce and the hash don't open the feed,
    # and deriving from the nonce with any other key gives a different address.
    client.logout()
    assert not opens(client, feed_path(row.nonce))
    assert not opens(client, f"/calendar/{row.token_hash}.ics")
    with override_settings(SECRET_KEY=ANOTHER_SECRET_KEY):
        guessed = CalendarFeedToken.token_from(row.nonce)
    assert not opens(client, feed_path(guessed))
    assert opens(client, path)


# ---------------------------------------------------------------- the settings page


@pytest.mark.django_db
def test_the_address_on_the_settings_page_opens_the_feed(client, member, meeting):
    log_in(client, member)
    response = page(client)
    path = address_on(response)
    assert CHANGED not in response.content.decode()  # a first address replaces nothing

    client.logout()
    assert opens(client, path)


@pytest.mark.django_db
def test_the_page_shows_the_same_address_on_every_visit(client, member, meeting):
    log_in(client, member)
    first = address_on(page(client))
    again = page(client)
    assert address_on(again) == first
    assert CHANGED not in again.content.decode()


@pytest.mark.django_db
def test_getting_a_new_address_kills_the_old_one_at_once(client, member, meeting):
    log_in(client, member)
    old = address_on(page(client))

    response = client.post(reverse(CALENDAR_PAGE), follow=True)
    new = address_on(response)

    assert new != old
    client.logout()
    assert not opens(client, old)
    assert opens(client, new)


@pytest.mark.django_db
def test_a_legacy_address_is_replaced_on_the_settings_page_with_a_message(client, member, meeting):
    plain = "L" * 43
    legacy_row(member, plain)
    assert opens(client, feed_path(plain))  # still works until the member visits the page
    log_in(client, member)

    response = page(client)
    new = address_on(response)

    assert CHANGED in response.content.decode()
    assert new != feed_path(plain)
    assert CalendarFeedToken.objects.get(user=member).nonce != ""
    again = page(client)
    assert address_on(again) == new
    assert CHANGED not in again.content.decode()
    client.logout()
    assert opens(client, new)
    assert not opens(client, feed_path(plain))


@pytest.mark.django_db
def test_after_a_secret_key_change_old_addresses_stop_and_the_page_gives_a_new_one(
    client, member, meeting
):
    log_in(client, member)
    before = address_on(page(client))

    with override_settings(SECRET_KEY=ANOTHER_SECRET_KEY):
        assert not opens(client, before)
        log_in(client, member)  # the new key also ends every session
        response = page(client)
        after = address_on(response)
        assert CHANGED in response.content.decode()
        assert after != before
        assert opens(client, after)
        assert CHANGED not in page(client).content.decode()


# ---------------------------------------------------------------- wrong addresses


def _tampered(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "wrong",
    [
        _tampered,
        lambda token: token[:-1],
        lambda token: token + "A",
        lambda token: token.swapcase(),
        lambda token: "A" * 43,
    ],
    ids=["last-character-changed", "shortened", "lengthened", "case-swapped", "unknown"],
)
def test_a_wrong_or_tampered_token_is_404(client, member, meeting, wrong):
    token = services.calendar_token_for(user=member).token
    assert client.get(feed_path(wrong(token))).status_code == 404
    assert opens(client, feed_path(token))


@pytest.mark.django_db
def test_a_tampered_legacy_token_is_404(client, member, meeting):
    plain = "L" * 43
    legacy_row(member, plain)
    assert client.get(feed_path(_tampered(plain))).status_code == 404
    assert opens(client, feed_path(plain))


# ---------------------------------------------------------------- query counts


def count_queries(client, path: str) -> int:
    client.get(path)  # warm-up
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200
    return len(context.captured_queries)


def add_meetings_for(member, count: int) -> None:
    other = SupportGroupFactory()
    MembershipFactory(group=other, user=member)
    for _number in range(count):
        MeetingFactory(group=other)


@pytest.mark.django_db
def test_feed_queries_stay_fixed_for_hashed_and_legacy_addresses(client, group, meeting):
    hashed = MembershipFactory(group=group).user
    legacy = MembershipFactory(group=group).user
    hashed_path = feed_path(services.calendar_token_for(user=hashed).token)
    legacy_row(legacy, "L" * 43)
    legacy_path = feed_path("L" * 43)

    small = count_queries(client, hashed_path)
    assert count_queries(client, legacy_path) == small
    add_meetings_for(hashed, 30)
    add_meetings_for(legacy, 30)
    assert count_queries(client, hashed_path) == small
    assert count_queries(client, legacy_path) == small


@pytest.mark.django_db
def test_a_wrong_token_costs_one_query(client, member):
    services.calendar_token_for(user=member)
    with CaptureQueriesContext(connection) as context:
        assert client.get(feed_path("A" * 43)).status_code == 404
    assert len(context.captured_queries) == 1


# ---------------------------------------------------------------- races


@pytest.mark.django_db(transaction=True)
def test_two_visits_replacing_a_legacy_address_at_once_agree_on_the_new_one(client, group):
    member = MembershipFactory(group=group).user
    legacy_row(member, "L" * 43)

    outcomes = run_at_once([lambda: services.calendar_token_for(user=member)] * 2)

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert outcomes[0].token == outcomes[1].token
    # Whichever visit replaced it says so; the other may have read the new address already.
    assert any(outcome.replaced for outcome in outcomes)
    assert CalendarFeedToken.objects.get(user=member).token == outcomes[0].token
    MeetingFactory(group=group, title="Our meeting")
    assert opens(client, feed_path(outcomes[0].token))


# ---------------------------------------------------------------- the migration


def migrate_to(targets):
    """Migrate the test database to `targets`; the historical apps at that point."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_the_migration_derives_tokens_as_the_model_does():
    migration = importlib.import_module(f"sessions.migrations.{MIGRATION}")
    assert migration.KEY_SALT == CalendarFeedToken.KEY_SALT


@pytest.mark.django_db(transaction=True)
def test_an_address_made_before_hashing_still_opens_its_feed_after_the_migration(client, group):
    member = MembershipFactory(group=group).user
    plain = "Pre-hashing_token-0123456789abcdefghijklmno"
    try:
        old_apps = migrate_to(BEFORE_HASHING)
        OldToken = old_apps.get_model("meetings", "CalendarFeedToken")
        OldToken.objects.create(user_id=member.pk, token=plain)
        migrate_to(AFTER_HASHING)
    finally:
        migrate_to_latest()

    row = CalendarFeedToken.objects.get(user=member)
    assert (row.nonce, row.token_hash) == ("", sha256(plain))
    assert row.token is None  # can't be shown: the page will replace it
    for column in table_rows()[0]:
        assert plain not in str(column)
    MeetingFactory(group=group, title="Our meeting")
    assert opens(client, feed_path(plain))


@pytest.mark.django_db(transaction=True)
def test_migrating_back_keeps_every_address_it_can(client, group):
    hashed = MembershipFactory(group=group).user
    legacy = MembershipFactory(group=group).user
    token = services.calendar_token_for(user=hashed).token
    legacy_row(legacy, "L" * 43)
    try:
        old_apps = migrate_to(BEFORE_HASHING)
        OldToken = old_apps.get_model("meetings", "CalendarFeedToken")
        tokens = dict(OldToken.objects.values_list("user_id", "token"))
        migrate_to(AFTER_HASHING)
    finally:
        migrate_to_latest()

    assert tokens[hashed.pk] == token
    assert TOKEN.match(tokens[legacy.pk])  # its plain token was gone: a new one
    MeetingFactory(group=group, title="Our meeting")
    assert opens(client, feed_path(token))
    assert opens(client, feed_path(tokens[legacy.pk]))
