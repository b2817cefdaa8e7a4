from django.utils.translation import gettext_lazy as _


class MembershipError(Exception):
    """A rule about joining or managing a group was broken by the request.

    The message is safe to show to the person who made the request.
    """

    default_message = _("That can't be done.")

    def __init__(self, message=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class InvitationError(MembershipError):
    default_message = _("This invitation is not valid.")
