"""Open items from other areas on the programme overview, as those areas arrive.

An app that has something a coordinator should act on registers a provider, usually in
its AppConfig.ready():

    from outcomes.open_items import OpenItem, register

    @register
    def undelivered_emails(scope, now):
        count = ...  # one aggregate query, limited to scope.groups()
        return [OpenItem(area=_("Notifications"), label=_("Emails not delivered"),
                         count=count, url=reverse("notifications:failed"))] if count else []

A provider gets the viewer's outcomes.reports.Scope and the current time, must cost a fixed
number of queries, and returns counts of things (not of people: a count of people belongs
in a report, where it is suppressed under five).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class OpenItem:
    area: str
    label: str
    count: int
    url: str = ""


Provider = Callable[[object, datetime], list[OpenItem]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def open_items(scope, now: datetime) -> list[OpenItem]:
    items: list[OpenItem] = []
    for provider in _providers:
        items.extend(provider(scope, now))
    return items
