"""When a meeting is, in the viewer's time zone: one tag instead of an include.

Lists of meetings draw this once per meeting; as a tag it formats each time once.
"""

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def meeting_when(meeting) -> SafeString:
    """<time> with the day and the start–end times, e.g. "Tuesday 8 December 2026, 19:00–20:30"."""
    start = timezone.localtime(meeting.starts_at)
    end = timezone.localtime(meeting.ends_at)
    return format_html(
        '<time datetime="{}">{}, <span class="when-time">{}–{}</span></time>',
        start.isoformat(),
        formats.date_format(start, "l j F Y"),
        f"{start:%H:%M}",
        f"{end:%H:%M}",
    )
