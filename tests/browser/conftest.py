"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Fixtures
    browser   one headless chromium for the whole session
    viewport  "phone" (390x844) or "desktop" (1280x900); every test using `page` runs at both
    page      a fresh tab (own cookies) on the live server; relative URLs work in goto()
    sign_in   sign_in(user): the tab's next request is made as `user`, without the login
              form (test_newcomer_journey covers the form itself)
    another_page
              a second person's tab at the same screen size, in its own browser context
              (own cookies), checked like `page`

Call `assert_accessible(page)` (tests/browser/accessibility.py) on every page the test
reaches: a test fails if a document it loaded was never checked, or if the page logged a
JavaScript or Content-Security-Policy error.
"""

import os

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import sync_playwright

from tests.auth import log_in
from tests.browser import accessibility
from tests.celery_eager import eager_celery  # noqa: F401  (tasks inline, raising)

# Playwright's sync API keeps an event loop running in the test thread, and Django refuses
# ORM calls from a thread with a running loop unless told that this is deliberate.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 900},
}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    """The screen width a test runs at; narrow a test with
    `@pytest.mark.parametrize("viewport", ["phone"], indirect=True)`."""
    return request.param


def _tab(browser, live_server, viewport):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORTS[viewport],
        is_mobile=viewport == "phone",
        has_touch=viewport == "phone",
        locale="en-GB",
        timezone_id="Europe/Rome",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    accessibility.track(page)
    yield page
    accessibility.untrack(page)
    context.close()


@pytest.fixture
def page(browser, live_server, viewport):
    yield from _tab(browser, live_server, viewport)


@pytest.fixture
def another_page(browser, live_server, viewport):
    yield from _tab(browser, live_server, viewport)


@pytest.fixture
def sign_in(page, live_server):
    def sign_in(user) -> None:
        client = Client()
        log_in(client, user)
        session = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": session.key, "value": session.value, "url": live_server.url}]
        )

    return sign_in


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a passing browser test that skipped an axe check or logged a page error."""
    result = yield
    problems = []
    for name in ("page", "another_page"):
        page = item.funcargs.get(name)
        audit = accessibility.audit_of(page) if page is not None else None
        if audit is not None:
            problems += [
                f"page not checked with assert_accessible: {url}" for url in audit.unaudited()
            ]
            problems += audit.errors
    if problems:
        raise AssertionError("\n".join(problems))
    return result
