"""Where a meeting is, and buttons that put meetings in the calendar apps people use.

Addresses. A meeting's `address` is what the facilitator typed ("Via Esempio 12"); the
town is the group's, added when the address does not name it already, so a stranger's
phone finds the right Via Roma. "Open in maps" is an OpenStreetMap search for that line:
it works in every browser, phone or desktop, without an account, and tells no advertiser
where a support group meets. (A geo: link needs coordinates, which we don't keep, and does
nothing in most desktop browsers.)

Calendar buttons. For one meeting: Google's and Outlook's "add event" pages, filled in from
the link, and Apple (and any other app) through the meeting's .ics download. For a feed (a
member's private calendar, a group's public one): Google's and Outlook's "subscribe" pages
and a webcal:// link that Apple Calendar and most phone calendars open directly.

What goes to Google or Microsoft. These links hand the meeting to a third party, so they
carry only what the person tapping them may see on the page: the title, the time, the
meeting page's address, and the exact place only for people allowed to see it (`show_address`:
members, or everyone when the facilitator made the address public). They never carry the
video link, as the .ics feeds don't: the link stays on the meeting page and in the reminder,
where the group's rule about when it opens holds. Someone who wants it in their calendar can
paste it there themselves.
"""

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

register = template.Library()

OSM_SEARCH = "https://www.openstreetmap.org/search"
GOOGLE_RENDER = "https://calendar.google.com/calendar/render"
OUTLOOK_COMPOSE = "https://outlook.live.com/calendar/0/action/compose"
OUTLOOK_ADD_FROM_WEB = "https://outlook.live.com/calendar/0/addfromweb"


def address_with_town(address: str, town: str) -> str:
    """The address, with the town after it unless the address already names it."""
    address, town = (address or "").strip(), (town or "").strip()
    if not town or town.casefold() in address.casefold():
        return address or town
    return f"{address}, {town}" if address else town


def maps_url(query: str) -> str:
    return f"{OSM_SEARCH}?{urlencode({'query': query})}" if query else ""


def _utc(moment: datetime, pattern: str) -> str:
    return moment.astimezone(UTC).strftime(pattern)


def _webcal(feed_url: str) -> str:
    return "webcal://" + feed_url.split("://", 1)[-1]


@register.simple_tag
def meeting_address(meeting, town: str = "") -> str:
    """The street address with the town: `{% meeting_address meeting group.city %}`."""
    return address_with_town(meeting.address, town)


@register.simple_tag
def meeting_maps_url(meeting, town: str = "") -> str:
    """An OpenStreetMap search for the venue's address (and town)."""
    return maps_url(address_with_town(meeting.address, town))


def event_links(
    *, title: str, starts_at: datetime, ends_at: datetime, details: str, location: str
) -> dict[str, str]:
    """Google's and Outlook's "add event" addresses for one event."""
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_utc(starts_at, '%Y%m%dT%H%M%SZ')}/{_utc(ends_at, '%Y%m%dT%H%M%SZ')}",
        "details": details,
        "location": location,
    }
    outlook = {
        "subject": title,
        "startdt": _utc(starts_at, "%Y-%m-%dT%H:%M:%SZ"),
        "enddt": _utc(ends_at, "%Y-%m-%dT%H:%M:%SZ"),
        "body": details,
        "location": location,
    }
    return {
        "google": f"{GOOGLE_RENDER}?{urlencode(google, quote_via=quote)}",
        "outlook": f"{OUTLOOK_COMPOSE}?{urlencode(outlook, quote_via=quote)}",
    }


def feed_links(*, feed_url: str, name: str) -> dict[str, str]:
    """Google's and Outlook's "subscribe" addresses for a feed, and its webcal:// link."""
    webcal = _webcal(feed_url)
    return {
        "google": f"{GOOGLE_RENDER}?{urlencode({'cid': webcal}, quote_via=quote)}",
        "outlook": (
            f"{OUTLOOK_ADD_FROM_WEB}?{urlencode({'url': feed_url, 'name': name}, quote_via=quote)}"
        ),
        "apple": webcal,
    }


@register.inclusion_tag("sessions/_calendar_links.html", takes_context=True)
def meeting_calendar_links(context, meeting, *, show_address: bool = False):
    """The buttons for one meeting; `show_address`: the viewer may see the exact place."""
    request = context["request"]
    page_url = request.build_absolute_uri(meeting.get_absolute_url())
    town = meeting.group.city
    details = [page_url]
    if meeting.is_online:
        details.append(_("Members find the video link on the meeting page."))
    if meeting.has_venue and show_address:
        place = [meeting.venue_name, address_with_town(meeting.address, town)]
        location = ", ".join(part for part in place if part)
    elif meeting.has_venue:
        location = town
    else:
        location = _("Online")
    links = event_links(
        title=meeting.display_title,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        details="\n\n".join(details),
        location=location,
    )
    return {
        "mode": "event",
        "heading_id": f"calendar-links-{meeting.pk}",
        "google_url": links["google"],
        "outlook_url": links["outlook"],
        "apple_url": reverse("meetings:ics", args=[meeting.pk]),
    }


@register.inclusion_tag("sessions/_calendar_links.html")
def feed_calendar_links(feed_url: str, name: str, field_id: str = "calendar-url"):
    """The subscribe buttons and the copyable address for a feed at `feed_url`."""
    links = feed_links(feed_url=feed_url, name=name)
    return {
        "mode": "feed",
        "heading_id": f"{field_id}-apps",
        "feed_url": feed_url,
        "field_id": field_id,
        "google_url": links["google"],
        "outlook_url": links["outlook"],
        "apple_url": links["apple"],
    }
