"""Lists of past meetings for pages composed elsewhere (a group's page, its manage page,
the home page), and the sentence that says when a register opens.

`{% recent_meetings group viewer %}`: the group's latest meetings that have started.
The group's staff see each register's state and a link to take or finish it; members
see a plain list they can open, with their own mark. Anyone else sees nothing.

`{% registers_waiting user %}`: the registers of the last 14 days still waiting for the
person as a facilitator; nothing at all when there are none.
"""

from datetime import timedelta

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from groups import selectors as group_selectors
from groups.models import MembershipStatus
from members import permissions
from sessions import selectors, services
from sessions.templatetags.meeting_time import day_in_words

register = template.Library()


@register.inclusion_tag("sessions/_recent_meetings.html")
def recent_meetings(group, viewer):
    if not getattr(viewer, "is_authenticated", False):
        return {"meetings": []}
    membership = group_selectors.membership_of(viewer, group)
    is_staff = permissions.allowed(viewer, "group.manage", group, membership=membership)
    is_member = membership is not None and membership.status == MembershipStatus.ACTIVE
    if not (is_staff or is_member):
        return {"meetings": []}
    meetings = selectors.recent_meetings_of(group, viewer=viewer)
    now = timezone.now()
    for meeting in meetings:
        meeting.register_open = services.attendance_editable(meeting, now)
    return {"meetings": meetings, "is_staff": is_staff}


@register.inclusion_tag("sessions/_registers_waiting.html")
def registers_waiting(user):
    return {"meetings": selectors.registers_waiting_for(user)}


def register_opens_text(meeting, *, now=None) -> str:
    """ "The register opens today at 16:00.", on the viewer's clock."""
    opens = timezone.localtime(services.attendance_opens_at(meeting))
    today = timezone.localtime(now or timezone.now()).date()
    at = formats.time_format(opens, "TIME_FORMAT")
    if opens.date() == today:
        return _("The register opens today at %(time)s.") % {"time": at}
    if opens.date() == today + timedelta(days=1):
        return _("The register opens tomorrow at %(time)s.") % {"time": at}
    return _("The register opens on %(day)s at %(time)s.") % {
        "day": day_in_words(opens.date()),
        "time": at,
    }


@register.simple_tag
def register_opens(meeting) -> str:
    return register_opens_text(meeting)
