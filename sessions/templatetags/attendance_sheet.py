"""The attendance sheet's rows, drawn in Python.

A sheet has a row per member, each with four radio buttons: drawn by the template
language, the rows were most of the page's time for a group of 80. The markup is what the
template gave; the labels are translated and escaped once per page, and each row escapes
the one value that comes from a person (their display name).
"""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from sessions.models import AttendanceStatus, RsvpStatus

register = template.Library()


class _RowDrawer:
    """Each person is a fieldset of four big radio buttons (each radio lies, invisible,
    over its own label, so a tap or a screen reader's touch finds it there). With htmx a
    tap posts this row alone and the answer replaces it; the radios keep their ids, so
    focus stays where it was."""

    def __init__(self, *, editable: bool, attendance_url: str):
        self.editable = editable
        self.post_url = escape(attendance_url)
        self.choices = [
            (str(value), escape(str(label))) for value, label in AttendanceStatus.choices
        ]
        self.tags = {
            RsvpStatus.CONFIRMED: escape(gettext("Said going")),
            RsvpStatus.WAITLISTED: escape(gettext("Waitlist")),
            RsvpStatus.DECLINED: escape(gettext("Said not going")),
        }
        self.saved = escape(gettext("Saved"))

    def row(self, row, *, saved: bool = False, error: str = "") -> str:
        user_id = row.user_id
        current = row.attendance_status or ""
        disabled = "" if self.editable else " disabled"
        choices = "".join(
            f'<div class="attendance-choice"><input type="radio" id="att-{user_id}-{value}"'
            f' name="status-{user_id}" value="{value}"{" checked" if value == current else ""}'
            f'{disabled} class="attendance-{value}"><label for="att-{user_id}-{value}">'
            f"{label}</label></div>"
            for value, label in self.choices
        )
        tag = self.tags.get(row.rsvp_status)
        parts = [
            f'<fieldset class="attendance-row" id="attendance-{user_id}"',
            (
                f' hx-post="{self.post_url}" hx-trigger="change"'
                f' hx-params="csrfmiddlewaretoken,status-{user_id}" hx-target="this"'
                ' hx-swap="outerHTML"'
                if self.editable
                else ""
            ),
            f'><legend><span class="attendee-name">{escape(row.display_name)}</span>',
            f' <span class="tag">{tag}</span>' if tag else "",
            "</legend>",
            f'<span class="attendance-saved">{self.saved}</span>' if saved else "",
            f'<input type="hidden" name="initial-{user_id}" value="{escape(current)}">',
            f'<div class="attendance-choices">{choices}</div>',
            f'<p class="attendance-error">{escape(error)}</p>' if error else "",
            "</fieldset>",
        ]
        return "".join(parts)


@register.simple_tag
def attendance_rows(sheet, *, editable: bool, attendance_url: str) -> SafeString:
    drawer = _RowDrawer(editable=editable, attendance_url=attendance_url)
    rows = "\n".join(drawer.row(row) for row in sheet)
    return mark_safe(rows)  # noqa: S308 - row() escapes every value it puts in


@register.simple_tag
def attendance_fieldset(
    row, *, editable: bool, attendance_url: str, saved: bool = False, error: str = ""
) -> SafeString:
    drawer = _RowDrawer(editable=editable, attendance_url=attendance_url)
    return mark_safe(drawer.row(row, saved=saved, error=error or ""))  # noqa: S308 - as above
