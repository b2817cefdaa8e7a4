"""The reports' filters: a period and which groups. Anything else is refused with a reason."""

import html
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django import forms
from django.forms.utils import flatatt
from django.http import QueryDict
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from groups.models import Format, Topic
from outcomes.reports import GroupChoice, GroupFilters, Period, PersonChoice

MAX_PERIOD_DAYS = 731  # two years
EARLIEST = date(2000, 1, 1)
# A custom period may look ahead (meetings already scheduled), but not without end.
FURTHEST_AHEAD = relativedelta(years=1)


class ListSelect(forms.Select):
    """A <select> drawn in one pass rather than a template per <option>: a programme's
    lists of groups and facilitators run to hundreds of options."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = {str(item) for item in self.format_value(value)}
        parts = []
        for option_value, option_label in self.choices:
            if isinstance(option_label, list | tuple):
                inner = "".join(self._option(v, label, selected) for v, label in option_label)
                label = html.escape(str(option_value))
                parts.append(f'<optgroup label="{label}">{inner}</optgroup>')
            else:
                parts.append(self._option(option_value, option_label, selected))
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(final_attrs),
            mark_safe("".join(parts)),  # noqa: S308 - every part is escaped by _option
        )

    @staticmethod
    def _option(value, label, selected: set[str]) -> str:
        value = "" if value is None else str(value)
        mark = " selected" if value in selected else ""
        return f'<option value="{html.escape(value)}"{mark}>{html.escape(str(label))}</option>'


class PeriodChoice:
    THIS_MONTH = "this-month"
    LAST_MONTH = "last-month"
    THIS_QUARTER = "this-quarter"
    LAST_QUARTER = "last-quarter"
    PAST_3_MONTHS = "past-3-months"
    PAST_6_MONTHS = "past-6-months"
    PAST_12_MONTHS = "past-12-months"
    CUSTOM = "custom"

    choices = [
        (THIS_MONTH, _("This month")),
        (LAST_MONTH, _("Last month")),
        (THIS_QUARTER, _("This quarter")),
        (LAST_QUARTER, _("Last quarter")),
        (PAST_3_MONTHS, _("Past 3 months")),
        (PAST_6_MONTHS, _("Past 6 months")),
        (PAST_12_MONTHS, _("Past 12 months")),
        (CUSTOM, _("Dates I choose")),
    ]


def period_for(choice: str, today: date) -> Period:
    """The days a named period covers, counted on the viewer's calendar."""
    month_start = today.replace(day=1)
    quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
    if choice == PeriodChoice.THIS_MONTH:
        return Period(month_start, month_start + relativedelta(months=1, days=-1))
    if choice == PeriodChoice.LAST_MONTH:
        start = month_start - relativedelta(months=1)
        return Period(start, month_start - timedelta(days=1))
    if choice == PeriodChoice.THIS_QUARTER:
        return Period(quarter_start, quarter_start + relativedelta(months=3, days=-1))
    if choice == PeriodChoice.LAST_QUARTER:
        start = quarter_start - relativedelta(months=3)
        return Period(start, quarter_start - timedelta(days=1))
    months = {PeriodChoice.PAST_3_MONTHS: 3, PeriodChoice.PAST_6_MONTHS: 6}.get(choice, 12)
    return Period(today - relativedelta(months=months) + timedelta(days=1), today)


class Unit:
    WEEK = "week"
    MONTH = "month"
    choices = [(WEEK, _("Week")), (MONTH, _("Month"))]


def _any(choices):
    return [("", _("All")), *choices]


def area_choices(groups: list[GroupChoice]) -> list:
    """Towns, regions and countries of the groups in scope, grouped as optgroups."""
    cities = sorted({group.city for group in groups if group.city})
    regions = sorted({group.region for group in groups if group.region})
    countries = sorted({group.country.upper() for group in groups if group.country})
    choices = [("", _("All"))]
    for label, kind, values in (
        (_("Town or city"), "city", cities),
        (_("Region"), "region", regions),
        (_("Country"), "country", countries),
    ):
        if values:
            choices.append((label, [(f"{kind}:{value}", value) for value in values]))
    return choices


class ReportFilterForm(forms.Form):
    """Always bound (defaults filled in), so that the page and its exports agree."""

    period = forms.ChoiceField(
        label=_("Period"),
        widget=ListSelect,
        choices=PeriodChoice.choices,
        error_messages={"invalid_choice": _("Choose a period from the list.")},
    )
    start = forms.DateField(
        label=_("First day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("For “Dates I choose”."),
        error_messages={"invalid": _("Enter a date such as 2026-01-31.")},
    )
    end = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("For “Dates I choose”; the day is included."),
        error_messages={"invalid": _("Enter a date such as 2026-03-31.")},
    )
    group = forms.TypedChoiceField(
        label=_("Group"),
        widget=ListSelect,
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={
            "invalid_choice": _("There is no report for that group, or it is not one of yours.")
        },
    )
    facilitator = forms.TypedChoiceField(
        label=_("Facilitator"),
        widget=ListSelect,
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={
            "invalid_choice": _("Choose a facilitator of one of the groups in the list.")
        },
    )
    topic = forms.ChoiceField(
        label=_("Condition or topic"),
        widget=ListSelect,
        required=False,
        choices=_any(Topic.choices),
        error_messages={"invalid_choice": _("Choose a topic from the list.")},
    )
    format = forms.ChoiceField(
        label=_("Format"),
        widget=ListSelect,
        required=False,
        choices=_any(Format.choices),
        error_messages={"invalid_choice": _("Choose a format from the list.")},
    )
    area = forms.ChoiceField(
        label=_("Area"),
        widget=ListSelect,
        required=False,
        error_messages={"invalid_choice": _("Choose an area from the list.")},
    )
    by = forms.ChoiceField(
        label=_("Trend by"),
        widget=ListSelect,
        choices=Unit.choices,
        error_messages={"invalid_choice": _("Choose week or month.")},
    )

    def __init__(
        self,
        data,
        *,
        groups: list[GroupChoice],
        facilitators: list[PersonChoice],
        today: date,
        default_period: str,
        with_trend: bool = True,
    ):
        values = data.copy()
        values.setdefault("period", default_period)
        values.setdefault("by", Unit.WEEK)
        super().__init__(values)
        self.today = today
        self.fields["group"].choices = _any([(group.id, group.name) for group in groups])
        self.fields["facilitator"].choices = _any(
            [(person.id, person.display_name) for person in facilitators]
        )
        self.fields["area"].choices = area_choices(groups)
        if not with_trend:
            del self.fields["by"]

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("period")
        if choice is None:
            return cleaned
        if choice != PeriodChoice.CUSTOM:
            cleaned["period_range"] = period_for(choice, self.today)
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if "start" in self.errors or "end" in self.errors:
            return cleaned
        if start is None or end is None:
            raise forms.ValidationError(
                _("For “Dates I choose”, fill in both the first and the last day."),
                code="dates_missing",
            )
        if start > end:
            self.add_error(
                "end", forms.ValidationError(_("The last day is before the first day."), "order")
            )
            return cleaned
        if start < EARLIEST:
            self.add_error(
                "start",
                forms.ValidationError(
                    _("Reports start from %(day)s."),
                    code="too_early",
                    params={"day": formats.date_format(EARLIEST, "DATE_FORMAT")},
                ),
            )
            return cleaned
        latest = self.today + FURTHEST_AHEAD
        if end > latest:
            self.add_error(
                "end",
                forms.ValidationError(
                    _("Reports go up to a year ahead: choose a last day no later than %(day)s."),
                    code="too_late",
                    params={"day": formats.date_format(latest, "DATE_FORMAT")},
                ),
            )
            return cleaned
        if (end - start).days + 1 > MAX_PERIOD_DAYS:
            raise forms.ValidationError(
                _("Choose a period of at most two years; for longer, export two reports."),
                code="too_long",
            )
        cleaned["period_range"] = Period(start, end)
        return cleaned

    # -- after is_valid() -------------------------------------------------------------

    @property
    def period_range(self) -> Period:
        return self.cleaned_data["period_range"]

    @property
    def unit(self) -> str:
        return self.cleaned_data.get("by") or Unit.WEEK

    def group_filters(self) -> GroupFilters:
        data = self.cleaned_data
        return GroupFilters(
            group_id=data.get("group"),
            facilitator_id=data.get("facilitator"),
            topic=data.get("topic") or "",
            format=data.get("format") or "",
            area=data.get("area") or "",
        )

    @property
    def group_name(self) -> str:
        """The chosen group's name, or "" for a report on several groups."""
        group = self.cleaned_data.get("group")
        return "" if group is None else self._label_of("group", group)

    def described(self) -> list[tuple[str, str]]:
        """The filters in words, for the header block of the page and of every export."""
        described = []
        for name in ("group", "facilitator", "topic", "format", "area", "by"):
            if name not in self.fields:
                continue
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            described.append((str(self.fields[name].label), self._label_of(name, value)))
        return described

    def _label_of(self, name: str, value) -> str:
        for key, label in self.fields[name].choices:
            if isinstance(label, list | tuple):
                for inner_key, inner_label in label:
                    if str(inner_key) == str(value):
                        return str(inner_label)
            elif str(key) == str(value):
                return str(label)
        return str(value)

    def query(self) -> str:
        """The cleaned filters as a query string, for the export links and drill-downs."""
        query = QueryDict(mutable=True)
        for name in self.fields:
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            query[name] = value.isoformat() if isinstance(value, date) else str(value)
        if self.cleaned_data.get("period") != PeriodChoice.CUSTOM:
            query.pop("start", None)
            query.pop("end", None)
        return query.urlencode()
