from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from members.models import ConsentKind, Language, NotificationPreferences, User
from members.names import PlainTextMixin, normalise_display_name, validate_display_name
from members.services import consents_update
from members.timezones import time_zone_choices


class DisplayNameField(forms.CharField):
    """A display name as peers will see it: normalised first (NFKC, one space between
    words), then checked, so that the length limit counts what is stored."""

    default_validators = [validate_display_name]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", User._meta.get_field("display_name").max_length)
        super().__init__(**kwargs)
        # validate_display_name already refuses a null byte, with a message of its own.
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(validator, ProhibitNullCharactersValidator)
        ]

    def to_python(self, value):
        return normalise_display_name(super().to_python(value))


class SignupProfileForm(forms.Form):
    """Extra fields on allauth's signup form: what peers see and how we talk to you.

    allauth's SignupForm subclasses this form and adds its password fields last; it then
    applies field_order, which puts the consents after the passwords, just before the button.
    """

    field_order = [
        "email",
        "display_name",
        "time_zone",
        "language",
        "password1",
        "password2",
        "accept_terms",
        "email_contact",
        "research_use",
    ]

    display_name = DisplayNameField(
        label=_("Display name"),
        help_text=_("How other members see you. A first name or a nickname is fine."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        initial="Europe/Rome",
        help_text=_("Meeting times are shown in this time zone."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    accept_terms = forms.BooleanField(
        label=_("I accept the terms of use and the privacy notice"),
        required=True,
    )
    email_contact = forms.BooleanField(
        label=_("Email me about my groups and meetings (reminders, changes, answers)"),
        required=False,
        initial=True,
    )
    research_use = forms.BooleanField(
        label=_(
            "Use my survey answers, without my name, in programme reports for funders "
            "and clinical partners (optional)"
        ),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = (translation.get_language() or "en")[:2]
        if current in Language.values:
            self.fields["language"].initial = current
        # Built per request: the link's address and words follow the active language.
        self.fields["accept_terms"].help_text = format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("privacy"),
            _("Read the terms of use and the privacy notice (opens in a new tab)"),
        )

    def signup(self, request, user: User) -> None:
        user.display_name = self.cleaned_data["display_name"].strip()
        user.time_zone = self.cleaned_data["time_zone"]
        user.language = self.cleaned_data["language"]
        user.save(update_fields=["display_name", "time_zone", "language"])
        consents_update(
            user=user,
            choices={
                ConsentKind.TERMS: True,
                ConsentKind.EMAIL_CONTACT: self.cleaned_data["email_contact"],
                ConsentKind.RESEARCH_USE: self.cleaned_data["research_use"],
            },
        )


class ProfileForm(PlainTextMixin, forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = User
        fields = ["display_name", "full_name", "time_zone", "language"]
        field_classes = {"display_name": DisplayNameField}
        widgets = {
            "display_name": forms.TextInput(attrs={"autocomplete": "nickname"}),
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
        }


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class ConsentForm(forms.Form):
    """The optional consents, each one a free choice that can be changed at any time."""

    email_contact = forms.BooleanField(
        label=_("Email me about my groups and meetings (reminders, changes, answers)"),
        required=False,
    )
    research_use = forms.BooleanField(
        label=_(
            "Use my survey answers, without my name, in programme reports for funders "
            "and clinical partners"
        ),
        required=False,
    )


class AccountDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account and my personal data will be erased for good"),
        required=True,
    )


class NotificationPreferencesForm(forms.ModelForm):
    """A person's email choices, grouped; facilitators' kinds only for people who facilitate.

    Fields left out of the form (the facilitator kinds, for everyone else) are not
    touched when it is saved, so a choice made while facilitating is kept for next time.
    """

    FACILITATOR_FIELDS = ("join_request", "facilitator_digest", "member_erased", "attendance_due")
    GROUPS = (
        (
            _("Reminders"),
            (
                "reminder_day_before",
                "reminder_day_before_hour",
                "reminder_hour_before",
                "attach_calendar",
            ),
        ),
        (
            _("Changes to my meetings and groups"),
            ("meeting_changed", "waitlist_promoted", "request_decided"),
        ),
        (_("For facilitators"), FACILITATOR_FIELDS),
    )

    reminder_day_before_hour = forms.TypedChoiceField(
        label=_("At what time the day before"),
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(6, 23)],
        # static/js/preferences.js shows the hour only while the day-before reminder is on.
        widget=forms.Select(attrs={"data-shown-with": "id_reminder_day_before"}),
    )

    class Meta:
        model = NotificationPreferences
        fields = [
            "reminder_day_before",
            "reminder_day_before_hour",
            "reminder_hour_before",
            "attach_calendar",
            "meeting_changed",
            "waitlist_promoted",
            "request_decided",
            "join_request",
            "facilitator_digest",
            "member_erased",
            "attendance_due",
        ]

    def __init__(self, *args, facilitates: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not facilitates:
            for name in self.FACILITATOR_FIELDS:
                del self.fields[name]

    def groups(self) -> list[tuple[str, list]]:
        """(legend, bound fields) for each group that has a field in this form."""
        grouped = [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.GROUPS
        ]
        return [(legend, fields) for legend, fields in grouped if fields]
