"""Recurrence rules (RFC 5545 RRULE via python-dateutil), evaluated in local time.

A rule is expanded on naive local datetimes (wall-clock time in the group's time
zone) and each occurrence is then placed in that zone, so a 19:00 meeting stays at
19:00 across daylight-saving changes. A wall-clock time that does not exist on the
day the clocks go forward is moved forward by the gap (02:30 becomes 03:30).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil import rrule as du

WEEKDAYS = (du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU)
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Frequency:
    ONCE = "once"
    WEEKLY = "weekly"
    MONTHLY_WEEKDAY = "monthly-weekday"
    MONTHLY_DATE = "monthly-date"


@dataclass(frozen=True)
class Schedule:
    """What a facilitator chose on the form, before it becomes an RRULE."""

    frequency: str
    starts_on: date
    start_time: time
    interval: int = 1
    week_of_month: int | None = None  # 1..4, or -1 for "last"
    weekday: int | None = None  # 0 (Monday) .. 6; monthly by weekday, else the first date's
    until: date | None = None
    count: int | None = None


def rrule_text(schedule: Schedule) -> str:
    """The RRULE (without DTSTART) for a schedule.

    A weekly rule falls on the weekday of the first date. A monthly-by-weekday rule says
    its weekday and week ("2TU"); its first meeting is the first such day on or after the
    first date. (Without them, as older callers give it, both come from the first date.)
    """
    weekday = WEEKDAY_CODES[schedule.starts_on.weekday()]
    if schedule.frequency == Frequency.ONCE:
        parts = ["FREQ=DAILY", "COUNT=1"]
    elif schedule.frequency == Frequency.WEEKLY:
        parts = ["FREQ=WEEKLY", f"INTERVAL={schedule.interval}", f"BYDAY={weekday}"]
    elif schedule.frequency == Frequency.MONTHLY_WEEKDAY:
        position = schedule.week_of_month or week_of_month(schedule.starts_on)
        if schedule.weekday is not None:
            weekday = WEEKDAY_CODES[schedule.weekday]
        parts = ["FREQ=MONTHLY", f"INTERVAL={schedule.interval}", f"BYDAY={position}{weekday}"]
    elif schedule.frequency == Frequency.MONTHLY_DATE:
        parts = [
            "FREQ=MONTHLY",
            f"INTERVAL={schedule.interval}",
            *month_day_parts(schedule.starts_on.day),
        ]
    else:
        raise ValueError(f"Unknown frequency {schedule.frequency!r}")
    if schedule.frequency != Frequency.ONCE:
        if schedule.until is not None:
            parts.append(f"UNTIL={schedule.until:%Y%m%d}T235959")
        elif schedule.count is not None:
            parts.append(f"COUNT={schedule.count}")
    return ";".join(parts)


def month_day_parts(day: int) -> list[str]:
    """The RRULE parts for "monthly on this day of the month"."""
    if day > 28:
        # "Every 31st": in shorter months, the last day of the month.
        days = ",".join(str(d) for d in range(28, day + 1))
        return [f"BYMONTHDAY={days}", "BYSETPOS=-1"]
    return [f"BYMONTHDAY={day}"]


def week_of_month(day: date) -> int:
    """1 for the first such weekday of its month ... 4; 5th weeks count as 'last' (-1)."""
    number = (day.day - 1) // 7 + 1
    return -1 if number >= 5 else number


def is_last_weekday_of_month(day: date) -> bool:
    return (day + timedelta(days=7)).month != day.month


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Place a naive wall-clock time in a zone and return it in UTC.

    With fold=0 (PEP 495) an ambiguous time (clocks going back) is the first, summer
    time, instant, and a time in the spring-forward gap is read with the offset from
    before the change, which moves it forward by the gap.
    """
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def occurrences(
    *,
    rule: str,
    starts_on: date,
    start_time: time,
    time_zone: str,
    after: datetime | None = None,
    before: datetime,
) -> list[datetime]:
    """UTC start instants of the rule's occurrences in [after, before)."""
    zone = ZoneInfo(time_zone)
    dtstart = datetime.combine(starts_on, start_time)
    parsed = du.rrulestr(rule, dtstart=dtstart)
    # Search in local wall-clock time, with a day's slack for the zone offset.
    local_before = before.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    local_after = (
        after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1) if after else dtstart
    )
    found = []
    for local in parsed.between(local_after, local_before, inc=True):
        instant = to_utc(local, zone)
        if (after is None or instant >= after) and instant < before:
            found.append(instant)
    return found


def rule_yields_any(*, rule: str, starts_on: date, start_time: time) -> bool:
    parsed = du.rrulestr(rule, dtstart=datetime.combine(starts_on, start_time))
    return parsed.after(datetime.combine(starts_on, start_time), inc=True) is not None


def rule_until(rule: str, last_local: datetime) -> str:
    """The same rule ending at `last_local` (inclusive), dropping COUNT or UNTIL."""
    parts = [p for p in rule.split(";") if not p.startswith(("UNTIL=", "COUNT="))]
    parts.append(f"UNTIL={last_local:%Y%m%dT%H%M%S}")
    return ";".join(parts)


def describe(rule: str, starts_on: date) -> dict:
    """The parts of a rule a person reads: frequency, interval, position, end."""
    fields = dict(part.split("=", 1) for part in rule.split(";"))
    return {
        "freq": fields.get("FREQ"),
        "interval": int(fields.get("INTERVAL", "1")),
        "byday": fields.get("BYDAY", ""),
        "bymonthday": fields.get("BYMONTHDAY", ""),
        "until": fields.get("UNTIL"),
        "count": int(fields["COUNT"]) if "COUNT" in fields else None,
        "weekday": starts_on.weekday(),
    }


def first_occurrences(
    *, rule: str, starts_on: date, start_time: time, time_zone: str, limit: int
) -> list[datetime]:
    """The UTC start instants of the rule's first `limit` occurrences."""
    zone = ZoneInfo(time_zone)
    parsed = du.rrulestr(rule, dtstart=datetime.combine(starts_on, start_time))
    return [to_utc(local, zone) for local in islice(parsed, limit)]


def occurrence_count(*, rule: str, starts_on: date, start_time: time) -> int | None:
    """How many meetings a rule gives in all; None for a rule without an end."""
    if "COUNT=" not in rule and "UNTIL=" not in rule:
        return None
    return du.rrulestr(rule, dtstart=datetime.combine(starts_on, start_time)).count()


def schedule_of(rule: str, starts_on: date, start_time: time) -> Schedule:
    """The schedule a stored rule was made from (the inverse of rrule_text)."""
    fields = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    freq = fields.get("FREQ")
    byday = fields.get("BYDAY", "")
    until = fields.get("UNTIL")
    common = {
        "starts_on": starts_on,
        "start_time": start_time,
        "interval": int(fields.get("INTERVAL", "1")),
        "until": datetime.strptime(until[:8], "%Y%m%d").date() if until else None,
        "count": int(fields["COUNT"]) if "COUNT" in fields else None,
    }
    if freq == "DAILY" and common["count"] == 1:
        return Schedule(frequency=Frequency.ONCE, **{**common, "count": None})
    if freq == "WEEKLY":
        return Schedule(frequency=Frequency.WEEKLY, **common)
    if freq == "MONTHLY" and byday:
        return Schedule(
            frequency=Frequency.MONTHLY_WEEKDAY,
            week_of_month=int(byday[:-2] or week_of_month(starts_on)),
            weekday=WEEKDAY_CODES.index(byday[-2:]),
            **common,
        )
    return Schedule(frequency=Frequency.MONTHLY_DATE, **common)


def wall_clock(instant: datetime, time_zone: str) -> datetime:
    """The naive local time of an instant in a zone.

    Templates convert aware datetimes to the viewer's zone; a naive one is shown as is,
    which is what "19:00 in the group's time zone" needs.
    """
    return instant.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
