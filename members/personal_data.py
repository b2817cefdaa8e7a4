"""A registry through which every app contributes to a person's export and erasure.

Each app registers, in its AppConfig.ready(), a function returning the JSON-ready data
it holds about a person, and one that removes or anonymises it. The members app calls
them all, so new features join the export and the erasure by registering once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from members.models import User


@dataclass(frozen=True)
class PersonalDataSection:
    name: str
    export: Callable[[User], Any]
    erase: Callable[[User], None]


_sections: dict[str, PersonalDataSection] = {}


def register(name: str, *, export: Callable[[User], Any], erase: Callable[[User], None]) -> None:
    _sections[name] = PersonalDataSection(name=name, export=export, erase=erase)


def sections() -> list[PersonalDataSection]:
    return list(_sections.values())
