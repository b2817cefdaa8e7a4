"""Emails about joining groups. Each task takes ids and re-reads the rows it needs."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from groups.models import STAFF_ROLES, Membership, MembershipStatus, SupportGroup


def _send(*, to: list[str], language: str, template: str, context: dict) -> None:
    with translation.override(language):
        subject, _separator, body = render_to_string(template, context).strip().partition("\n")
    send_mail(subject.strip(), body.strip() + "\n", settings.DEFAULT_FROM_EMAIL, to)


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _facilitators(group_id: int):
    return Membership.objects.select_related("user").filter(
        group_id=group_id,
        status=MembershipStatus.ACTIVE,
        role__in=STAFF_ROLES,
        user__is_active=True,
    )


@shared_task
def send_invitation(invitation_id: int, token: str) -> None:
    from groups.models import Invitation

    invitation = (
        Invitation.objects.select_related("group", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return
    _send(
        to=[invitation.email],
        language=invitation.group.language
        if invitation.group.language in dict(settings.LANGUAGES)
        else settings.LANGUAGE_CODE,
        template="groups/email/invitation.txt",
        context={
            "invitation": invitation,
            "group": invitation.group,
            "accept_url": _site_url(reverse("groups:invitation", kwargs={"token": token})),
        },
    )


@shared_task
def notify_member_left_after_erasure(group_id: int) -> None:
    group = SupportGroup.objects.filter(pk=group_id).first()
    if group is None:
        return
    for staff in _facilitators(group_id):
        _send(
            to=[staff.user.email],
            language=staff.user.language,
            template="groups/email/member_erased.txt",
            context={"group": group},
        )
