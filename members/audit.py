"""What each audit action means, in plain words: every app registers its own.

Actions are short codes written by `members.services.audit_record` ("group.roster.view");
the audit log page shows the label registered here, so a coordinator reads "Opened a
group's roster" rather than a code. Register in AppConfig.ready().
"""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_labels: dict[str, str | Promise] = {}

# The members app's own actions (registered by members.apps).
MEMBERS_ACTIONS = {
    "outbox.message.view": _("Read a message in the email outbox"),
    "audit.export": _("Downloaded the audit log"),
}


def register_action(code: str, label: str | Promise) -> None:
    _labels[code] = label


def register_actions(actions: dict[str, str | Promise]) -> None:
    for code, label in actions.items():
        register_action(code, label)


def label_for(code: str) -> str | Promise:
    """The registered label, or the code itself for an action no app knows any more."""
    return _labels.get(code, code)


def registered_actions() -> dict[str, str | Promise]:
    return dict(_labels)
