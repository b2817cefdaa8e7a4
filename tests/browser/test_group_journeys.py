"""Finding and joining a group, and a facilitator answering a request on a phone.

Controls are found by their role and accessible name, as a screen reader user finds them,
and axe checks every page on the way.
"""

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP
from playwright.sync_api import expect

from groups.models import Audience, Format, JoinPolicy, Role, Topic
from members.services import coordinator_grant
from tests.browser.accessibility import assert_accessible
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, SupportGroupFactory, UserFactory
from tests.foundation.helpers import totp_code
from tests.groups.conftest import enable_mfa

pytestmark = pytest.mark.browser

EMAIL = "rosa.newcomer@example.net"
PASSWORD = "seven-herons-over-the-canal-31"
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")
MANAGE_LINK = re.compile(r"https?://\S+/groups/[\w-]+/manage/")
REQUEST_MESSAGE = "My mother was diagnosed last spring and I look after her most evenings."


def log_in(page, email: str, password: str) -> None:
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Sign In")
    assert_accessible(page)
    main.get_by_label("Email", exact=True).fill(email)
    main.get_by_label("Password", exact=True).fill(password)
    main.get_by_role("button", name="Sign In").click()


def test_visitor_finds_a_group_signs_up_and_joins_it(page, mailoutbox):
    SupportGroupFactory(
        name="Diabetes Walkers Milano", topic=Topic.DIABETES, format=Format.IN_PERSON
    )
    SupportGroupFactory(name="Heart to Heart", topic=Topic.HEART_FAILURE, format=Format.ONLINE)
    SupportGroupFactory(
        name="Type 1 Together Online",
        slug="type-1-together",
        topic=Topic.DIABETES,
        format=Format.ONLINE,
        audience=Audience.BOTH,
        summary="Adults with type 1 diabetes and their families, every other Thursday.",
        conduct="Be kind. What is shared in the group stays in the group.",
    )
    main = page.get_by_role("main")

    page.goto("/groups/")
    expect(main.get_by_role("heading", level=1)).to_have_text("Find a group")
    assert_accessible(page)
    # The filters are open until some are applied; then they fold away under a <summary>.
    filters = main.get_by_role("search", name="Filter groups")
    filters.get_by_label("Condition or topic").select_option(label="Diabetes")
    filters.get_by_label("Format").select_option(label="Online")
    filters.get_by_role("button", name="Show groups").click()

    expect(main.get_by_text("1 group found")).to_be_visible()
    expect(filters).to_be_hidden()
    expect(main.get_by_role("link", name="Diabetes Walkers Milano")).to_have_count(0)
    expect(main.get_by_role("link", name="Heart to Heart")).to_have_count(0)
    assert_accessible(page)
    main.get_by_role("link", name="Type 1 Together Online").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Type 1 Together Online")
    assert_accessible(page)
    main.get_by_role("link", name="Sign up").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Sign Up")
    assert_accessible(page)
    main.get_by_label("Email", exact=True).fill(EMAIL)
    main.get_by_label("Display name").fill("Rosa")
    main.get_by_label("Time zone").select_option(label="Rome")
    main.get_by_label("Language").select_option(label="English")
    main.get_by_label("Password", exact=True).fill(PASSWORD)
    main.get_by_label("Password (again)", exact=True).fill(PASSWORD)
    terms = main.get_by_role("link", name=re.compile("^Read the terms of use and the privacy"))
    expect(terms).to_have_attribute("href", "/privacy/")
    main.get_by_label("I accept the terms of use and the privacy notice").check()
    main.get_by_role("button", name="Sign Up").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    assert_accessible(page)
    (confirmation,) = [message for message in mailoutbox if CONFIRM_LINK.search(message.body)]
    assert confirmation.to == [EMAIL]
    page.goto(CONFIRM_LINK.search(confirmation.body).group(0))
    expect(main.get_by_role("heading", level=1)).to_have_text("Confirm Email Address")
    assert_accessible(page)
    main.get_by_role("button", name="Confirm").click()

    # Confirmed in the same browser: signed in and back on the group they wanted.
    expect(main.get_by_role("heading", level=1)).to_have_text("Type 1 Together Online")
    expect(page.get_by_role("banner").get_by_role("link", name="My account")).to_be_visible()
    assert_accessible(page)
    main.get_by_role("link", name="Join this group").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Join Type 1 Together Online")
    expect(main.get_by_role("heading", name="Code of conduct (version 1)")).to_be_visible()
    expect(main.get_by_text("What is shared in the group stays in the group.")).to_be_visible()
    assert_accessible(page)
    main.get_by_role("button", name="Join the group").click()

    # The code of conduct has to be accepted: the form says so and keeps the person there.
    agree = main.get_by_label("I have read the code of conduct and I agree to follow it")
    expect(agree).to_have_attribute("aria-invalid", "true")
    expect(agree).to_have_accessible_description(re.compile("Tick the box to agree"))
    assert_accessible(page)
    agree.check()
    main.get_by_role("button", name="Join the group").click()

    expect(main.get_by_role("heading", level=1)).to_have_text("Type 1 Together Online")
    expect(page.get_by_role("status")).to_contain_text("You are now a member of this group")
    place = main.get_by_role("region", name="Your place in this group")
    expect(place).to_contain_text("You are a member. Other members see you as Rosa.")
    expect(main.get_by_role("region", name="Members")).to_contain_text("Rosa")
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_facilitator_approves_a_request_on_a_phone_with_two_factor_login(
    page, another_page, sign_in, mailoutbox, eager_celery
):
    group = SupportGroupFactory(
        name="Carers' Evening Circle",
        slug="carers-evening",
        topic=Topic.DEMENTIA,
        audience=Audience.CAREGIVERS,
        join_policy=JoinPolicy.APPROVAL,
    )
    facilitator = UserFactory(display_name="Fiona", email="fiona.facilitator@example.net")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    secret = pyotp.random_base32()
    TOTP.activate(facilitator, secret)
    member = UserFactory(display_name="Marco")

    # Marco asks to join, with a word for the facilitators.
    sign_in(member)
    main = page.get_by_role("main")
    page.goto(f"/groups/{group.slug}/")
    expect(main.get_by_role("heading", level=1)).to_have_text("Carers' Evening Circle")
    assert_accessible(page)
    main.get_by_role("link", name="Ask to join").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Ask to join Carers' Evening Circle")
    assert_accessible(page)
    main.get_by_label("A message to the facilitators (optional)").fill(REQUEST_MESSAGE)
    main.get_by_label("I have read the code of conduct and I agree to follow it").check()
    main.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("status")).to_contain_text("Your request has been sent")
    expect(main.get_by_role("region", name="Your place in this group")).to_contain_text(
        "Your request to join is waiting for a facilitator"
    )
    assert_accessible(page)

    # Fiona, on her phone, follows the link in the email she got.
    (notice,) = [message for message in mailoutbox if message.to == [facilitator.email]]
    manage_path = urlsplit(MANAGE_LINK.search(notice.body).group(0)).path
    staff = another_page.get_by_role("main")
    another_page.goto(manage_path)
    log_in(another_page, facilitator.email, DEFAULT_PASSWORD)
    expect(staff.get_by_role("heading", level=1)).to_have_text("Two-Factor Authentication")
    assert_accessible(another_page)
    staff.get_by_label("Code").fill(totp_code(secret))
    staff.get_by_role("button", name="Sign In").click()

    expect(staff.get_by_role("heading", level=1)).to_have_text("Manage Carers' Evening Circle")
    requests = staff.get_by_role("region", name=re.compile(r"^Request to join \(1\)"))
    request = requests.get_by_role("article", name="Marco")
    expect(request).to_contain_text(REQUEST_MESSAGE)
    approve = request.get_by_role("button", name="Approve Marco")
    box = approve.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44, f"Approve is too small to tap: {box}"
    assert_accessible(another_page)
    approve.tap()

    expect(another_page.get_by_role("status")).to_contain_text("Marco is now a member.")
    expect(staff.get_by_text("No requests are waiting.")).to_be_visible()
    expect(staff.get_by_role("table", name=re.compile("in the group"))).to_contain_text("Marco")
    assert_accessible(another_page)

    # Marco is told by email, and his own phone shows him as a member.
    assert any(
        "you are now a member" in message.body
        for message in mailoutbox
        if message.to == [member.email]
    )
    page.reload()
    expect(main.get_by_role("region", name="Your place in this group")).to_contain_text(
        "You are a member. Other members see you as Marco."
    )
    assert_accessible(page)


def test_staff_and_account_pages_pass_axe_with_and_without_errors(page, sign_in):
    group = SupportGroupFactory(name="Lakeside Heart Group", slug="lakeside-heart")
    coordinator = UserFactory(display_name="Cora")
    coordinator_grant(user=coordinator)
    enable_mfa(coordinator)
    MembershipFactory(group=group, user=coordinator, role=Role.FACILITATOR)
    for name in ("Ada", "Bruno", "Chiara"):
        MembershipFactory(group=group, user=UserFactory(display_name=name))
    sign_in(coordinator)
    main = page.get_by_role("main")

    page.goto("/groups/?q=nothing-matches-this")
    expect(main.get_by_role("heading", name="No groups match these filters")).to_be_visible()
    assert_accessible(page)

    page.goto(f"/groups/{group.slug}/manage/")
    assert_accessible(page)
    bruno = main.get_by_role("row", name=re.compile("^Bruno"))
    bruno.get_by_role("link", name="Remove Bruno").click()
    expect(main.get_by_role("button", name="Yes, remove Bruno")).to_be_visible()
    assert_accessible(page)

    for path, button in [
        ("/groups/new/", "Create group"),
        (f"/groups/{group.slug}/manage/edit/", None),
        (f"/groups/{group.slug}/manage/conduct/", None),
        (f"/groups/{group.slug}/manage/invite/", "Send invitation"),
    ]:
        page.goto(path)
        assert_accessible(page)
        if button:
            main.get_by_role("button", name=button).click()
            expect(main.locator("[aria-invalid=true]").first).to_be_visible()
            assert_accessible(page)

    for path in (
        f"/groups/{group.slug}/conduct/",
        f"/groups/{group.slug}/leave/",
        "/account/",
        "/account/privacy/",
        "/account/audit/",
        "/privacy/",
    ):
        page.goto(path)
        assert_accessible(page)

    footer = page.get_by_role("contentinfo")
    footer.get_by_label("Language").select_option(label="English")
    footer.get_by_role("button", name="Change language").click()
    expect(page.get_by_role("status")).to_have_text("Language changed.")
    assert_accessible(page)

    icon = page.request.get("/favicon.ico")
    assert icon.ok
    assert icon.headers["content-type"].startswith("image/svg+xml")
