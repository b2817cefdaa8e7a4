"""Report pages and their exports: parse the filters, call the selectors, render one Document.

Coordinators see every group; facilitators and co-facilitators see the same reports
restricted to their own groups (a group that is not theirs is not a valid filter value);
everyone else gets a 403. Like every staff page, the reports require two-factor
authentication.

The page shows attendance counts exactly (the viewer can read them off the registers they
already see); an export is meant for sharing and hides small numbers (`shared=True`).
A CSV holds one table, chosen by `?table=`; the XLSX holds them all.

Audit: opening one group's drill-down (each of its meetings) and every download are
written to the audit log, with the group when there is one. The drill-down lists meetings
and counts, never people, so the rows name no person (subject empty); the log can still
be filtered by staff member, group and date.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from members.decorators import second_factor_redirect
from members.services import audit_record
from outcomes import charts, documents, open_items, reports
from outcomes.exports import ABOUT, export_response, export_table_keys, small_numbers_note
from outcomes.forms import PeriodChoice, ReportFilterForm


def report_view(view_func):
    """Open to coordinators and facilitators, with MFA on; the view receives their Scope."""

    @login_required
    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        scope = reports.report_scope(request.user)
        if scope is None:
            raise PermissionDenied
        if refusal := second_factor_redirect(request):
            return refusal
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


def _header(
    form: ReportFilterForm, scope: reports.Scope, now, *, shared: bool
) -> list[tuple[str, str]]:
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
        (_("Small numbers"), small_numbers_note(shared=shared)),
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


def _export_links(view_name: str, query: str, document) -> dict:
    """The workbook (every table), and each table's CSV, set on the table for the page."""
    joiner = f"{query}&" if query else ""
    csv_path = reverse(view_name, kwargs={"fmt": "csv"})
    for table in document.tables:
        table.csv_url = f"{csv_path}?{joiner}table={table.key}"
    return {
        "xlsx": f"{reverse(view_name, kwargs={'fmt': 'xlsx'})}?{query}",
        "about_csv": f"{csv_path}?{joiner}table={ABOUT}",
    }


def _audit(request, action: str, context: str, form: ReportFilterForm | None = None) -> None:
    """A report names no person: the row says who opened what, and for which group."""
    group_id = form.group_filters().group_id if form is not None else None
    audit_record(
        actor=request.user,
        subjects=[None],
        action=action,
        context=context,
        group_id=group_id,
        group_name=form.group_name if group_id is not None else "",
    )


def _drilldown_opened(request, form: ReportFilterForm, report: str) -> None:
    if form.group_filters().group_id is not None:
        period = form.period_range
        _audit(request, "report.drilldown.opened", f"{report} {period.start} – {period.end}", form)


def _export(request, document, fmt: str, *, report: str, form=None):
    """The download, written to the audit log: it is what leaves staff hands."""
    table_key = request.GET.get("table") or None
    if fmt == "csv" and table_key is not None and table_key not in export_table_keys(document):
        raise Http404
    context = f"{report} {fmt}" + (f" {table_key}" if fmt == "csv" and table_key else "")
    _audit(request, "report.exported", context, form)
    return export_response(document, fmt, table_key if fmt == "csv" else None)


def _invalid(request, template: str, form, page: str):
    return render(request, template, {"form": form, "page": page, "invalid": True}, status=400)


@report_view
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
    shared = fmt is not None
    document = documents.attendance_document(
        data,
        header=_header(form, scope, now, shared=shared),
        filename=f"attendance-{period.start}-to-{period.end}",
        unit=form.unit,
        group_url=_linker("reports:attendance", form),
        meeting_url=lambda pk: reverse("meetings:detail", args=[pk]),
        shared=shared,
    )
    if shared:
        return _export(request, document, fmt, report="attendance", form=form)
    _drilldown_opened(request, form, "attendance")
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
            "exports": _export_links("reports:attendance_export", form.query(), document),
        },
    )


@report_view
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
    shared = fmt is not None
    document = documents.retention_document(
        data,
        header=_header(form, scope, now, shared=shared),
        filename=f"retention-{period.start}-to-{period.end}",
        group_url=_linker("reports:retention", form),
        shared=shared,
    )
    if shared:
        return _export(request, document, fmt, report="retention", form=form)
    _drilldown_opened(request, form, "retention")
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
            "exports": _export_links("reports:retention_export", form.query(), document),
            "marks_weeks": reports.RETENTION_MARKS,
        },
    )


@report_view
def overview(request, scope, fmt=None):
    now = timezone.now()
    shared = fmt is not None
    data = reports.programme_overview(scope, now=now)
    document = documents.overview_document(
        data,
        header=[
            _scope_line(scope),
            _produced(now),
            (_("Small numbers"), small_numbers_note(shared=shared)),
        ],
        filename=f"programme-overview-{timezone.localdate(now)}",
        open_items=open_items.open_items(scope, now),
        manage_url=lambda slug: reverse("groups:manage", args=[slug]),
        meeting_url=lambda pk: reverse("meetings:detail", args=[pk]),
        to_local=timezone.localtime,
        shared=shared,
    )
    if shared:
        return _export(request, document, fmt, report="overview")
    return render(
        request,
        "reports/overview.html",
        {
            "page": "overview",
            "document": document,
            "figures": document.table("figures"),
            "tables": document.tables[1:],
            "exports": _export_links("reports:overview_export", "", document),
        },
    )
