from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from groups import selectors, services
from groups.errors import MembershipError
from groups.forms import (
    CodeOfConductForm,
    ConductAcceptForm,
    DeclineForm,
    DirectoryFilterForm,
    InvitationForm,
    JoinForm,
    JoinRequestForm,
    RoleForm,
    RosterSearchForm,
    SupportGroupCreateForm,
    SupportGroupForm,
)
from groups.models import STAFF_ROLES, JoinPolicy, MembershipStatus, Role
from members import permissions
from members.decorators import coordinator_required, second_factor_redirect
from members.services import audit_record
from sessions import selectors as meeting_selectors


def _group_or_404(slug: str):
    group = selectors.group_by_slug(slug)
    if group is None:
        raise Http404
    return group


def _needs_conduct_acceptance(group, membership) -> bool:
    """An active member who has not accepted the group's current code of conduct."""
    return (
        membership is not None
        and membership.status == MembershipStatus.ACTIVE
        and not membership.has_accepted(group.current_conduct_id)
    )


def group_staff_view(view_func):
    """Open to the group's facilitators and to coordinators, second factor passed.

    Anyone else gets a 403 that says nothing about the group's members.
    """

    @login_required
    @wraps(view_func)
    def wrapper(request, slug, *args, **kwargs):
        group = _group_or_404(slug)
        membership = selectors.membership_of(request.user, group)
        permissions.require(request.user, "group.manage", group, membership=membership)
        return second_factor_redirect(request) or view_func(request, group, *args, **kwargs)

    return wrapper


def directory(request):
    form = DirectoryFilterForm(request.GET or None)
    applied = form.filters()
    groups = selectors.directory_search(selectors.DirectoryFilters(**applied), viewer=request.user)
    page = Paginator(groups, selectors.DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "groups/directory.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": bool(applied),
            "applied": form.applied_labels(),
        },
    )


def detail(request, slug):
    group = _group_or_404(slug)
    membership = selectors.membership_of(request.user, group)
    if _needs_conduct_acceptance(group, membership):
        return redirect("groups:conduct", slug=group.slug)
    is_member = membership is not None and membership.status == MembershipStatus.ACTIVE
    can_manage = permissions.allowed(request.user, "group.manage", group, membership=membership)
    is_full = group.capacity is not None and group.seats_taken >= group.capacity
    context = {
        "group": group,
        "membership": membership,
        "is_member": is_member,
        "can_manage": can_manage,
        "waitlist_position": selectors.waitlist_position(membership) if membership else None,
        "is_full": is_full,
        "groups_with_room": selectors.groups_with_room(group)
        if is_full and not is_member and selectors.is_public(group)
        else None,
        "peers": selectors.peers_of(group) if is_member else None,
        "upcoming_meetings": meeting_selectors.upcoming_for_group(group)
        if is_member or can_manage
        else None,
    }
    return render(request, "groups/detail.html", context)


@login_required
def join(request, slug):
    group = _group_or_404(slug)
    if group.join_policy == JoinPolicy.INVITATION:
        messages.error(request, _("This group is by invitation only."))
        return redirect(group)
    form_class = JoinRequestForm if group.join_policy == JoinPolicy.APPROVAL else JoinForm
    conduct = services.current_code_of_conduct(group)
    form = form_class(
        request.POST or None, initial={"conduct_version": conduct and conduct.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            if group.join_policy == JoinPolicy.APPROVAL:
                services.membership_request(
                    group_id=group.pk,
                    user=request.user,
                    message=form.cleaned_data["message"],
                    accepted_conduct_version=form.cleaned_data["conduct_version"],
                    contact_shared=form.cleaned_data["contact_shared"],
                )
                messages.success(
                    request, _("Your request has been sent. We'll email you when it's answered.")
                )
            else:
                membership = services.membership_join(
                    group_id=group.pk,
                    user=request.user,
                    accepted_conduct_version=form.cleaned_data["conduct_version"],
                    contact_shared=form.cleaned_data["contact_shared"],
                )
                if membership.status == MembershipStatus.WAITLISTED:
                    messages.success(
                        request,
                        _(
                            "The group is full, so you are on the waitlist. We'll tell you "
                            "when a place frees up."
                        ),
                    )
                else:
                    messages.success(request, _("Welcome! You are now a member of this group."))
        except MembershipError as error:
            messages.error(request, error.message)
        return redirect(group)
    return render(
        request,
        "groups/join.html",
        {
            "group": group,
            "form": form,
            "conduct": conduct,
            "membership": selectors.membership_of(request.user, group),
        },
    )


@login_required
def leave(request, slug):
    group = _group_or_404(slug)
    membership = selectors.membership_of(request.user, group)
    if membership is None or membership.status not in (
        MembershipStatus.ACTIVE,
        MembershipStatus.WAITLISTED,
        MembershipStatus.PENDING,
    ):
        messages.error(request, _("You are not a member of this group."))
        return redirect(group)
    if request.method == "POST":
        try:
            services.membership_leave(group_id=group.pk, user=request.user)
            messages.success(request, _("You have left the group. You are welcome back any time."))
        except MembershipError as error:
            messages.error(request, error.message)
        return redirect(group)
    return render(request, "groups/leave.html", {"group": group, "membership": membership})


@login_required
def conduct(request, slug):
    group = _group_or_404(slug)
    membership = selectors.membership_of(request.user, group)
    current = services.current_code_of_conduct(group)
    if membership is None or membership.status != MembershipStatus.ACTIVE or current is None:
        return redirect(group)
    form = ConductAcceptForm(request.POST or None, initial={"conduct_version": current.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.conduct_accept(
                group_id=group.pk, user=request.user, version=form.cleaned_data["conduct_version"]
            )
            messages.success(request, _("Thank you. You have accepted the code of conduct."))
            return redirect(group)
        except MembershipError as error:
            messages.error(request, error.message)
            return redirect("groups:conduct", slug=group.slug)
    return render(
        request,
        "groups/conduct.html",
        {
            "group": group,
            "conduct": current,
            "form": form,
            "needs_acceptance": _needs_conduct_acceptance(group, membership),
        },
    )


@group_staff_view
def manage(request, group):
    manages_staff = permissions.allowed(request.user, "group.manage_staff", group)
    may_restore = permissions.allowed(request.user, "group.assign_facilitator", group)
    search = RosterSearchForm(request.GET or None)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    roster = list(selectors.roster_matching(selectors.roster_for(group), q))
    waitlist = list(selectors.roster_matching(selectors.waitlist_for(group), q))
    requests = list(selectors.pending_requests(group))
    removed = list(selectors.removed_from(group)) if may_restore else []
    everyone = roster + waitlist + requests + removed
    audit_record(
        actor=request.user,
        subjects=[m.user_id for m in everyone if m.user_id != request.user.pk],
        action="group.roster.view",
        context=group.name,
        group_id=group.pk,
        group_name=group.name,
    )
    return render(
        request,
        "groups/manage.html",
        {
            "group": group,
            "roster": roster,
            "waitlist": waitlist,
            "matches": len(roster) + len(waitlist),
            "search": search,
            "q": q,
            "requests": requests,
            "role_form": RoleForm(manages_staff=manages_staff),
            "manages_staff": manages_staff,
            "staff_roles": STAFF_ROLES,
            "decline_form": DeclineForm(),
            "invitation_form": InvitationForm(),
            "invitations": list(selectors.pending_invitations(group)),
            "removed": removed,
        },
    )


@require_POST
@group_staff_view
def invitation_revoke(request, group, invitation_id):
    try:
        invitation = services.invitation_revoke(
            group_id=group.pk, invitation_id=invitation_id, actor=request.user
        )
    except MembershipError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The invitation to %(email)s is withdrawn: its link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("groups:manage", slug=group.slug)


MEMBER_ACTIONS = {"approve", "decline", "remove", "role", "restore"}
# Actions asked about first: a GET shows what will happen, and the POST it sends does it.
CONFIRMED_ACTIONS = {"remove", "role"}


def _member_action_confirm(request, group, membership_id, action):
    member = selectors.roster_member(group, membership_id)
    if member is None:
        messages.error(request, _("That person is not a current member."))
        return redirect("groups:manage", slug=group.slug)
    role = None
    if action == "role":
        if member.status != MembershipStatus.ACTIVE:
            messages.error(request, _("Only current members can be given a role."))
            return redirect("groups:manage", slug=group.slug)
        form = RoleForm(request.GET)
        if not form.is_valid():
            messages.error(request, _("Choose a role from the list."))
            return redirect("groups:manage", slug=group.slug)
        role = Role(form.cleaned_data["role"])
        if role == member.role:
            messages.info(
                request,
                _("%(name)s is already %(role)s.")
                % {"name": member.user.display_name, "role": role.label},
            )
            return redirect("groups:manage", slug=group.slug)
    return render(
        request,
        "groups/member_confirm.html",
        {"group": group, "member": member, "action": action, "role": role},
    )


@require_http_methods(["GET", "POST"])
@group_staff_view
def member_action(request, group, membership_id, action):
    if action not in MEMBER_ACTIONS:
        raise Http404
    if request.method == "GET":
        if action not in CONFIRMED_ACTIONS:
            return HttpResponseNotAllowed(["POST"])
        return _member_action_confirm(request, group, membership_id, action)
    try:
        if action == "approve":
            membership = services.membership_approve(
                group_id=group.pk, membership_id=membership_id, actor=request.user
            )
            messages.success(
                request,
                _("%(name)s is now a member.") % {"name": membership.user.display_name}
                if membership.status == MembershipStatus.ACTIVE
                else _("%(name)s is on the waitlist: the group is full.")
                % {"name": membership.user.display_name},
            )
        elif action == "decline":
            form = DeclineForm(request.POST)
            if not form.is_valid():
                raise MembershipError(" ".join(form.errors["reason"]))
            membership = services.membership_decline(
                group_id=group.pk,
                membership_id=membership_id,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            messages.success(request, _("The request has been declined."))
        elif action == "restore":
            membership = services.membership_restore(
                group_id=group.pk, membership_id=membership_id, actor=request.user
            )
            messages.success(
                request,
                _("%(name)s is back in the group as %(role)s.")
                % {"name": membership.user.display_name, "role": membership.get_role_display()},
            )
        elif action == "remove":
            membership = services.membership_remove(
                group_id=group.pk, membership_id=membership_id, actor=request.user
            )
            messages.success(
                request, _("%(name)s has been removed.") % {"name": membership.user.display_name}
            )
        else:
            form = RoleForm(request.POST)  # every role: the service says who may give which
            if not form.is_valid():
                raise MembershipError(_("Choose a role from the list."))
            membership = services.membership_role_change(
                group_id=group.pk,
                membership_id=membership_id,
                actor=request.user,
                role=form.cleaned_data["role"],
            )
            messages.success(
                request,
                _("%(name)s's role is now %(role)s.")
                % {"name": membership.user.display_name, "role": membership.get_role_display()},
            )
    except MembershipError as error:
        messages.error(request, error.message)
    return redirect("groups:manage", slug=group.slug)


@group_staff_view
def edit(request, group):
    form = SupportGroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        services.support_group_update(
            group=group,
            data={field: form.cleaned_data[field] for field in form.Meta.fields},
            actor=request.user,
        )
        messages.success(request, _("The group's details have been saved."))
        return redirect("groups:manage", slug=group.slug)
    return render(request, "groups/edit.html", {"group": group, "form": form})


@group_staff_view
def conduct_edit(request, group):
    current = services.current_code_of_conduct(group)
    form = CodeOfConductForm(request.POST or None, initial={"text": current and current.text})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.code_of_conduct_publish(
                group=group, text=form.cleaned_data["text"], actor=request.user
            )
        except MembershipError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Version %(version)s is published. Members will be asked to accept it.")
                % {"version": version.version},
            )
            return redirect("groups:manage", slug=group.slug)
    return render(
        request, "groups/conduct_edit.html", {"group": group, "form": form, "current": current}
    )


@group_staff_view
def invite(request, group):
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_create(
                group=group, email=form.cleaned_data["email"], actor=request.user
            )
        except MembershipError as error:
            form.add_error("email", error.message)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s. It can be used once, within 14 days.")
                % {"email": form.cleaned_data["email"]},
            )
            return redirect("groups:manage", slug=group.slug)
    return render(request, "groups/invite.html", {"group": group, "form": form})


@login_required
def invitation(request, token):
    try:
        found = services.invitation_for_token(token)
    except MembershipError as error:
        return render(
            request, "groups/invitation_invalid.html", {"error": error.message}, status=404
        )
    group = found.group
    conduct = services.current_code_of_conduct(group)
    form = JoinForm(request.POST or None, initial={"conduct_version": conduct and conduct.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(
                token=token,
                user=request.user,
                accepted_conduct_version=form.cleaned_data["conduct_version"],
                contact_shared=form.cleaned_data["contact_shared"],
            )
        except MembershipError as error:
            messages.error(request, error.message)
            return render(
                request, "groups/invitation_invalid.html", {"error": error.message}, status=400
            )
        messages.success(request, _("Welcome! You are now a member of this group."))
        return redirect(group)
    return render(
        request,
        "groups/join.html",
        {"group": group, "form": form, "conduct": conduct, "invitation": found},
    )


@coordinator_required
def create(request):
    form = SupportGroupCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {field: form.cleaned_data[field] for field in SupportGroupForm.Meta.fields}
        group = services.support_group_create(
            data={"slug": form.cleaned_data["slug"], **data},
            facilitator=form.facilitator,
            actor=request.user,
            conduct_text=form.cleaned_data["code_of_conduct"],
        )
        messages.success(request, _("The group has been created."))
        return redirect("groups:manage", slug=group.slug)
    return render(request, "groups/create.html", {"form": form})
