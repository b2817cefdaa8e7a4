"""A facilitator sets up two-factor authentication on a phone; the language switch in
the header; email choices that fit the person.

Tap counts (the fixed path of each journey, typing not counted):
- Facilitator, just signed in, opening their group's page: before, "Confirm" (the
  password again), "Activate", then back by hand ("Find a group", the group, "Manage")
  = 5 taps and two things typed; now "Activate", "Continue" = 2 taps, the code typed
  (the secret reaches the app by "Open in your authenticator app" or "Copy").
- Switching to Italian: before, the footer's select and "Change language" = 2 taps at
  the foot of the page; now the header's "Italiano" = 1 tap.
"""

import re

import pytest
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from groups.models import Role
from tests.auth import log_in
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import VIEWPORTS
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, SupportGroupFactory, UserFactory
from tests.foundation.helpers import totp_code

pytestmark = pytest.mark.browser


def heading(page):
    return page.get_by_role("main").get_by_role("heading", level=1)


def test_facilitator_sets_up_two_factor_on_the_phone_and_lands_on_their_group(page):
    group = SupportGroupFactory(name="Harbour Lights")
    facilitator = UserFactory(email="fiona@example.net")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    main = page.get_by_role("main")

    page.goto(f"/groups/{group.slug}/manage/")
    expect(heading(page)).to_have_text("Sign In")
    assert_accessible(page)
    main.get_by_label("Email", exact=True).fill(facilitator.email)
    main.get_by_label("Password", exact=True).fill(DEFAULT_PASSWORD)
    main.get_by_role("button", name="Sign In").click()

    # Straight to the set-up: no second password prompt a moment after signing in.
    expect(heading(page)).to_have_text("Set up two-factor authentication")
    expect(page.locator(".message-list")).to_contain_text("Set up two-factor authentication")
    assert_accessible(page)
    open_in_app = main.get_by_role("link", name="Open in your authenticator app")
    assert open_in_app.get_attribute("href").startswith("otpauth://totp/")
    secret = main.get_by_label("Secret key").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    assert f"secret={secret}" in open_in_app.get_attribute("href")
    expect(
        main.get_by_role("img", name="QR code to scan with your authenticator app")
    ).to_be_visible()
    main.get_by_role("button", name="Copy").click()
    expect(main.get_by_role("status")).to_have_text("Key copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert_accessible(page)

    main.get_by_label("Authenticator code").fill(totp_code(secret))
    main.get_by_role("button", name="Activate").click()

    expect(heading(page)).to_have_text("Recovery codes")
    expect(main).to_contain_text("Each code works once.")
    codes = main.get_by_label("Unused codes").input_value().split()
    assert len(codes) == 10
    assert Authenticator.objects.filter(user=facilitator, type=Authenticator.Type.TOTP).exists()
    assert_accessible(page)
    main.get_by_role("link", name="Continue").click()

    expect(heading(page)).to_have_text("Manage Harbour Lights")
    assert_accessible(page)


def test_without_javascript_the_secret_can_still_be_selected(browser, live_server, viewport):
    """The Copy button needs JavaScript, so without it there is none; the key is there."""

    person = UserFactory()
    client = Client()
    log_in(client, person)
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORTS[viewport], java_script_enabled=False
    )
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    tab = context.new_page()
    try:
        tab.goto("/accounts/2fa/totp/activate/")
        main = tab.get_by_role("main")
        expect(main.get_by_label("Secret key")).to_have_attribute("readonly", "")
        expect(main.get_by_role("button", name="Copy")).to_have_count(0)
        expect(main.get_by_role("link", name="Open in your authenticator app")).to_be_visible()
    finally:
        context.close()


def test_visitor_switches_to_italian_from_the_header_and_back(page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page)
    header = page.get_by_role("banner")
    switch = header.get_by_role("group", name="Language")
    expect(switch.get_by_role("button")).to_have_count(1)  # the current language is no button
    switch.get_by_role("button", name="Italiano").click()

    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.get_by_role("status")).to_have_text("Lingua cambiata.")
    assert_accessible(page)
    header.get_by_role("group", name="Lingua").get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("contentinfo").get_by_label("Language")).to_have_value("en")
    assert_accessible(page)


def test_header_switch_fits_a_phone_without_sideways_scrolling(page, sign_in, viewport):
    sign_in(UserFactory())
    page.goto("/account/")
    assert_accessible(page)
    button = page.get_by_role("banner").get_by_role("button", name="Italiano")
    box = button.bounding_box()
    width = page.viewport_size["width"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    assert box["height"] >= 44 and box["width"] >= 44  # a finger-sized target
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_member_sees_their_email_choices_grouped_and_the_hour_only_when_it_applies(page, sign_in):
    sign_in(UserFactory())
    main = page.get_by_role("main")

    page.goto("/account/notifications/")
    expect(heading(page)).to_have_text("Emails we send you")
    expect(main.get_by_role("group", name="Reminders")).to_be_visible()
    expect(main.get_by_role("group", name="Changes to my meetings and groups")).to_be_visible()
    expect(main.get_by_role("group", name="For facilitators")).to_have_count(0)
    hour = main.get_by_label("At what time the day before")
    expect(hour).to_be_visible()
    assert_accessible(page)

    main.get_by_label("The day before", exact=True).uncheck()
    expect(hour).to_be_hidden()
    assert_accessible(page)
    main.get_by_label("The day before", exact=True).check()
    expect(hour).to_be_visible()
    hour.select_option(label="09:00")
    main.get_by_role("button", name="Save my choices").click()

    expect(page.get_by_role("status")).to_have_text("Your email choices have been saved.")
    expect(main.get_by_label("At what time the day before")).to_have_value("9")
    assert_accessible(page)


def test_facilitator_sees_the_facilitator_choices_too(page, sign_in):
    facilitator = UserFactory()
    MembershipFactory(user=facilitator, role=Role.CO_FACILITATOR)
    sign_in(facilitator)

    page.goto("/account/notifications/")
    facilitators = page.get_by_role("main").get_by_role("group", name="For facilitators")
    expect(facilitators.get_by_role("checkbox")).to_have_count(4)
    assert_accessible(page)
