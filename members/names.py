"""What people may type as a display name, and the characters no text field takes.

Peers know each other only by display name, so a name must look like what it is. Unicode
lets text lie about itself: a right-to-left override turns "Sam \u202e(rotaticilaF)" into
"Sam (Facilitator)" on the screen, zero-width characters make two names that look the same,
and a name of Hangul fillers shows nothing at all. A display name is therefore

- normalised (NFKC, so "Ｓａｍ" is "Sam"; trimmed; runs of white space made one space),
- refused when it holds control, format (invisible), surrogate or private-use characters,
  or characters that draw nothing although Unicode files them as letters,
- refused when nothing visible is left once spaces, separators and marks are taken out,
- refused when it puts a role in brackets ("(Facilitator)", "[Coordinatore]"): the app shows
  a person's role itself, beside the name, from their membership.

Other text fields (titles, notes, codes of conduct) keep their new lines and tabs but take
no other control character: a null byte cannot be stored at all, and terminal escapes have
no business in a meeting's title.
"""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Control, format (zero-width and direction marks), surrogate and private-use characters.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
# Letters and symbols that draw nothing: Hangul fillers, the blank Braille pattern, Khmer
# inherent vowels, the combining grapheme joiner.
INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5\u034f")
# What a bracket may hold to pass for a role badge, in English and Italian (stems, so that
# "facilitatore", "co-facilitator" and "moderatrice" are caught as well).
ROLE_STEMS = ("facilitat", "moderat", "coordinat", "admin", "amministrat", "staff")
OPENING_BRACKETS = "([{<«‹⟨〈《【〔「『"
CLOSING_BRACKETS = ")]}>»›⟩〉》】〕」』"
# From an opening bracket to its closing one, or to the end: "Sam (Facilitator" poses too.
_BRACKETED = re.compile(f"[{re.escape(OPENING_BRACKETS)}]([^{re.escape(CLOSING_BRACKETS)}]*)")
# Text fields keep these; every other control character is refused.
LAYOUT_CONTROLS = frozenset("\t\n\r")


def normalise_display_name(value: str) -> str:
    """NFKC, trimmed, every run of white space (of any script) one plain space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def _visible(char: str) -> bool:
    category = unicodedata.category(char)
    return char not in INVISIBLE and category[0] not in "ZMC"


def validate_display_name(value: str) -> None:
    """Refuse a display name that hides characters, shows nothing, or poses as a role."""
    text = unicodedata.normalize("NFKC", value)
    if any(unicodedata.category(char) in REFUSED_CATEGORIES or char in INVISIBLE for char in text):
        raise ValidationError(
            _(
                "Remove the invisible or control characters from the name (such as a "
                "text-direction mark or a zero-width space)."
            ),
            code="invisible_characters",
        )
    if not any(_visible(char) for char in text):
        raise ValidationError(
            _("Enter a name people can see: letters, numbers or symbols, not only spaces."),
            code="empty_name",
        )
    for bracketed in _BRACKETED.findall(text.casefold()):
        if any(stem in bracketed for stem in ROLE_STEMS):
            raise ValidationError(
                _(
                    "A display name can't include a role such as “(Facilitator)”: the app "
                    "shows people's roles beside their names."
                ),
                code="role_in_name",
            )


def validate_plain_text(value: str) -> None:
    """Refuse control characters other than tabs and new lines.

    A null byte is left to Django's own validator, which every form CharField carries.
    """
    if any(
        char not in LAYOUT_CONTROLS and char != "\x00" and unicodedata.category(char) == "Cc"
        for char in value
    ):
        raise ValidationError(
            _("Remove the control characters from the text (such as an escape code)."),
            code="control_characters",
        )


class PlainTextMixin:
    """For a form: every text field refuses control characters (see validate_plain_text)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # Each form instance holds deep copies of its fields: the class is not changed.
            if not isinstance(field, forms.CharField):
                continue
            if any(v in (validate_display_name, validate_plain_text) for v in field.validators):
                continue  # a display name is checked more strictly still
            field.validators.append(validate_plain_text)
