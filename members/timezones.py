"""The time zones a person can pick, grouped by region the way people look for them."""

import zoneinfo
from functools import cache

REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


@cache
def canonical_time_zones() -> frozenset[str]:
    return frozenset(
        name for name in zoneinfo.available_timezones() if name.split("/", 1)[0] in REGIONS
    ) | {"UTC"}


@cache
def time_zone_choices() -> list:
    """Choices grouped by region (rendered as <optgroup>s), UTC first."""
    grouped: dict[str, list[tuple[str, str]]] = {region: [] for region in REGIONS}
    for name in sorted(canonical_time_zones() - {"UTC"}):
        region, place = name.split("/", 1)
        grouped[region].append((name, place.replace("_", " ").replace("/", " / ")))
    return [("UTC", "UTC"), *((region, places) for region, places in grouped.items() if places)]


def is_valid_time_zone(name: str) -> bool:
    return name in canonical_time_zones()
