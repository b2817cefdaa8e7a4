"""A registry through which every app contributes to a person's export and erasure.

Each app registers, in its AppConfig.ready(), one or more sections: a function returning
the JSON-ready data it holds about a person, one that removes or anonymises it, and the
models whose rows the section answers for. The members app calls them all, so new
features join the export and the erasure by registering once; the registry knows no app
by name, but remembers which app registered each section, so that a test can tell an app
that forgot to register, or a model with a link to a person that no section answers for.

Erasure runs every section's `erase` in registration order (the order of
INSTALLED_APPS), inside the transaction of `members.services.account_erase`, before the
user row itself is anonymised: a section can still read the person's email addresses.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, Q

from members.models import User


@dataclass(frozen=True)
class PersonalDataSection:
    name: str  # the key of this section in the export
    app_label: str  # the app that registered it
    export: Callable[[User], Any]
    erase: Callable[[User], None]
    models: tuple[type[Model], ...] = ()  # the models whose rows about a person it covers


_sections: dict[str, PersonalDataSection] = {}


def register(
    name: str,
    *,
    app_label: str,
    export: Callable[[User], Any],
    erase: Callable[[User], None],
    models: Iterable[type[Model]] = (),
) -> None:
    """Add a section to every export and erasure; call it from your AppConfig.ready()."""
    apps.get_app_config(app_label)  # LookupError for a label that is not installed
    existing = _sections.get(name)
    if existing is not None and existing.app_label != app_label:
        raise ImproperlyConfigured(
            f"The personal data section {name!r} is already registered by {existing.app_label!r}."
        )
    _sections[name] = PersonalDataSection(
        name=name, app_label=app_label, export=export, erase=erase, models=tuple(models)
    )


def sections() -> list[PersonalDataSection]:
    return list(_sections.values())


def email_addresses_of(user: User) -> set[str]:
    """Every address the person has used (lower case), for scrubbing free text."""
    addresses = {user.email.lower()}
    addresses |= {email.lower() for email in user.emailaddress_set.values_list("email", flat=True)}
    return {address for address in addresses if address}


# What replaces a mention of an erased person inside someone else's text.
ERASED = "[erased]"
# Shorter names ("A", "I") are words of every sentence: they are not looked for.
_SHORTEST_NAME = 2


def identifying_terms(user: User, *, names: bool = True) -> list[str]:
    """The person's addresses and (with `names`) full and display name, longest first."""
    terms = email_addresses_of(user)
    if names:
        terms |= {
            name.strip()
            for name in (user.full_name, user.display_name)
            if len(name.strip()) >= _SHORTEST_NAME
        }
    return sorted(terms, key=lambda term: (-len(term), term))


def scrub(text: str, terms: list[str]) -> str:
    """`text` with every whole-word mention of `terms` (any case) replaced by ERASED."""
    if not terms or not text:
        return text
    alternation = "|".join(re.escape(term) for term in terms)
    return re.sub(rf"(?<!\w)(?:{alternation})(?!\w)", ERASED, text, flags=re.IGNORECASE)


def mentioning(field: str, terms: list[str]) -> Q:
    """Rows whose `field` contains any of `terms` (any case): the rows to `scrub`."""
    condition = Q(pk__in=[])
    for term in terms:
        condition |= Q(**{f"{field}__icontains": term})
    return condition
