"""The coordinators' search forms: the email outbox and the audit log (both GET forms)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import NotificationKind, NotificationState
from members.selectors import AuditFilters, OutboxFilters


class OutboxFilterForm(forms.Form):
    recipient = forms.CharField(
        label=_("Recipient"),
        required=False,
        max_length=200,
        help_text=_("An email address or a name, or part of one."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
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
    staff = forms.CharField(
        label=_("Staff member"),
        required=False,
        max_length=200,
        help_text=_("A name or an email address, or part of one."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    person = forms.CharField(
        label=_("Whose data"),
        required=False,
        max_length=200,
        help_text=_("A name or an email address, or part of one."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    group = forms.CharField(
        label=_("Group"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date such as 2026-01-31.")},
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day is included."),
        error_messages={"invalid": _("Enter a date such as 2026-03-31.")},
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
