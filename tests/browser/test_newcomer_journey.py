"""A newcomer's first visit, as a screen reader user would make it, on a phone and a desktop."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible

pytestmark = pytest.mark.browser

EMAIL = "newcomer@example.net"
PASSWORD = "a-long-walk-by-the-lake-17"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def test_newcomer_signs_up_confirms_email_logs_in_and_switches_to_italian(page, mailoutbox):
    page.goto("/")
    assert_accessible(page)
    main = page.get_by_role("main")

    main.get_by_role("link", name="Sign up").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Sign Up")
    assert_accessible(page)
    main.get_by_label("Email", exact=True).fill(EMAIL)
    main.get_by_label("Display name").fill("Sam")
    main.get_by_label("Time zone").select_option(label="London")
    main.get_by_label("Language").select_option(label="English")
    main.get_by_label("Password", exact=True).fill(PASSWORD)
    main.get_by_label("Password (again)", exact=True).fill(PASSWORD)
    main.get_by_label("I accept the terms of use and the privacy notice").check()
    main.get_by_role("button", name="Sign Up").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    assert_accessible(page)
    (confirmation,) = [message for message in mailoutbox if CONFIRM_LINK.search(message.body)]
    assert confirmation.to == [EMAIL]
    link = CONFIRM_LINK.search(confirmation.body).group(0)

    page.goto(link)
    expect(main.get_by_role("heading", level=1)).to_have_text("Confirm Email Address")
    assert_accessible(page)
    main.get_by_role("button", name="Confirm").click()

    # Confirmed in the browser that signed up: signed in straight away.
    header = page.get_by_role("banner")
    expect(header.get_by_role("link", name="My account")).to_be_visible()
    expect(header.get_by_role("button", name="Log out")).to_be_visible()
    assert_accessible(page)

    footer = page.get_by_role("contentinfo")
    footer.get_by_label("Language").select_option(label="Italiano")
    footer.get_by_role("button", name="Change language").click()

    expect(page.locator("html")).to_have_attribute("lang", "it")
    assert_accessible(page)

    # The choice outlives the session. The header's one button outside the language
    # switch logs out, whatever the Italian catalogue calls it; "Accedi" is what Django
    # and allauth already ship.
    header.get_by_role("navigation").get_by_role("button").click()
    log_in = header.get_by_role("link", name="Accedi")
    expect(log_in).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    assert_accessible(page)
    log_in.click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Accedi")
    expect(main.get_by_role("button", name="Accedi")).to_be_visible()
    assert_accessible(page)
