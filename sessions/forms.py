from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django import forms
from django.utils import formats, timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from members.names import PlainTextMixin
from sessions import recurrence, schedule_words
from sessions.models import AddressVisibility, MeetingFormat
from sessions.services import PLACE_FIELDS, MeetingPlan, Scope


class FrequencyChoice:
    CHOICES = [
        (recurrence.Frequency.ONCE, _("Once")),
        (recurrence.Frequency.WEEKLY, _("Every week, or every few weeks")),
        (recurrence.Frequency.MONTHLY_WEEKDAY, _("Monthly on a weekday (e.g. the 2nd Tuesday)")),
        (recurrence.Frequency.MONTHLY_DATE, _("Monthly on a date (e.g. the 15th)")),
    ]


WEEK_OF_MONTH_CHOICES = [
    ("", _("Choose a week")),
    ("1", _("First")),
    ("2", _("Second")),
    ("3", _("Third")),
    ("4", _("Fourth")),
    ("-1", _("Last")),
]

WEEKDAY_CHOICES = [("", _("Choose a day")), *((str(day), WEEKDAYS[day]) for day in range(7))]

END_CHOICES = [
    ("never", _("No end date")),
    ("until", _("Until a date")),
    ("count", _("After a number of meetings")),
]

# How far ahead a meeting may be put: far enough for any programme's planning, and near
# enough that every date and time computed from it stays a real one.
FURTHEST_AHEAD = relativedelta(years=2)


def furthest_day() -> date:
    return timezone.localdate() + FURTHEST_AHEAD


def too_far_ahead(day: date | None) -> bool:
    return day is not None and day > furthest_day()


def too_far_ahead_error() -> forms.ValidationError:
    return forms.ValidationError(
        _("Choose a date no later than %(day)s (two years from today)."),
        code="too_far_ahead",
        params={"day": formats.date_format(furthest_day(), "DATE_FORMAT")},
    )


SCOPE_CHOICES = [
    (Scope.THIS, _("Only this meeting")),
    (Scope.FOLLOWING, _("This and all following meetings")),
    (Scope.ALL, _("All upcoming meetings of the series")),
]


# Fields a meeting's format does not use: not required, not checked, not stored.
IN_PERSON_FIELDS = ("venue_name", "address", "address_visibility", "step_free", "access_notes")
ONLINE_FIELDS = ("video_url", "dial_in", "online_notes")
UNUSED_BY_FORMAT = {
    MeetingFormat.ONLINE: IN_PERSON_FIELDS,
    MeetingFormat.IN_PERSON: ONLINE_FIELDS,
    MeetingFormat.HYBRID: (),
}
# Fields each choice of how often (and of how a series ends) does not use.
UNUSED_BY_FREQUENCY = {
    recurrence.Frequency.ONCE: ("interval", "week_of_month", "weekday", "ends", "until", "count"),
    recurrence.Frequency.WEEKLY: ("week_of_month", "weekday"),
    recurrence.Frequency.MONTHLY_WEEKDAY: (),
    recurrence.Frequency.MONTHLY_DATE: ("week_of_month", "weekday"),
}
# The fields the dates of a schedule depend on.
SCHEDULE_FIELDS = (
    "frequency",
    "starts_on",
    "start_time",
    "duration_minutes",
    "interval",
    "week_of_month",
    "weekday",
    "ends",
    "until",
    "count",
)
UNUSED_BY_END = {"never": ("until", "count"), "until": ("count",), "count": ("until",)}


class UnusedFieldsMixin:
    """Leave out the fields the person's own choices make irrelevant.

    The form shows every field without JavaScript (static/js/schedule-form.js hides the
    ones the choices do not need); whatever was typed into a field the choices do not use
    raises no error and is not saved.
    """

    def ignore_fields(self, cleaned: dict, names) -> None:
        for name in names:
            if name not in self.fields:
                continue
            self._errors.pop(name, None)
            field = self.fields[name]
            if field.initial is None:
                empty = field.empty_value if hasattr(field, "empty_value") else ""
                cleaned[name] = field.to_python(empty) if empty == "" else empty
            else:
                cleaned[name] = field.clean(field.initial)


class PlaceFormMixin(UnusedFieldsMixin, PlainTextMixin, forms.Form):
    format = forms.ChoiceField(
        label=_("How people meet"), choices=MeetingFormat.choices, widget=forms.RadioSelect
    )
    venue_name = forms.CharField(label=_("Venue"), required=False, max_length=120)
    address = forms.CharField(label=_("Address"), required=False, max_length=255)
    address_visibility = forms.ChoiceField(
        label=_("Who can see the address"),
        choices=AddressVisibility.choices,
        initial=AddressVisibility.MEMBERS,
    )
    step_free = forms.BooleanField(label=_("Step-free access"), required=False)
    access_notes = forms.CharField(
        label=_("Access notes"),
        required=False,
        max_length=500,
        help_text=_("Parking, public transport, which door to use, accessible toilets…"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    video_url = forms.URLField(
        label=_("Video call link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("Only members see it."),
    )
    dial_in = forms.CharField(label=_("Dial-in by phone"), required=False, max_length=200)
    online_notes = forms.CharField(
        label=_("Notes for joining online"), required=False, max_length=500
    )

    def clean_place(self, cleaned):
        meeting_format = cleaned.get("format")
        self.ignore_fields(cleaned, UNUSED_BY_FORMAT.get(meeting_format, ()))
        if meeting_format in (MeetingFormat.IN_PERSON, MeetingFormat.HYBRID) and not (
            cleaned.get("address") or cleaned.get("venue_name")
        ):
            self.add_error("address", _("Give the venue or the address."))
        if meeting_format in (MeetingFormat.ONLINE, MeetingFormat.HYBRID) and not (
            cleaned.get("video_url") or cleaned.get("dial_in")
        ):
            self.add_error("video_url", _("Give the video call link or a dial-in number."))

    def place(self) -> dict:
        return {field: self.cleaned_data[field] for field in PLACE_FIELDS}


class ScheduleForm(PlaceFormMixin):
    title = forms.CharField(
        label=_("Title (optional)"),
        required=False,
        max_length=120,
        help_text=_("Leave empty to use the group's name."),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=FrequencyChoice.CHOICES,
        initial=recurrence.Frequency.WEEKLY,
        widget=forms.RadioSelect,
    )
    starts_on = forms.DateField(
        label=_("First date"),
        help_text=_(
            "For a repeating meeting, the first meeting is the first day on or after this "
            "date that fits the pattern."
        ),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start_time = forms.TimeField(
        label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label=_("Length in minutes"), initial=90, min_value=5, max_value=24 * 60
    )
    interval = forms.IntegerField(
        label=_("Repeat every (weeks or months)"),
        initial=1,
        required=False,
        min_value=1,
        max_value=12,
        help_text=_("1 for every week or month, 2 for every other one…"),
    )
    week_of_month = forms.TypedChoiceField(
        label=_("Which week of the month"),
        choices=WEEK_OF_MONTH_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    weekday = forms.TypedChoiceField(
        label=_("Which day of the week"),
        choices=WEEKDAY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    ends = forms.ChoiceField(
        label=_("Ends"), choices=END_CHOICES, initial="never", widget=forms.RadioSelect
    )
    until = forms.DateField(
        label=_("Last date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    count = forms.IntegerField(
        label=_("Number of meetings"), required=False, min_value=1, max_value=500
    )
    capacity = forms.IntegerField(
        label=_("Places per meeting (optional)"),
        required=False,
        min_value=1,
        max_value=10000,
        help_text=_("When it is full, members can join a waitlist."),
    )

    field_order = ["title", *SCHEDULE_FIELDS, "capacity"]

    def clean(self):
        cleaned = super().clean()
        starts_on = cleaned.get("starts_on")
        if starts_on and starts_on < timezone.localdate() - timedelta(days=1):
            self.add_error("starts_on", _("The first date can't be in the past."))
        elif too_far_ahead(starts_on):
            self.add_error("starts_on", too_far_ahead_error())
        frequency = cleaned.get("frequency")
        self.ignore_fields(cleaned, UNUSED_BY_FREQUENCY.get(frequency, ()))
        if frequency != recurrence.Frequency.ONCE:
            self.ignore_fields(cleaned, UNUSED_BY_END.get(cleaned.get("ends"), ()))
        if frequency == recurrence.Frequency.MONTHLY_WEEKDAY:
            if cleaned.get("week_of_month") is None and "week_of_month" not in self.errors:
                self.add_error("week_of_month", _("Choose the week of the month."))
            if cleaned.get("weekday") is None and "weekday" not in self.errors:
                self.add_error("weekday", _("Choose the day of the week."))
        ends = cleaned.get("ends")
        if frequency != recurrence.Frequency.ONCE:
            if ends == "until":
                if not cleaned.get("until"):
                    self.add_error("until", _("Give the last date."))
                elif starts_on and cleaned["until"] < starts_on:
                    self.add_error("until", _("The last date is before the first meeting."))
                elif too_far_ahead(cleaned["until"]):
                    self.add_error("until", too_far_ahead_error())
            if ends == "count" and not cleaned.get("count"):
                self.add_error("count", _("Give the number of meetings."))
        self.clean_place(cleaned)
        return cleaned

    def schedule(self) -> recurrence.Schedule:
        data = self.cleaned_data
        once = data["frequency"] == recurrence.Frequency.ONCE
        return recurrence.Schedule(
            frequency=data["frequency"],
            starts_on=data["starts_on"],
            start_time=data["start_time"],
            interval=data["interval"] or 1,
            week_of_month=data["week_of_month"],
            weekday=data["weekday"],
            until=data["until"] if data["ends"] == "until" and not once else None,
            count=data["count"] if data["ends"] == "count" and not once else None,
        )

    def preview(self, *, time_zone: str) -> schedule_words.Preview | None:
        """The schedule in words and its next dates, once the fields it needs are right.

        The place may still be missing: the dates do not depend on it.
        """
        self.is_valid()
        if self.non_field_errors() or set(self.errors) & set(SCHEDULE_FIELDS):
            return None
        return schedule_words.preview(
            self.schedule(),
            time_zone=time_zone,
            duration_minutes=self.cleaned_data["duration_minutes"],
        )

    def plan(self) -> MeetingPlan:
        data = self.cleaned_data
        return MeetingPlan(
            schedule=self.schedule(),
            duration_minutes=data["duration_minutes"],
            title=data["title"],
            capacity=data["capacity"],
            place=self.place(),
        )


class MeetingEditForm(PlaceFormMixin):
    scope = forms.ChoiceField(
        label=_("Apply the change to"),
        choices=SCOPE_CHOICES,
        initial=Scope.THIS,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label=_("Title (optional)"), required=False, max_length=120)
    starts_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration_minutes = forms.IntegerField(
        label=_("Length in minutes"), min_value=5, max_value=24 * 60
    )
    capacity = forms.IntegerField(
        label=_("Places (optional)"), required=False, min_value=1, max_value=10000
    )

    field_order = ["scope", "title", "starts_on", "start_time", "duration_minutes", "capacity"]

    def __init__(self, *args, in_series: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not in_series:
            del self.fields["scope"]

    def clean(self):
        cleaned = super().clean()
        starts_on = cleaned.get("starts_on")
        if starts_on and starts_on < timezone.localdate() - timedelta(days=1):
            # The service says the same of a time earlier today; a date before yesterday
            # is refused here, before any time is computed from it.
            self.add_error(None, _("A meeting can't be moved into the past."))
        elif too_far_ahead(starts_on):
            self.add_error("starts_on", too_far_ahead_error())
        self.clean_place(cleaned)
        return cleaned


class CancelForm(PlainTextMixin, forms.Form):
    scope = forms.ChoiceField(
        label=_("Cancel"), choices=SCOPE_CHOICES, initial=Scope.THIS, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Reason (shown to members)"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, in_series: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not in_series:
            del self.fields["scope"]


class AttendanceDetailsForm(PlainTextMixin, forms.Form):
    guest_count = forms.IntegerField(
        label=_("Walk-in guests (not members)"), min_value=0, max_value=1000, initial=0
    )
    facilitator_note = forms.CharField(
        label=_("Private note for the facilitators"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
