"""Display names that look like what they are.

Peers know each other only by display name, so a name that hides characters ("Sam
\u202e(rotaticilaF)" reads "Sam (Facilitator)"), shows nothing, or puts a role in brackets is
refused, with a reason, wherever a name is set: signing up, the profile, and the model itself
(the admin and every service validate through it). Names are stored normalised (NFKC, one
space between words); ordinary names in any script are welcome. A role is shown by the app,
as a badge of its own drawn from the membership, never from the name.
"""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from groups.models import Role
from members.demo import DEMO_MEMBER_NAMES
from members.models import User
from members.services import user_profile_update
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

INVISIBLE = "Remove the invisible or control characters from the name"
EMPTY = "Enter a name people can see"
ROLE = "A display name can't include a role"
REQUIRED = "This field is required."

BAD_NAMES = [
    ("Sam \u202e(rotaticilaF)", INVISIBLE),  # right-to-left override: "Sam (Facilitator)"
    ("Sam\u202d", INVISIBLE),  # left-to-right override
    ("Sam\u200f", INVISIBLE),  # right-to-left mark
    ("Sa\u200bm", INVISIBLE),  # zero-width space: looks like "Sam"
    ("Sam\u2060", INVISIBLE),  # word joiner
    ("\ufeffSam", INVISIBLE),  # byte order mark
    ("Sam\u00ad", INVISIBLE),  # soft hyphen
    ("\u200b\u200b\u200b", INVISIBLE),  # nothing but zero-width spaces
    ("\u3164", INVISIBLE),  # Hangul filler: a "letter" that draws nothing
    ("\u2800\u2800", INVISIBLE),  # blank Braille pattern
    ("Sam\x1b[31m", INVISIBLE),  # terminal escape
    ("Sam\x00", INVISIBLE),  # null byte: PostgreSQL can't store it
    ("Sam\x7f", INVISIBLE),
    ("\U000f0000", INVISIBLE),  # private use
    ("\u0301\u0308", EMPTY),  # only combining marks
    ("   ", REQUIRED),
    ("\u3000\u00a0", REQUIRED),  # ideographic and no-break spaces: white space once normalised
    ("Sam (Facilitator)", ROLE),
    ("Sam (co-facilitator)", ROLE),
    ("Sam [Coordinator]", ROLE),
    ("Sam (Facilitatore)", ROLE),
    ("Mo (moderatrice)", ROLE),
    ("Sam (Coordinatore", ROLE),  # unclosed still reads as a badge
    ("Sam （Ｆａｃｉｌｉｔａｔｏｒ）", ROLE),  # full-width, caught once normalised
    ("Sam «staff»", ROLE),
    ("N" * 61, "Ensure this value has at most 60 characters (it has 61)."),
]

GOOD_NAMES = [
    "Zoë",
    "O'Brien",
    "Jean-Luc",
    "Мария",
    "李雷",
    "مريم",
    "יעל",
    "प्रिया",
    "Nguyễn Văn An",
    "José María",
    "Ann (she/her)",
    "🌻 Sunny",
    "N" * 60,
]


def signup_form(display_name: str, email: str = "newcomer@example.org") -> dict:
    return {
        "email": email,
        "password1": "quiet-river-stones-19",
        "password2": "quiet-river-stones-19",
        "display_name": display_name,
        "time_zone": "Europe/Rome",
        "language": "en",
        "accept_terms": "on",
    }


def profile_form(display_name: str) -> dict:
    return {
        "display_name": display_name,
        "full_name": "Samuel Rossi",
        "time_zone": "Europe/Rome",
        "language": "en",
    }


def name_errors(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(response.context["form"].errors.get("display_name", []))


@pytest.fixture
def member(client):
    person = UserFactory(display_name="Sam")
    log_in(client, person)
    return person


# --- Refused, with a reason -------------------------------------------------------------


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_signup_refuses_a_name_that_hides_characters_shows_nothing_or_poses_as_a_role(
    client, name, message
):
    response = client.post(reverse("account_signup"), signup_form(name))

    assert message in name_errors(response)
    assert not User.objects.filter(email="newcomer@example.org").exists()


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_the_profile_refuses_the_same_names_and_keeps_the_old_one(client, member, name, message):
    response = client.post(reverse("members:account"), profile_form(name))

    assert message in name_errors(response)
    member.refresh_from_db()
    assert member.display_name == "Sam"


@pytest.mark.parametrize(
    "name", ["Sam \u202e(rotaticilaF)", "\u200b", "Sam (Facilitator)", "\u3164", "Sam\x00"]
)
def test_the_model_refuses_them_for_the_admin_and_every_service(member, name):
    with pytest.raises(ValidationError) as refused:
        user_profile_update(
            user=member,
            display_name=name,
            full_name="",
            time_zone="Europe/Rome",
            language="en",
        )

    assert "display_name" in refused.value.message_dict
    member.refresh_from_db()
    assert member.display_name == "Sam"


def test_a_page_with_a_refused_name_says_why_beside_the_field(client, member):
    response = client.post(reverse("members:account"), profile_form("Sam \u202e(rotaticilaF)"))

    body = response.content.decode()
    assert INVISIBLE in body
    assert 'aria-invalid="true"' in body


# --- Normalised -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ｓａｍ", "Sam"),  # full-width letters
        ("  Zoë    O'Brien  ", "Zoë O'Brien"),  # trimmed, one space between words
        ("Sam\u00a0Lee", "Sam Lee"),  # no-break space
        ("Sam\u3000Lee", "Sam Lee"),  # ideographic space
        ("Sam\tLee", "Sam Lee"),  # a tab is white space, made a space
        ("ﬁona", "fiona"),  # the "fi" ligature
        ("Zoe\u0308", "Zoë"),  # e and a combining diaeresis: the one letter ë
    ],
)
def test_names_are_stored_normalised(client, member, typed, stored):
    response = client.post(reverse("members:account"), profile_form(typed))

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.display_name == stored


def test_signup_stores_the_name_normalised(client):
    response = client.post(reverse("account_signup"), signup_form("  Ｎｉｎａ   Rossi "))

    assert response.status_code == 302
    assert User.objects.get(email="newcomer@example.org").display_name == "Nina Rossi"


def test_the_length_limit_counts_the_normalised_name(client, member):
    """NFKC can make a name longer ("ﷺ" is 18 letters): it is measured as it would be stored."""
    response = client.post(reverse("members:account"), profile_form("\ufdfa" * 4))

    assert "Ensure this value has at most 60 characters (it has 72)." in name_errors(response)


# --- Welcome ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_ordinary_names_in_any_script_are_accepted(client, member, name):
    response = client.post(reverse("members:account"), profile_form(name))

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.display_name == name


@pytest.mark.parametrize("name", ["Zoë", "مريم", "李雷", "O'Brien"])
def test_signup_accepts_ordinary_names(client, name):
    response = client.post(reverse("account_signup"), signup_form(name))

    assert response.status_code == 302
    assert User.objects.get(email="newcomer@example.org").display_name == name


def test_every_demo_name_is_a_valid_display_name():
    for name in ["Sam", "Franca", "Cora", "Dana", *DEMO_MEMBER_NAMES]:
        UserFactory.build(email="demo@example.org", display_name=name).full_clean(
            exclude=["password"]
        )


# --- Roles come from the membership -----------------------------------------------------

BADGE = re.compile(r'<li>([^<]*?)\s*(?:<span class="tag badge">([^<]*)</span>)?</li>')


def test_peers_see_a_role_badge_only_from_the_membership_never_from_the_name(client):
    group = SupportGroupFactory()
    MembershipFactory(group=group, user=UserFactory(display_name="Fiona"), role=Role.FACILITATOR)
    MembershipFactory(group=group, user=UserFactory(display_name="Mo"), role=Role.PEER_MODERATOR)
    # Names from before the rule, written past validation: they must not gain a badge.
    MembershipFactory(group=group, user=UserFactory(display_name="Sam (Facilitator)"))
    MembershipFactory(
        group=group, user=UserFactory(display_name='Eve <span class="tag badge">Facilitator')
    )
    viewer = MembershipFactory(group=group, user=UserFactory(display_name="Viewer")).user
    log_in(client, viewer)

    response = client.get(group.get_absolute_url())

    body = response.content.decode()
    peers = body[
        body.index('<ul class="peer-list">') : body.index("</ul>", body.index("peer-list"))
    ]
    listed = {name.strip(): badge for name, badge in BADGE.findall(peers)}
    assert listed == {
        "Fiona": "Facilitator",
        "Mo": "Peer moderator",
        "Sam (Facilitator)": "",
        "Eve &lt;span class=&quot;tag badge&quot;&gt;Facilitator": "",
        "Viewer": "",
    }
