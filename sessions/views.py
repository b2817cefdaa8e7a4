from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from groups import selectors as group_selectors
from groups.models import MembershipStatus
from members import permissions
from members.decorators import second_factor_redirect
from members.selectors import session_passed_second_factor
from members.services import audit_record
from sessions import feeds, schedule_words, selectors, services
from sessions.errors import MeetingError
from sessions.forms import AttendanceDetailsForm, CancelForm, MeetingEditForm, ScheduleForm
from sessions.models import AttendanceStatus, RsvpStatus


def _meeting_or_404(pk: int):
    meeting = selectors.meeting_by_id(pk)
    if meeting is None:
        raise Http404
    return meeting


def _staff_gate(request, group):
    """None if the viewer may manage the group (second factor passed), else the response."""
    permissions.require(request.user, "group.manage", group)
    return second_factor_redirect(request)


def meeting_staff_view(view_func):
    @login_required
    @wraps(view_func)
    def wrapper(request, pk, *args, **kwargs):
        meeting = _meeting_or_404(pk)
        refusal = _staff_gate(request, meeting.group)
        if refusal is not None:
            return refusal
        return view_func(request, meeting, *args, **kwargs)

    return wrapper


def _local_parts(meeting) -> dict:
    zone = ZoneInfo(meeting.time_zone)
    start = meeting.starts_at.astimezone(zone)
    return {
        "starts_on": start.date(),
        "start_time": start.time().replace(second=0, microsecond=0),
        "duration_minutes": int((meeting.ends_at - meeting.starts_at).total_seconds() // 60),
    }


def _schedule_group(request, slug):
    """The group whose meetings are scheduled, and the refusal when the viewer may not."""
    group = group_selectors.group_by_slug(slug)
    if group is None:
        raise Http404
    return group, _staff_gate(request, group)


def _schedule_form(request, group) -> ScheduleForm:
    today = timezone.now().astimezone(ZoneInfo(group.time_zone)).date()
    return ScheduleForm(
        request.POST or None,
        initial={"format": group.format, "capacity": group.capacity, "starts_on": today},
    )


def _schedule_preview(form: ScheduleForm, group):
    return form.preview(time_zone=group.time_zone)


@login_required
def schedule(request, slug):
    """The schedule form; "Preview" shows the dates without saving (the form without JS)."""
    group, refusal = _schedule_group(request, slug)
    if refusal is not None:
        return refusal
    form = _schedule_form(request, group)
    preview = None
    if request.method == "POST" and "preview" in request.POST:
        preview = _schedule_preview(form, group)
    elif request.method == "POST" and form.is_valid():
        try:
            series = services.series_create(group=group, plan=form.plan(), actor=request.user)
        except MeetingError as error:
            form.add_error(None, error.message)
        else:
            count = series.meetings.count()
            messages.success(
                request,
                ngettext("%(count)s meeting scheduled.", "%(count)s meetings scheduled.", count)
                % {"count": count},
            )
            return redirect("meetings:series", pk=series.pk)
    return render(
        request,
        "sessions/schedule.html",
        {"group": group, "form": form, "preview": preview, "previewed": preview is not None},
    )


@login_required
def schedule_preview(request, slug):
    """The live preview of the schedule form (htmx): its sentence and next dates."""
    group, refusal = _schedule_group(request, slug)
    if refusal is not None:
        return refusal
    form = ScheduleForm(request.POST if request.method == "POST" else request.GET)
    return render(
        request,
        "sessions/_schedule_preview.html",
        {"group": group, "preview": _schedule_preview(form, group), "previewed": True},
    )


@login_required
def series(request, pk):
    """A series as its facilitators see it: its schedule in words and its meetings."""
    found = selectors.series_by_id(pk)
    if found is None:
        raise Http404
    refusal = _staff_gate(request, found.group)
    if refusal is not None:
        return refusal
    meetings = selectors.series_upcoming_meetings(found)
    first_start = meetings[0].starts_at if meetings else None
    return render(
        request,
        "sessions/series.html",
        {
            "series": found,
            "group": found.group,
            "meetings": meetings,
            "words": schedule_words.series_words(found, first_start=first_start),
        },
    )


@dataclass(frozen=True)
class Viewer:
    """How the viewer stands to a meeting's group."""

    is_member: bool  # active and agreed to the current code of conduct
    can_manage: bool
    staff_data: bool  # may see who is coming: manages, and passed the second factor
    conduct_pending: bool  # active, but has not accepted the group's new code yet
    runs_group: bool = False  # facilitates this group and passed the second factor


def _viewer_of(request, meeting) -> Viewer:
    """How the viewer stands to the meeting's group.

    Staff data (who is going, members-only places) needs a session that passed the second
    factor; without it staff see what a member sees. Anyone who could not see the group
    (unlisted or closed, and not theirs) gets the same 404 as for a missing meeting.
    """
    group = meeting.group
    membership = group_selectors.membership_of(request.user, group)
    active = membership is not None and membership.status == MembershipStatus.ACTIVE
    is_member = active and membership.has_accepted(meeting.group_conduct_id)
    can_manage = permissions.allowed(request.user, "group.manage", group, membership=membership)
    if not (active or can_manage or group_selectors.is_public(group)):
        raise Http404
    staff_data = can_manage and session_passed_second_factor(request)
    return Viewer(
        is_member=is_member,
        can_manage=can_manage,
        staff_data=staff_data,
        conduct_pending=active and not is_member,
        runs_group=staff_data and membership is not None and membership.is_staff_role,
    )


def detail(request, pk):
    meeting = _meeting_or_404(pk)
    group = meeting.group
    viewer = _viewer_of(request, meeting)
    is_member, staff_data = viewer.is_member, viewer.staff_data
    sees_private = is_member or staff_data
    rsvp = selectors.rsvp_of(meeting, request.user) if is_member else None
    show_video_link = selectors.video_link_visible(
        meeting, is_member=sees_private, runs_group=viewer.runs_group
    )
    context = {
        "meeting": meeting,
        "group": group,
        "is_member": is_member,
        "can_manage": viewer.can_manage,
        "conduct_pending": viewer.conduct_pending,
        "rsvp": rsvp,
        "waitlist_position": selectors.waitlist_position(rsvp),
        "show_address": selectors.address_visible(meeting, is_member=sees_private),
        "show_video_link": show_video_link,
        "join_url": meeting.video_url if show_video_link else "",
        "facilitators": selectors.facilitators_of(group),
        "attendees": selectors.rsvps_for(meeting) if staff_data else None,
        "is_past": meeting.ends_at <= timezone.now(),
        **_register_context(request, meeting, viewer),
    }
    return render(request, "sessions/detail.html", context)


def _register_context(request, meeting, viewer) -> dict:
    """The register as the meeting page tells it: its numbers once taken, the viewer's
    own mark (to them alone), and for staff whether it is open yet."""
    now = timezone.now()
    started = meeting.starts_at <= now
    if meeting.is_cancelled:
        return {
            "started": started,
            "can_reinstate": viewer.can_manage and not started,
        }
    return {
        "started": started,
        "register": selectors.register_summary(meeting) if started else None,
        "my_attendance": selectors.attendance_of(meeting, request.user)
        if started and viewer.is_member
        else None,
        "register_open": services.attendance_editable(meeting, now),
        "register_opens_at": services.attendance_opens_at(meeting),
    }


@require_POST
@login_required
def rsvp(request, pk):
    """Record an answer. With htmx: the answer block again, and the place count beside it
    (an out-of-band swap), so both tell the truth at once. Without: back where the person
    was (the meeting page or My meetings) with a message."""
    meeting = _meeting_or_404(pk)
    _viewer_of(request, meeting)
    going = request.POST.get("going") == "yes"
    before = selectors.rsvp_of(meeting, request.user)
    was_waitlisted = before is not None and before.status == RsvpStatus.WAITLISTED
    error = None
    try:
        answer = services.meeting_rsvp(meeting_id=meeting.pk, member=request.user, going=going)
    except MeetingError as exc:
        error = exc.message
        answer = before
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    if request.htmx:
        meeting = _meeting_or_404(pk)
        return render(
            request,
            "sessions/_rsvp.html",
            {
                "meeting": meeting,
                "rsvp": answer,
                "waitlist_position": selectors.waitlist_position(answer),
                "error": error,
                "next": next_url or meeting.get_absolute_url(),
                "places_oob": True,
            },
        )
    if error:
        messages.error(request, error)
    elif answer.status == RsvpStatus.WAITLISTED:
        messages.success(
            request,
            _("The meeting is full. You are number %(position)s on the waitlist.")
            % {"position": selectors.waitlist_position(answer)},
        )
    elif going:
        messages.success(request, _("Thanks, you're going. See you there!"))
    elif was_waitlisted:
        messages.success(request, _("You have left the waitlist."))
    else:
        messages.success(request, _("Thanks for letting us know you can't come."))
    if next_url:
        return HttpResponseRedirect(next_url)  # an address, never a view name
    return redirect(meeting)


@login_required
def my_meetings(request):
    page = selectors.my_upcoming_meetings(
        request.user,
        page=request.GET.get("page"),
        staff_links=session_passed_second_factor(request),
    )
    return render(
        request, "sessions/my_meetings.html", {"page": page, "meetings": page.object_list}
    )


@meeting_staff_view
def edit(request, meeting):
    in_series = meeting.series_id is not None
    initial = {
        "title": meeting.title,
        "capacity": meeting.capacity,
        **_local_parts(meeting),
        **{field: getattr(meeting, field) for field in services.PLACE_FIELDS},
    }
    form = MeetingEditForm(request.POST or None, initial=initial, in_series=in_series)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.meeting_update(
                meeting_id=meeting.pk,
                actor=request.user,
                starts_on=data["starts_on"],
                start_time=data["start_time"],
                duration_minutes=data["duration_minutes"],
                title=data["title"],
                capacity=data["capacity"],
                place=form.place(),
                scope=data.get("scope", services.Scope.THIS),
            )
        except MeetingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Saved. Members who are coming will be told."))
            return redirect(meeting)
    return render(request, "sessions/edit.html", {"meeting": meeting, "form": form})


@meeting_staff_view
def cancel(request, meeting):
    form = CancelForm(request.POST or None, in_series=meeting.series_id is not None)
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = services.meeting_cancel(
                meeting_id=meeting.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                scope=form.cleaned_data.get("scope", services.Scope.THIS),
            )
        except MeetingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s meeting cancelled. Members will be told.",
                    "%(count)s meetings cancelled. Members will be told.",
                    len(cancelled),
                )
                % {"count": len(cancelled)},
            )
            return redirect(meeting.group)
    return render(request, "sessions/cancel.html", {"meeting": meeting, "form": form})


@require_POST
@meeting_staff_view
def reinstate(request, meeting):
    try:
        services.meeting_reinstate(actor=request.user, meeting_id=meeting.pk)
    except MeetingError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("The meeting is back on. Everyone who had answered will be told.")
        )
    return redirect(meeting)


UNDO_FOR = timedelta(minutes=15)


def _undo_key(meeting) -> str:
    return f"attendance-undo:{meeting.pk}"


def _note_key(meeting) -> str:
    return f"attendance-note:{meeting.pk}"


def _undo_slot(request, meeting) -> dict | None:
    """What the viewer's last bulk action on this register changed, while it can be undone."""
    slot = request.session.get(_undo_key(meeting))
    if not slot or timezone.now() - datetime.fromisoformat(slot["at"]) > UNDO_FOR:
        return None
    return slot


def _undo_context(request, meeting) -> dict:
    slot = _undo_slot(request, meeting)
    if slot is None:
        return {"undo": None, "undo_text": ""}
    return {"undo": slot, "undo_text": _bulk_note(slot["action"], slot["count"])}


def _register_state(meeting, now) -> str:
    if meeting.is_cancelled:
        return "cancelled"
    if services.attendance_opens_at(meeting) > now:
        return "not-open"
    return "open" if services.attendance_editable(meeting, now) else "locked"


def _counts(sheet) -> dict:
    marked = sum(1 for row in sheet if row.attendance_status)
    return {
        "total_count": len(sheet),
        "marked_count": marked,
        "unmarked_count": len(sheet) - marked,
        "going_unmarked_count": sum(
            1 for row in sheet if not row.attendance_status and selectors.said_going(row)
        ),
    }


def _attendance_context(request, meeting, **extra):
    state = _register_state(meeting, timezone.now())
    sheet = selectors.attendance_sheet(meeting) if state in ("open", "locked") else []
    note = request.session.pop(_note_key(meeting), "")
    return {
        "meeting": meeting,
        "sheet": sheet,
        "attendance_url": reverse("meetings:attendance", args=[meeting.pk]),
        "statuses": AttendanceStatus.choices,
        "state": state,
        "editable": state == "open",
        "note": note,
        **(_undo_context(request, meeting) if state == "open" else {"undo": None}),
        "details_form": AttendanceDetailsForm(
            initial={
                "guest_count": meeting.guest_count,
                "facilitator_note": meeting.facilitator_note,
            }
        ),
        **_counts(sheet),
        **extra,
    }


def _audit_register_opened(request, meeting, sheet) -> None:
    audit_record(
        actor=request.user,
        subjects=[row.user_id for row in sheet if row.user_id != request.user.pk],
        action="register.opened",
        context=f"{meeting.display_title} {meeting.starts_at:%Y-%m-%d %H:%M} UTC",
    )


@meeting_staff_view
def attendance(request, meeting):
    if request.method == "POST":
        errors = []
        # Only ASCII digits: "status-²" passes isdigit() but int() refuses it.
        changes = {
            int(user_id): value
            for key, value in request.POST.items()
            if key.startswith("status-")
            and (user_id := key.removeprefix("status-")).isascii()
            and user_id.isdecimal()
        }
        for user_id, status in changes.items():
            if request.POST.get(f"initial-{user_id}", None) == status:
                continue  # unchanged since the page was drawn: don't overwrite others' taps
            try:
                services.attendance_mark(
                    meeting_id=meeting.pk, user_id=user_id, status=status, actor=request.user
                )
            except MeetingError as error:
                errors.append(error.message)
        if request.htmx and len(changes) == 1:
            user_id = next(iter(changes))
            sheet = selectors.attendance_sheet(meeting)
            row = next((r for r in sheet if r.user_id == user_id), None)
            if row is None:
                raise Http404
            return render(
                request,
                "sessions/_attendance_row.html",
                {
                    "meeting": meeting,
                    "row": row,
                    "statuses": AttendanceStatus.choices,
                    "editable": True,
                    "error": errors[0] if errors else None,
                    "saved": not errors,
                    "attendance_url": request.path,
                    **_undo_context(request, meeting),
                    **_counts(sheet),
                },
            )
        for message in dict.fromkeys(errors):
            messages.error(request, message)
        if not errors:
            messages.success(request, _("Attendance saved."))
        return redirect("meetings:attendance", pk=meeting.pk)
    context = _attendance_context(request, meeting)
    if context["sheet"]:
        _audit_register_opened(request, meeting, context["sheet"])
    return render(request, "sessions/attendance.html", context)


BULK_ACTIONS = {
    "going-present": services.attendance_mark_going_present,
    "rest-absent": services.attendance_mark_rest_absent,
}


def _bulk_note(action: str, count: int) -> str:
    if action == "going-present":
        text = ngettext(
            "%(count)s person marked present.", "%(count)s people marked present.", count
        )
    else:
        text = ngettext("%(count)s person marked absent.", "%(count)s people marked absent.", count)
    return text % {"count": count}


@require_POST
@meeting_staff_view
def attendance_bulk(request, meeting):
    """Mark many at once ("everyone who said going: present", "the rest: absent"), or
    undo the last of those. What a bulk action changed is kept in the session for a
    while, so "Undo" puts back exactly the marks it replaced; the answer is the register
    again (a redirect: with htmx, the register is swapped in from it)."""
    action = request.POST.get("action", "")
    try:
        if action == "undo":
            slot = _undo_slot(request, meeting)
            if slot is None:
                raise MeetingError(_("There is nothing to undo any more."))
            restored = services.attendance_restore(
                actor=request.user,
                meeting_id=meeting.pk,
                changes=[services.MarkChange(*change) for change in slot["changes"]],
            )
            request.session.pop(_undo_key(meeting), None)
            note = ngettext(
                "Undone: %(count)s mark put back as it was.",
                "Undone: %(count)s marks put back as they were.",
                len(restored),
            ) % {"count": len(restored)}
        elif action in BULK_ACTIONS:
            changed = BULK_ACTIONS[action](actor=request.user, meeting_id=meeting.pk)
            if changed:
                request.session[_undo_key(meeting)] = {
                    "action": action,
                    "count": len(changed),
                    "changes": [[c.user_id, c.old, c.new] for c in changed],
                    "at": timezone.now().isoformat(),
                }
            note = _bulk_note(action, len(changed))
        else:
            raise MeetingError(_("Choose what to mark."))
    except MeetingError as error:
        note = error.message
    request.session[_note_key(meeting)] = note
    return redirect("meetings:attendance", pk=meeting.pk)


@require_POST
@meeting_staff_view
def attendance_details(request, meeting):
    form = AttendanceDetailsForm(request.POST)
    if form.is_valid():
        try:
            services.attendance_details_set(
                meeting_id=meeting.pk,
                guest_count=form.cleaned_data["guest_count"],
                note=form.cleaned_data["facilitator_note"],
                actor=request.user,
            )
        except MeetingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Guests and note saved."))
    else:
        # The page again, with each field's error beside it and what was typed kept.
        context = _attendance_context(request, meeting, details_form=form)
        return render(request, "sessions/attendance.html", context)
    return redirect("meetings:attendance", pk=meeting.pk)


@require_POST
@meeting_staff_view
def attendance_unlock(request, meeting):
    try:
        services.attendance_unlock(meeting_id=meeting.pk, actor=request.user)
    except MeetingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Attendance can be edited for the next 7 days."))
    return redirect("meetings:attendance", pk=meeting.pk)


def meeting_ics(request, pk):
    """One meeting as an .ics file, for 'add to calendar' (members get the address)."""
    meeting = _meeting_or_404(pk)
    viewer = _viewer_of(request, meeting)
    for_members = viewer.is_member or viewer.staff_data
    body = feeds.calendar_ics(
        [meeting],
        name=meeting.display_title,
        calendar_key=f"meeting/{meeting.uid}",
        base_url=f"{request.scheme}://{request.get_host()}",
        for_members=for_members,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response
