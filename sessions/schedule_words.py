"""A schedule told in words, and its next dates: what the schedule form shows before saving
and the series page after it.

"Every second Tuesday of the month at 19:00 New York time, from 9 March 2027, 6 meetings."
The dates are told by the meeting_time tags, so each shows the group's clock and the
viewer's when the two differ.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from django.utils import formats
from django.utils.dates import WEEKDAYS
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _

from sessions import recurrence
from sessions.models import MeetingFormat
from sessions.templatetags.meeting_time import LOWER_CASE_DATE_NAMES, zone_label

# How many dates the preview and the series page list.
PREVIEW_DATES = 5

# A format meeting_time tells on the place's clock first.
GROUP_CLOCK_FIRST = MeetingFormat.IN_PERSON

# "Every second Tuesday of the month": the position of a weekday in its month.
POSITION_WORDS = {
    1: gettext_lazy("first"),
    2: gettext_lazy("second"),
    3: gettext_lazy("third"),
    4: gettext_lazy("fourth"),
    -1: gettext_lazy("last"),
}


def _lower_case_names() -> bool:
    return (get_language() or "").split("-", 1)[0] in LOWER_CASE_DATE_NAMES


def weekday_name(weekday: int) -> str:
    """ "Tuesday" ("martedì"), as a sentence writes it in the active language."""
    name = str(WEEKDAYS[weekday])
    return name.lower() if _lower_case_names() else name


def day_text(day: date) -> str:
    """ "9 March 2027" ("9 marzo 2027")."""
    text = formats.date_format(day, f"{formats.get_format('MONTH_DAY_FORMAT')} Y")
    return text.lower() if _lower_case_names() else text


def _rule_words(schedule: recurrence.Schedule, first_day: date) -> str:
    interval = schedule.interval or 1
    if schedule.frequency == recurrence.Frequency.WEEKLY:
        return ngettext("Every %(weekday)s", "Every %(count)s weeks on %(weekday)s", interval) % {
            "count": interval,
            "weekday": weekday_name(first_day.weekday()),
        }
    if schedule.frequency == recurrence.Frequency.MONTHLY_WEEKDAY:
        weekday = schedule.weekday if schedule.weekday is not None else first_day.weekday()
        position = schedule.week_of_month or recurrence.week_of_month(first_day)
        return ngettext(
            "Every %(position)s %(weekday)s of the month",
            "Every %(count)s months on the %(position)s %(weekday)s",
            interval,
        ) % {
            "count": interval,
            "position": POSITION_WORDS[position],
            "weekday": weekday_name(weekday),
        }
    return ngettext(
        "Every month on day %(day)s", "Every %(count)s months on day %(day)s", interval
    ) % {"count": interval, "day": schedule.starts_on.day}


def sentence(
    schedule: recurrence.Schedule, *, time_zone: str, first_day: date, total: int | None
) -> str:
    """The whole schedule in one sentence, from the first meeting's day."""
    clock = formats.time_format(schedule.start_time, "TIME_FORMAT")
    zone = zone_label(time_zone)
    if schedule.frequency == recurrence.Frequency.ONCE:
        return _("Once, on %(day)s at %(time)s %(zone)s.") % {
            "day": day_text(first_day),
            "time": clock,
            "zone": zone,
        }
    words = _("%(rule)s at %(time)s %(zone)s, from %(day)s") % {
        "rule": _rule_words(schedule, first_day),
        "time": clock,
        "zone": zone,
        "day": day_text(first_day),
    }
    parts = [words]
    if schedule.until is not None:
        parts.append(_("until %(day)s") % {"day": day_text(schedule.until)})
    if total is not None:
        parts.append(ngettext("%(count)s meeting", "%(count)s meetings", total) % {"count": total})
    else:
        parts.append(_("with no end date"))
    return ", ".join(parts) + "."


@dataclass(frozen=True)
class Preview:
    sentence: str
    dates: list  # rows the meeting_when tag tells: starts_at, ends_at, time_zone, format
    total: int | None  # None: no end
    more: bool  # the series goes on after the dates listed


def preview(
    schedule: recurrence.Schedule,
    *,
    time_zone: str,
    duration_minutes: int,
    rule: str | None = None,
) -> Preview | None:
    """The sentence and the next dates of a schedule; None when it gives no meeting."""
    rule = rule or recurrence.rrule_text(schedule)
    starts = recurrence.first_occurrences(
        rule=rule,
        starts_on=schedule.starts_on,
        start_time=schedule.start_time,
        time_zone=time_zone,
        limit=PREVIEW_DATES + 1,
    )
    if not starts:
        return None
    total = recurrence.occurrence_count(
        rule=rule, starts_on=schedule.starts_on, start_time=schedule.start_time
    )
    first_day = recurrence.wall_clock(starts[0], time_zone).date()
    length = timedelta(minutes=duration_minutes)
    # The form's times are on the group's clock, so the preview tells that clock first
    # (as meeting_time does for a meeting with a place), the viewer's beside it.
    dates = [
        SimpleNamespace(
            starts_at=start, ends_at=start + length, time_zone=time_zone, format=GROUP_CLOCK_FIRST
        )
        for start in starts[:PREVIEW_DATES]
    ]
    return Preview(
        sentence=sentence(schedule, time_zone=time_zone, first_day=first_day, total=total),
        dates=dates,
        total=total,
        more=len(starts) > PREVIEW_DATES,
    )


def series_words(series, *, first_start: datetime | None = None) -> str:
    """A saved series' schedule in words (its rule read back)."""
    schedule = recurrence.schedule_of(series.rrule, series.starts_on, series.start_time)
    first_day = (
        recurrence.wall_clock(first_start, series.time_zone).date()
        if first_start is not None
        else series.starts_on
    )
    total = recurrence.occurrence_count(
        rule=series.rrule, starts_on=series.starts_on, start_time=series.start_time
    )
    return sentence(schedule, time_zone=series.time_zone, first_day=first_day, total=total)
