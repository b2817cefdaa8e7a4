"""Country names for the directory's search: a group stores a two-letter code, people type
a name ("Italy", "Italia") in the language they speak.

Each country has its English name (translated, so it also reads in the viewer's language)
and its own name for itself, so "Italia" finds Italian groups whatever the page's language.
"""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

COUNTRY_NAMES = {
    "AR": (_("Argentina"), "Argentina"),
    "AT": (_("Austria"), "Österreich"),
    "AU": (_("Australia"), "Australia"),
    "BE": (_("Belgium"), "België"),
    "BR": (_("Brazil"), "Brasil"),
    "CA": (_("Canada"), "Canada"),
    "CH": (_("Switzerland"), "Schweiz"),
    "DE": (_("Germany"), "Deutschland"),
    "DK": (_("Denmark"), "Danmark"),
    "ES": (_("Spain"), "España"),
    "FI": (_("Finland"), "Suomi"),
    "FR": (_("France"), "France"),
    "GB": (_("United Kingdom"), "United Kingdom"),
    "GR": (_("Greece"), "Ελλάδα"),
    "IE": (_("Ireland"), "Éire"),
    "IN": (_("India"), "Bhārat"),
    "IT": (_("Italy"), "Italia"),
    "MT": (_("Malta"), "Malta"),
    "MX": (_("Mexico"), "México"),
    "NL": (_("Netherlands"), "Nederland"),
    "NO": (_("Norway"), "Norge"),
    "NZ": (_("New Zealand"), "New Zealand"),
    "PL": (_("Poland"), "Polska"),
    "PT": (_("Portugal"), "Portugal"),
    "SE": (_("Sweden"), "Sverige"),
    "SM": (_("San Marino"), "San Marino"),
    "US": (_("United States"), "United States"),
    "VA": (_("Vatican City"), "Città del Vaticano"),
}


def country_name(code: str) -> str:
    """The country's name in the active language, or the code when it is not listed."""
    names = COUNTRY_NAMES.get(code.upper())
    return str(names[0]) if names else code


def _names_of(code: str) -> set[str]:
    translated, own = COUNTRY_NAMES[code]
    with translation.override("en"):
        english = str(translated)
    return {english.casefold(), str(translated).casefold(), own.casefold()}


def countries_matching(term: str) -> list[str]:
    """Codes of the countries whose name, in English, in the active language or in the
    country's own language, contains `term`; a term of one or two letters is a code."""
    folded = term.casefold()
    if len(folded) <= 2:
        return [code for code in COUNTRY_NAMES if folded == code.casefold()]
    return [code for code in COUNTRY_NAMES if any(folded in name for name in _names_of(code))]
