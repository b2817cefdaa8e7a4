"""Meetings for other programs: iCalendar feeds and the Meeting Guide JSON feed.

Builders only: each takes rows a selector already loaded (sessions/feed_selectors.py)
and never queries. What a feed may show follows the pages' rules:

- the member feed (a private, secret address) shows the venue address of every meeting;
- the group feed and the Meeting Guide feed are public: an address appears only when
  the facilitator made it public;
- no feed ever carries a video-call link or dial-in details. On the site members see the
  link only around the meeting (or always, by group setting); a calendar copy would
  outlive that rule and travel wherever the calendar is shared.

iCalendar: concrete events, never RRULE (clients disagree on exceptions), UID stable for a
meeting's whole life, SEQUENCE from the meeting (bumped by every change members are told
of), cancellations kept as STATUS:CANCELLED so clients remove them.

Meeting Guide: https://github.com/code4recovery/spec. One listing per upcoming series
(or one-off meeting). The format describes weekly meetings; any other rhythm is spelled
out in `notes` so a listing never misstates the schedule. See docs/meeting-guide.md.
"""

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule as du
from django.conf import settings
from django.utils import formats, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vDuration

from groups.models import Audience, GroupLanguage, JoinPolicy, SupportGroup, Topic
from sessions.feed_selectors import GuideRow
from sessions.models import AddressVisibility, Meeting, MeetingStatus, Place

PRODID = "-//Peer Support//Meetings//EN"
# The right-hand side of every event UID. A constant, never the request's host: a UID
# must not change when the site moves, or calendars would show every meeting twice.
UID_DOMAIN = "meetings.peer-support"
REFRESH_INTERVAL = timedelta(hours=1)


def event_uid(meeting: Meeting) -> str:
    return f"{meeting.uid}@{UID_DOMAIN}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# ---------------------------------------------------------------- iCalendar


def _location(meeting: Meeting, *, for_members: bool) -> str:
    if not meeting.has_venue:
        return _("Online") if meeting.is_online else ""
    if not for_members and meeting.address_visibility != AddressVisibility.PUBLIC:
        return ""
    return ", ".join(part for part in (meeting.venue_name, meeting.address) if part)


def _description(meeting: Meeting, *, for_members: bool, url: str) -> str:
    lines = []
    if meeting.is_cancelled:
        if for_members and meeting.cancel_reason:
            lines.append(_("Cancelled: %(reason)s") % {"reason": meeting.cancel_reason})
        else:
            lines.append(_("This meeting is cancelled."))
        lines.append(url)
        return "\n\n".join(lines)
    if meeting.is_online:
        lines.append(_("Members find the video link on the meeting page."))
    if meeting.has_venue:
        if for_members or meeting.address_visibility == AddressVisibility.PUBLIC:
            if meeting.access_notes:
                lines.append(meeting.access_notes)
        else:
            lines.append(_("The address is shared with the group's members."))
    lines.append(url)
    return "\n\n".join(lines)


def _event(meeting: Meeting, *, for_members: bool, base_url: str) -> Event:
    zone = _zone(meeting.time_zone)
    url = base_url + meeting.get_absolute_url()
    title = " ".join(meeting.display_title.split())  # a summary is one line
    if meeting.is_cancelled:
        # Clients that ignore STATUS still tell people not to come.
        title = _("Cancelled: %(title)s") % {"title": title}
    event = Event.new(
        uid=event_uid(meeting),
        sequence=meeting.sequence,
        start=meeting.starts_at.astimezone(zone),
        end=meeting.ends_at.astimezone(zone),
        stamp=meeting.updated_at.astimezone(UTC),
        last_modified=meeting.updated_at.astimezone(UTC),
        created=meeting.created_at.astimezone(UTC),
        summary=title,
        url=url,
        status="CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED",
        description=_description(meeting, for_members=for_members, url=url),
    )
    location = _location(meeting, for_members=for_members)
    if location:
        event.add("location", location)
    return event


def calendar_ics(
    meetings: Iterable[Meeting],
    *,
    name: str,
    calendar_key: str,
    base_url: str,
    for_members: bool,
) -> bytes:
    """An iCalendar file of concrete events, with a VTIMEZONE for every zone used.

    `calendar_key` names the feed for its stable calendar UID (not a secret, not the
    token); `base_url` is scheme and host, prefixed to each meeting's page.
    """
    calendar = Calendar.new(
        name=name,
        prodid=PRODID,
        uid=uuid.uuid5(uuid.NAMESPACE_URL, f"https://{UID_DOMAIN}/{calendar_key}"),
        refresh_interval=REFRESH_INTERVAL,
    )
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))  # Outlook's REFRESH-INTERVAL
    first: date | None = None
    last: date | None = None
    for meeting in meetings:
        calendar.add_component(_event(meeting, for_members=for_members, base_url=base_url))
        start, end = meeting.starts_at.date(), meeting.ends_at.date()
        first = start if first is None else min(first, start)
        last = end if last is None else max(last, end)
    if first is not None:
        # Only the transitions the events need, not 1970-2038 for every zone.
        calendar.add_missing_timezones(
            first_date=first - timedelta(days=2), last_date=last + timedelta(days=2)
        )
    return calendar.to_ical()


# ---------------------------------------------------------------- Meeting Guide

OPEN = "O"
CLOSED = "C"
ONLINE = "ONL"
WHEELCHAIR_ACCESS = "X"
# The spec's language codes for the languages a group can choose.
LANGUAGE_TYPES = {
    GroupLanguage.ENGLISH: "EN",
    GroupLanguage.ITALIAN: "ITA",
    GroupLanguage.SPANISH: "S",
    GroupLanguage.FRENCH: "FR",
    GroupLanguage.GERMAN: "DE",
}
# Our own codes. The spec lets a feed add types (importers ignore unknown ones) but asks
# that they never collide with present or proposed codes or ISO 639 language codes; the
# "PS-" prefix and the hyphens guarantee that.
IN_PERSON = "PS-IN-PERSON"
AUDIENCE_TYPES = {
    Audience.PATIENTS: ("PS-PATIENTS",),
    Audience.CAREGIVERS: ("PS-CAREGIVERS",),
    Audience.BOTH: ("PS-PATIENTS", "PS-CAREGIVERS"),
}
TOPIC_TYPES = {topic: f"PS-TOPIC-{topic.value.upper()}" for topic in Topic}
# Every code the feed can emit, with its meaning (docs/meeting-guide.md lists the same).
MEETING_GUIDE_TYPES = {
    OPEN: "Open: anyone can join the group (spec code)",
    CLOSED: "Closed: joining needs a facilitator's approval or an invitation (spec code)",
    ONLINE: "Meets online, or hybrid (code used by 12 Step Meeting List)",
    WHEELCHAIR_ACCESS: "Wheelchair access: the venue has step-free access (spec code)",
    **{code: f"Held in {language.label} (spec code)" for language, code in LANGUAGE_TYPES.items()},
    IN_PERSON: "Meets in a room: in person or hybrid",
    "PS-PATIENTS": "For people living with the condition",
    "PS-CAREGIVERS": "For family caregivers",
    **{code: f"Topic: {topic.label}" for topic, code in TOPIC_TYPES.items()},
}


LAST_DATE_SEARCH_LIMIT = 1000


def _position_word(position: int) -> str:
    words = {
        1: _("first"),
        2: _("second"),
        3: _("third"),
        4: _("fourth"),
        -1: _("last"),
    }
    return words.get(position, "")


def _long_date(value: date) -> str:
    return formats.date_format(value, "l j F Y")


def _rule_parts(rule: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in rule.split(";") if "=" in part)


def _last_local_date(row: GuideRow) -> date | None:
    """The date of the last meeting when the rule ends (COUNT or UNTIL), else None."""
    parts = _rule_parts(row.rule)
    if ("COUNT" not in parts and "UNTIL" not in parts) or row.starts_on is None:
        return None
    rule = du.rrulestr(row.rule, dtstart=datetime.combine(row.starts_on, row.start_time))
    occurrences = list(islice(rule, LAST_DATE_SEARCH_LIMIT + 1))
    if not occurrences or len(occurrences) > LAST_DATE_SEARCH_LIMIT:
        return None  # too far off to matter, and never a wrong date
    return occurrences[-1].date()


def _frequency_note(row: GuideRow, local_start: datetime) -> str:
    """A sentence for any rhythm other than 'every week', so the listing never misleads."""
    if row.rule is None:
        return _("Meets once, on %(date)s.") % {"date": _long_date(local_start.date())}
    parts = _rule_parts(row.rule)
    freq = parts.get("FREQ")
    interval = int(parts.get("INTERVAL", "1"))
    byday = parts.get("BYDAY", "")
    if freq == "WEEKLY" and "," not in byday:
        if interval == 1:
            return ""
        if interval == 2:
            return _("Meets every other week.")
        return _("Meets every %(count)s weeks.") % {"count": interval}
    if freq == "MONTHLY" and byday and byday[:-2]:
        weekday = WEEKDAYS[("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(byday[-2:])]
        values = {"position": _position_word(int(byday[:-2])), "weekday": weekday}
        if interval == 1:
            # Translators: e.g. "Meets on the second Tuesday of every month."
            return _("Meets on the %(position)s %(weekday)s of every month.") % values
        values["count"] = interval
        # Translators: e.g. "Meets on the second Tuesday of every 3 months."
        return _("Meets on the %(position)s %(weekday)s of every %(count)s months.") % values
    if freq == "MONTHLY" and parts.get("BYMONTHDAY"):
        days = parts["BYMONTHDAY"].split(",")
        day = max(int(value) for value in days)
        if len(days) > 1:
            text = _(
                "Meets on day %(day)s of every month, or the last day of shorter months, "
                "so the day of the week changes."
            )
        elif interval == 1:
            text = _("Meets on day %(day)s of every month, so the day of the week changes.")
        else:
            text = _(
                "Meets on day %(day)s of every %(count)s months, so the day of the week changes."
            )
        return text % {"day": day, "count": interval}
    return _("Meets on an irregular schedule: see the group's page for the dates.")


def _note_language(language: str) -> str:
    available = {code for code, _name in settings.LANGUAGES}
    return language if language in available else settings.LANGUAGE_CODE


def _guide_types(group: SupportGroup, place: Place) -> list[str]:
    types = [OPEN if group.join_policy == JoinPolicy.OPEN else CLOSED]
    if place.is_online:
        types.append(ONLINE)
    if place.has_venue:
        types.append(IN_PERSON)
        if place.step_free:
            types.append(WHEELCHAIR_ACCESS)
    if group.language in LANGUAGE_TYPES:
        types.append(LANGUAGE_TYPES[group.language])
    if group.topic in TOPIC_TYPES:
        types.append(TOPIC_TYPES[group.topic])
    types.extend(AUDIENCE_TYPES.get(group.audience, ()))
    return types


def _public_address(place: Place, group: SupportGroup) -> str:
    if not (place.has_venue and place.address):
        return ""
    if place.address_visibility != AddressVisibility.PUBLIC:
        return ""
    parts = [place.address]
    for extra in (group.city, group.country):
        if extra and extra.lower() not in place.address.lower():
            parts.append(extra)
    return ", ".join(parts)


def _guide_entry(row: GuideRow, base_url: str) -> dict:
    group, place = row.group, row.place
    zone = _zone(row.time_zone)
    local_start = row.next_start.astimezone(zone)
    if row.rule is None:
        start_time = local_start.time()
        end_time = row.next_end.astimezone(zone).time()
    else:
        start_time = row.start_time
        end_time = (
            datetime.combine(local_start.date(), row.start_time)
            + timedelta(minutes=row.duration_minutes)
        ).time()
    notes = [_frequency_note(row, local_start)]
    if row.rule is not None:
        last = _last_local_date(row)
        if last is not None:
            notes.append(_("The last meeting is on %(date)s.") % {"date": _long_date(last)})
    address = _public_address(place, group)
    if place.has_venue and not address:
        notes.append(_("The address is shared with members when they join."))
    if address and place.access_notes:
        notes.append(place.access_notes)
    if place.is_online:
        notes.append(_("Members receive the video link when they join."))
    entry = {
        "name": row.title[:255],
        "slug": row.key,
        # Python counts Monday as 0; the spec counts Sunday as 0.
        "day": (local_start.weekday() + 1) % 7,
        "time": start_time.strftime("%H:%M"),
        "end_time": end_time.strftime("%H:%M"),
        "timezone": row.time_zone,
        "types": _guide_types(group, place),
        "notes": "\n".join(note for note in notes if note),
        "group": group.name,
        "group_notes": group.summary,
        "url": base_url + group.get_absolute_url(),
        "updated": row.updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
    }
    if address:
        if place.venue_name:
            entry["location"] = place.venue_name
        entry["formatted_address"] = address
        entry["approximate"] = "no"
    else:
        # The spec wants some geography even for online meetings: the group's area.
        entry["formatted_address"] = group.area
        entry["approximate"] = "yes"
    region = group.city or group.region
    if region:
        entry["region"] = region
    return entry


def meeting_guide_entries(rows: Iterable[GuideRow], *, base_url: str) -> list[dict]:
    """The Meeting Guide JSON array; notes are written in each group's own language."""
    entries = []
    for row in rows:
        with translation.override(_note_language(row.group.language)):
            entries.append(_guide_entry(row, base_url))
    return entries
