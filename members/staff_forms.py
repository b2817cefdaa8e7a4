"""The coordinators' search forms: the email outbox and the audit log (both GET forms)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import NotificationKind, NotificationState
from members.selectors import AuditFilters, OutboxFilters


def search_field(label, help_text=None) -> forms.CharField:
    """A free-text search box for a name, an address or part of one."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=200,
        help_text=help_text,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


def date_field(label, *, invalid, help_text=None) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": invalid},
    )


class OutboxFilterForm(forms.Form):
    recipient = search_field(_("Recipient"), _("An email address or a name, or part of one."))
    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), *NotificationState.choices],
        error_messages={"invalid_choice": _("Choose a status from the list.")},
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Any")), *NotificationKind.choices],
        error_messages={"invalid_choice": _("Choose a kind of message from the list.")},
    )

    def filters(self) -> OutboxFilters:
        data = self.cleaned_data
        return OutboxFilters(recipient=data["recipient"], state=data["state"], kind=data["kind"])


class AuditFilterForm(forms.Form):
    staff = search_field(_("Staff member"), _("A name or an email address, or part of one."))
    person = search_field(_("Whose data"), _("A name or an email address, or part of one."))
    group = search_field(_("Group"))
    since = date_field(_("From"), invalid=_("Enter a date such as 2026-01-31."))
    until = date_field(
        _("To"), invalid=_("Enter a date such as 2026-03-31."), help_text=_("The day is included.")
    )

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The last day is before the first day."))
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            staff=data["staff"],
            person=data["person"],
            group=data["group"],
            since=data["since"],
            until=data["until"],
        )

    def described(self) -> str:
        """The filters in a line, for the audit row that records an export."""
        parts = [
            f"{name}={value}"
            for name, value in self.cleaned_data.items()
            if value not in (None, "")
        ]
        return ", ".join(parts) or "all"
