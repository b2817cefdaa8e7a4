"""When a meeting is, told where it happens: one tag per time instead of an include.

A meeting that has a place (in person or hybrid) is told on the clock of that place,
with its zone named, and the viewer's own clock beside it when the two differ:
"Tuesday 1 December 2026, 19:00–20:30 New York time (Wednesday 2 December, 01:00–02:30
your time)". An online meeting is told the other way round: the viewer's clock first,
the group's beside it. Each side carries the date of its own zone; the second side says
its date only when that is another day (or, with `on`, when it is not that day).

The viewer's zone is the active one: members/middleware.py activates the person's own
(or DEFAULT_VIEWER_TIME_ZONE for visitors) on pages, and members/notifications.py the
recipient's while an email renders.

Lists (my meetings, a group's meetings, the digest) draw this once per row. The tags read
only the row's own fields (start, end, time zone, format), never a relation, so they add
no query; zones and place names are looked up once per process.

Dates use the active language's MONTH_DAY_FORMAT and TIME_FORMAT (config/formats/en and
config/formats/it) with the weekday in front and the year after:
"Tuesday 1 December 2026" / "martedì 1 dicembre 2026". Django's Italian day and month
names are capitalised, as in a calendar heading; in a sentence Italian writes them in
lower case. Our catalogue lowers them for every date (config/formats/it/formats.py);
they are lowered here too for the languages in LOWER_CASE_DATE_NAMES, so that meeting
times read right whatever catalogue is installed.
"""

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext as _

register = template.Library()

# Formats with a place: told on the place's clock first (a hybrid meeting has a room).
PLACE_FIRST = frozenset({"in-person", "hybrid"})

# Languages that write weekday and month names in lower case ("martedì 1 dicembre").
LOWER_CASE_DATE_NAMES = frozenset({"it"})

# Places whose name in a time zone's identifier is not how every language writes it
# ("ora di Roma", not "ora di Rome"). Other zones read their city from the identifier.
PLACE_NAMES = {
    "Europe/Rome": pgettext_lazy("city in a time zone name", "Rome"),
    "Europe/London": pgettext_lazy("city in a time zone name", "London"),
    "Europe/Paris": pgettext_lazy("city in a time zone name", "Paris"),
    "Europe/Berlin": pgettext_lazy("city in a time zone name", "Berlin"),
    "Europe/Brussels": pgettext_lazy("city in a time zone name", "Brussels"),
    "Europe/Lisbon": pgettext_lazy("city in a time zone name", "Lisbon"),
    "Europe/Zurich": pgettext_lazy("city in a time zone name", "Zurich"),
    "Europe/Athens": pgettext_lazy("city in a time zone name", "Athens"),
    "Europe/Warsaw": pgettext_lazy("city in a time zone name", "Warsaw"),
    "Europe/Prague": pgettext_lazy("city in a time zone name", "Prague"),
    "Europe/Copenhagen": pgettext_lazy("city in a time zone name", "Copenhagen"),
    "Europe/Stockholm": pgettext_lazy("city in a time zone name", "Stockholm"),
    "Europe/Moscow": pgettext_lazy("city in a time zone name", "Moscow"),
    "America/Mexico_City": pgettext_lazy("city in a time zone name", "Mexico City"),
    "America/Sao_Paulo": pgettext_lazy("city in a time zone name", "São Paulo"),
}


@cache
def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@cache
def _place_from_identifier(name: str) -> str:
    """ "America/New_York" -> "New York", "America/Argentina/Buenos_Aires" -> "Buenos Aires"."""
    return name.rsplit("/", 1)[-1].replace("_", " ")


@register.filter
def zone_place(name: str) -> str:
    """The place a time zone is named after, in words and in the active language."""
    if not name:
        return ""
    if name == "UTC":
        return "UTC"
    translated = PLACE_NAMES.get(name)
    return str(translated) if translated is not None else _place_from_identifier(name)


def zone_label(name: str) -> str:
    """ "New York time" (Italian "ora di New York"); UTC is just "UTC"."""
    if name == "UTC":
        return "UTC"
    return _("%(place)s time") % {"place": zone_place(name)}


def _day_format(with_year: bool) -> str:
    month_day = formats.get_format("MONTH_DAY_FORMAT")
    return f"l {month_day} Y" if with_year else f"l {month_day}"


def _day_text(value: date | datetime, *, with_year: bool) -> str:
    """ "Tuesday 1 December 2026" / "martedì 1 dicembre 2026", in the active language."""
    text = formats.date_format(value, _day_format(with_year))
    language = (get_language() or "").split("-", 1)[0]
    return text.lower() if language in LOWER_CASE_DATE_NAMES else text


@register.filter
def day_in_words(value: date | None, with_year: bool = False) -> str:
    """A day as meeting times write it: "Wednesday 2 December" ("mercoledì 2 dicembre")."""
    return _day_text(value, with_year=bool(with_year)) if value else ""


def _side(start, end, zone, label, *, show_date: bool, with_year: bool) -> dict:
    local_start = start.astimezone(zone)
    times = formats.time_format(local_start, "TIME_FORMAT")
    if end is not None:
        times += "–" + formats.time_format(end.astimezone(zone), "TIME_FORMAT")
    return {
        "start": local_start,
        "date": _day_text(local_start, with_year=with_year) if show_date else "",
        "times": times,
        "label": label,
    }


def describe(
    start: datetime | None,
    end: datetime | None,
    *,
    time_zone: str | None,
    meeting_format: str,
    on: date | None = None,
    year: bool = True,
    plain: bool = False,
) -> SafeString | str:
    """A meeting time told as the module docstring says, as HTML or (plain) text."""
    if start is None:
        return ""
    viewer_zone = timezone.get_current_timezone()
    place_zone = _zone(time_zone)
    differ = place_zone is not None and (
        start.astimezone(place_zone).utcoffset() != start.astimezone(viewer_zone).utcoffset()
    )
    place = (place_zone, zone_label(time_zone)) if place_zone is not None else None
    viewer = (viewer_zone, _("your time") if differ else "")
    if place is not None and meeting_format in PLACE_FIRST:
        order = [place, viewer] if differ else [place]
    else:
        order = [viewer, place] if differ else [viewer]

    first_zone, first_label = order[0]
    first_day = start.astimezone(first_zone).date()
    first = _side(
        start,
        end,
        first_zone,
        first_label,
        show_date=on is None or first_day != on,
        with_year=year,
    )
    second = None
    if len(order) == 2:
        second_zone, second_label = order[1]
        second_day = start.astimezone(second_zone).date()
        second = _side(
            start,
            end,
            second_zone,
            second_label,
            show_date=second_day != (first_day if on is None else on),
            with_year=year and second_day.year != first_day.year,
        )
    return _as_text(first, second) if plain else _as_html(first, second)


def _as_text(first: dict, second: dict | None) -> str:
    def told(side):
        text = f"{side['date']}, {side['times']}" if side["date"] else side["times"]
        return f"{text} {side['label']}" if side["label"] else text

    text = told(first)
    return f"{text} ({told(second)})" if second is not None else text


def _as_html(first: dict, second: dict | None) -> SafeString:
    if first["date"]:
        html = format_html(
            '<time datetime="{}">{}, <span class="when-time">{}</span></time>',
            first["start"].isoformat(),
            first["date"],
            first["times"],
        )
    else:
        html = format_html(
            '<time datetime="{}" class="when-time">{}</time>',
            first["start"].isoformat(),
            first["times"],
        )
    if first["label"]:
        html = format_html("{} {}", html, first["label"])
    if second is not None:
        other = format_html(
            '<span class="when-time">{}</span> {}', second["times"], second["label"]
        )
        if second["date"]:
            other = format_html("{}, {}", second["date"], other)
        html = format_html('{} <span class="when-other">({})</span>', html, other)
    return html


@register.simple_tag
def meeting_when(
    meeting, *, on: date | None = None, year: bool = True, ends: bool = True, plain: bool = False
) -> SafeString | str:
    """A meeting's day and times, e.g. "Tuesday 8 December 2026, 19:00–20:30 Rome time".

    Takes a Meeting or any row with starts_at, ends_at, format and time_zone (without
    time_zone it tells the viewer's clock alone). `on`: a day the reader already knows
    (the digest's "tomorrow"), so dates are said only when they are another day;
    `ends=False` gives the start alone; `plain=True` gives text for emails.
    """
    return describe(
        meeting.starts_at,
        meeting.ends_at if ends else None,
        time_zone=getattr(meeting, "time_zone", None),
        meeting_format=meeting.format,
        on=on,
        year=year,
        plain=plain,
    )


@register.simple_tag
def next_meeting_when(group, *, year: bool = True) -> SafeString | str:
    """A group's next meeting start (`next_meeting_at`, annotated by its selectors).

    Told on the group's zone and format; a selector that also annotates the meeting's own
    `next_meeting_time_zone` and `next_meeting_format` has those used instead.
    """
    return describe(
        group.next_meeting_at,
        None,
        time_zone=getattr(group, "next_meeting_time_zone", None) or group.time_zone,
        meeting_format=getattr(group, "next_meeting_format", None) or group.format,
        year=year,
    )
