from django.utils.translation import gettext_lazy as _


class MeetingError(Exception):
    """A rule about meetings was broken by the request; the message is safe to show."""

    default_message = _("That can't be done.")

    def __init__(self, message=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
