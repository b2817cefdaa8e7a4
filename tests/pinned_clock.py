"""`pytest --pretend-today=YYYY-MM-DD`: run the whole session as if today were that date.

The clock is travelled in pytest_configure, before the test database is set up, to 10:00 UTC
of that date and keeps ticking from there. It proves that the suite holds on any day (see
STYLE.md, "Time in tests"); scripts/test runs the date-sensitive modules on a few hard days.
Only Python's clock moves: PostgreSQL's now() does not, so code passes Python's now to SQL.
"""

import argparse
from datetime import UTC, date, datetime, time

import pytest
import time_machine

TIME_OF_DAY = time(10, 0, tzinfo=UTC)
_travel = pytest.StashKey[time_machine.travel]()


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"wants YYYY-MM-DD, not {value!r}") from None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pretend-today",
        metavar="YYYY-MM-DD",
        type=_iso_date,
        default=None,
        help="run the session with the clock travelled to 10:00 UTC of that date (ticking)",
    )


def _pretended(config: pytest.Config) -> datetime | None:
    day = config.getoption("--pretend-today")
    return None if day is None else datetime.combine(day, TIME_OF_DAY)


def pytest_configure(config: pytest.Config) -> None:
    moment = _pretended(config)
    if moment is not None:
        travel = time_machine.travel(moment, tick=True)
        travel.start()
        config.stash[_travel] = travel


def pytest_unconfigure(config: pytest.Config) -> None:
    travel = config.stash.get(_travel, None)
    if travel is not None:
        travel.stop()
        del config.stash[_travel]


def pytest_report_header(config: pytest.Config) -> str | None:
    moment = _pretended(config)
    if moment is None:
        return None
    return f"pretend today: {moment:%Y-%m-%d} (clock travelled to {moment:%H:%M} UTC, ticking)"
