"""Report pages and their exports: parse the filters, call the selectors, render one Document.

Coordinators see every group; facilitators and co-facilitators see the same reports
restricted to their own groups (a group that is not theirs is not a valid filter value);
everyone else gets a 403. Like every staff page, the reports require two-factor
authentication.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from members.decorators import second_factor_redirect
from outcomes import charts, documents, open_items, reports
from outcomes.exports import export_response, small_numbers_note
from outcomes.forms import PeriodChoice, ReportFilterForm
from outcomes.services import report_tables_available

EXPORT_FORMATS = ("csv", "xlsx")


def report_view(view_func=None, *, page: str = "", needs_postgresql: bool = False):
    """Open to coordinators and facilitators, with MFA on; the view receives their Scope.
    A report counted by PostgreSQL answers, on another database, with a page saying so."""
    if view_func is None:
        return lambda func: report_view(func, page=page, needs_postgresql=needs_postgresql)

    @login_required
    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        scope = reports.report_scope(request.user)
        if scope is None:
            raise PermissionDenied
        if refusal := second_factor_redirect(request):
            return refusal
        if needs_postgresql and not report_tables_available():
            return render(
                request,
                "reports/unavailable.html",
                {"page": page, "database": connection.display_name},
                status=501,
            )
        return view_func(request, scope, *args, **kwargs)

    return wrapper


def _filter_form(request, scope, *, default_period: str, with_trend: bool) -> ReportFilterForm:
    return ReportFilterForm(
        request.GET,
        groups=reports.groups_in_scope(scope),
        facilitators=reports.facilitators_in_scope(scope),
        today=timezone.localdate(),
        default_period=default_period,
        with_trend=with_trend,
    )


def _produced(now) -> tuple[str, str]:
    local = timezone.localtime(now)
    return (
        _("Produced"),
        f"{formats.date_format(local, 'DATETIME_FORMAT')} ({timezone.get_current_timezone_name()})",
    )


def _scope_line(scope: reports.Scope) -> tuple[str, str]:
    return (
        _("Access"),
        _("Every group in the programme")
        if scope.everything
        else _("Only the groups you facilitate"),
    )


def _header(form: ReportFilterForm, scope: reports.Scope, now) -> list[tuple[str, str]]:
    period = form.period_range
    name = dict(PeriodChoice.choices)[form.cleaned_data["period"]]
    days = "{} – {}".format(
        formats.date_format(period.start, "DATE_FORMAT"),
        formats.date_format(period.end, "DATE_FORMAT"),
    )
    return [
        (_("Period"), f"{days} ({name})"),
        _scope_line(scope),
        *form.described(),
        _produced(now),
        (_("Small numbers"), small_numbers_note()),
    ]


def _linker(view_name: str, form: ReportFilterForm):
    """Links to the same report with the same filters, narrowed to one group."""
    query = QueryDict(form.query(), mutable=True)
    query.pop("group", None)
    path, encoded = reverse(view_name), query.urlencode()
    prefix = f"{path}?{encoded}&group=" if encoded else f"{path}?group="

    def group_url(group_id: int) -> str:
        return f"{prefix}{group_id}"

    return group_url


def _export_links(view_name: str, query: str) -> list[tuple[str, str]]:
    return [
        (fmt.upper(), f"{reverse(view_name, kwargs={'fmt': fmt})}?{query}")
        for fmt in EXPORT_FORMATS
    ]


def _invalid(request, template: str, form, page: str):
    return render(request, template, {"form": form, "page": page, "invalid": True}, status=400)


@report_view(page="attendance", needs_postgresql=True)
def attendance(request, scope, fmt=None):
    form = _filter_form(request, scope, default_period=PeriodChoice.PAST_6_MONTHS, with_trend=True)
    if not form.is_valid():
        return _invalid(request, "reports/attendance.html", form, "attendance")
    now = timezone.now()
    filters = form.group_filters()
    period = form.period_range
    data = reports.attendance_data(
        reports.filtered_group_ids(scope, filters),
        period,
        now=now,
        unit=form.unit,
        with_meetings=filters.group_id is not None,
    )
    document = documents.attendance_document(
        data,
        header=_header(form, scope, now),
        filename=f"attendance-{period.start}-to-{period.end}",
        unit=form.unit,
        group_url=_linker("reports:attendance", form),
        meeting_url=lambda pk: reverse("meetings:detail", args=[pk]),
    )
    if fmt is not None:
        return export_response(document, fmt)
    trend = document.table("trend")
    chart = charts.bar_chart(
        chart_id="attendance-chart",
        title=trend.caption,
        description=_("Attendances per bar; the same numbers are in the table beside it."),
        bars=charts.bars_from(trend, "attendances"),
    )
    return render(
        request,
        "reports/attendance.html",
        {
            "form": form,
            "page": "attendance",
            "document": document,
            "summary": document.table("summary"),
            "trend": trend,
            "groups": document.table("groups"),
            "meetings": document.table("meetings"),
            "chart": chart,
            "exports": _export_links("reports:attendance_export", form.query()),
        },
    )


@report_view(page="retention", needs_postgresql=True)
def retention(request, scope, fmt=None):
    form = _filter_form(
        request, scope, default_period=PeriodChoice.PAST_12_MONTHS, with_trend=False
    )
    if not form.is_valid():
        return _invalid(request, "reports/retention.html", form, "retention")
    now = timezone.now()
    period = form.period_range
    data = reports.retention_data(
        reports.filtered_group_ids(scope, form.group_filters()), period, now=now
    )
    document = documents.retention_document(
        data,
        header=_header(form, scope, now),
        filename=f"retention-{period.start}-to-{period.end}",
        group_url=_linker("reports:retention", form),
    )
    if fmt is not None:
        return export_response(document, fmt)
    marks = document.table("retention_marks")
    chart = charts.bar_chart(
        chart_id="retention-chart",
        title=marks.caption,
        description=_("Share still attending per bar; the same numbers are in the table."),
        bars=charts.bars_from(marks, "share"),
        scale=100,
    )
    return render(
        request,
        "reports/retention.html",
        {
            "form": form,
            "page": "retention",
            "document": document,
            "marks": marks,
            "cohorts": document.table("cohorts"),
            "groups": document.table("retention_groups"),
            "chart": chart,
            "exports": _export_links("reports:retention_export", form.query()),
            "marks_weeks": reports.RETENTION_MARKS,
        },
    )


@report_view
def overview(request, scope, fmt=None):
    now = timezone.now()
    data = reports.programme_overview(scope, now=now)
    document = documents.overview_document(
        data,
        header=[_scope_line(scope), _produced(now), (_("Small numbers"), small_numbers_note())],
        filename=f"programme-overview-{timezone.localdate(now)}",
        open_items=open_items.open_items(scope, now),
        manage_url=lambda slug: reverse("groups:manage", args=[slug]),
        meeting_url=lambda pk: reverse("meetings:detail", args=[pk]),
        to_local=timezone.localtime,
    )
    if fmt is not None:
        return export_response(document, fmt)
    return render(
        request,
        "reports/overview.html",
        {
            "page": "overview",
            "document": document,
            "figures": document.table("figures"),
            "tables": document.tables[1:],
            "exports": _export_links("reports:overview_export", ""),
        },
    )
