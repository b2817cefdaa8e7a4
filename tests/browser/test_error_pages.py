"""Error pages are where people land when something breaks: they must be usable too."""

import pytest
from django.views.defaults import server_error
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_missing_page_explains_and_offers_a_way_on(page):
    response = page.goto("/no-such-page/")

    assert response.status == 404
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(main.get_by_role("link", name="Find a group")).to_be_visible()
    assert_accessible(page)


def test_server_error_page_stands_alone_and_keeps_the_crisis_note(page, rf):
    # Rendered the way Django renders it after an unhandled exception, then served from
    # the live server's origin so its stylesheet loads.
    body = server_error(rf.get("/")).content
    page.route(
        "**/server-error/",
        lambda route: route.fulfill(status=500, body=body, content_type="text/html"),
    )

    page.goto("/server-error/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Something went wrong")
    expect(page.get_by_role("link", name="Go to the home page")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("call your local emergency number")
    assert_accessible(page)
