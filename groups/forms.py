import copy

from django import forms
from django.core.validators import MinValueValidator
from django.utils.translation import gettext_lazy as _

from groups.models import STAFF_ROLES, Audience, Format, GroupLanguage, Role, SupportGroup, Topic
from members.models import User
from members.names import PlainTextMixin

RESERVED_SLUGS = {"new", "invitation"}


ANY = _("Any")


def _with_any(choices):
    return [("", ANY), *choices]


class DirectoryFilterForm(forms.Form):
    """The directory's filters; invalid values are ignored rather than failing the page."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("A condition, a place or words from the group's name, e.g. dementia Italy."),
    )
    upcoming = forms.BooleanField(label=_("Only groups with a meeting coming up"), required=False)
    topic = forms.ChoiceField(
        label=_("Condition or topic"), required=False, choices=_with_any(Topic.choices)
    )
    audience = forms.ChoiceField(
        label=_("Who it is for"), required=False, choices=_with_any(Audience.choices)
    )
    format = forms.ChoiceField(label=_("Format"), required=False, choices=_with_any(Format.choices))
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=_with_any(GroupLanguage.choices)
    )
    area = forms.CharField(label=_("Town, region or country"), required=False, max_length=80)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search"})
        self.fields["q"].widget.input_type = "search"

    def applied_labels(self) -> list[str]:
        """What each applied filter says, in words: "Who it is for: Family caregivers"."""
        labels = []
        for key, value in self.filters().items():
            field = self.fields[key]
            if isinstance(field, forms.BooleanField):
                labels.append(str(field.label))
            elif isinstance(field, forms.ChoiceField):
                labels.append(f"{field.label}: {dict(field.choices).get(value, value)}")
            else:
                labels.append(f"{field.label}: {value}")
        return labels

    def filters(self) -> dict:
        if not self.is_bound:
            return {}
        if self.is_valid():
            return {key: value for key, value in self.cleaned_data.items() if value}
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if value and key not in self.errors
        }


class JoinForm(forms.Form):
    accept_conduct = forms.BooleanField(
        label=_("I have read the code of conduct and I agree to follow it"),
        required=True,
        error_messages={
            "required": _(
                "Tick the box to agree to the code of conduct: every member of the group "
                "agrees to it before joining."
            )
        },
    )
    contact_shared = forms.BooleanField(
        label=_("Share my email address with the group's facilitators"),
        required=False,
        help_text=_("Optional. Lets them contact you directly about the group."),
    )
    conduct_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class JoinRequestForm(PlainTextMixin, JoinForm):
    message = forms.CharField(
        label=_("A message to the facilitators (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example, what brings you to the group. Up to 500 characters."),
    )


class ConductAcceptForm(forms.Form):
    accept_conduct = forms.BooleanField(
        label=_("I have read the new code of conduct and I agree to follow it"), required=True
    )
    conduct_version = forms.IntegerField(widget=forms.HiddenInput)


class DeclineForm(PlainTextMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional, shown to the person)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, manages_staff: bool = True, **kwargs):
        """Co-facilitators are offered the roles they may give: member and peer moderator."""
        super().__init__(*args, **kwargs)
        if not manages_staff:
            self.fields["role"].choices = [
                (value, label) for value, label in Role.choices if value not in STAFF_ROLES
            ]


class RosterSearchForm(forms.Form):
    q = forms.CharField(label=_("Find a person by name"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address of the person to invite"))


class SupportGroupForm(PlainTextMixin, forms.ModelForm):
    class Meta:
        model = SupportGroup
        fields = [
            "name",
            "summary",
            "description",
            "topic",
            "audience",
            "format",
            "language",
            "city",
            "region",
            "country",
            "time_zone",
            "visibility",
            "join_policy",
            "capacity",
            "status",
            "contact_email",
            "video_link_policy",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, instance=None, **kwargs):
        # Validation writes what was typed onto the form's instance: a copy keeps the
        # view's group as saved, so a refused edit's page still names it as it is.
        super().__init__(*args, instance=copy.copy(instance), **kwargs)
        # The column takes no capacity under 1: say so for 0 and for -3 alike.
        capacity = self.fields["capacity"]
        capacity.min_value = 1
        capacity.validators = [
            validator
            for validator in capacity.validators
            if not isinstance(validator, MinValueValidator)
        ] + [MinValueValidator(1)]
        capacity.widget.attrs["min"] = 1

    def clean_country(self):
        return self.cleaned_data["country"].upper()


class SupportGroupCreateForm(SupportGroupForm):
    slug = forms.SlugField(
        label=_("Web address"),
        max_length=80,
        help_text=_("Lower-case letters, numbers and hyphens, e.g. diabetes-milano."),
    )
    facilitator_email = forms.EmailField(
        label=_("Facilitator's email address"),
        help_text=_("The person must already have an account."),
    )
    code_of_conduct = forms.CharField(
        label=_("Code of conduct"), widget=forms.Textarea(attrs={"rows": 6})
    )

    class Meta(SupportGroupForm.Meta):
        fields = ["slug", *SupportGroupForm.Meta.fields]

    def clean_slug(self):
        slug = self.cleaned_data["slug"].lower()
        if slug in RESERVED_SLUGS:
            raise forms.ValidationError(_("That web address is reserved; choose another."))
        if SupportGroup.objects.filter(slug=slug).exists():
            raise forms.ValidationError(_("Another group already uses that web address."))
        return slug

    def clean_facilitator_email(self):
        email = self.cleaned_data["facilitator_email"].lower()
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("Nobody with that email address has an account."))
        self.facilitator = user
        return email


class CodeOfConductForm(PlainTextMixin, forms.Form):
    text = forms.CharField(label=_("Code of conduct"), widget=forms.Textarea(attrs={"rows": 10}))
