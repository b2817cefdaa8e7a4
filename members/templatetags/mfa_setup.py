"""Where "Continue" goes once two-factor authentication is set up."""

from django import template
from django.urls import reverse

from members.mfa_setup import safe_next

register = template.Library()


@register.simple_tag(takes_context=True)
def continue_url(context) -> str:
    """The page the person was heading to (a safe `next`), else their account page."""
    return safe_next(context["request"]) or reverse("members:account")
