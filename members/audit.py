"""What each audit action means, in plain words: every app registers its own.

Actions are short codes written by `members.services.audit_record` ("group.roster.view");
the audit log page shows the label registered here, so a coordinator reads "opened the
roster" rather than a code. Register in AppConfig.ready().
"""

from django.utils.functional import Promise

_labels: dict[str, str | Promise] = {}


def register_action(code: str, label: str | Promise) -> None:
    _labels[code] = label


def label_for(code: str) -> str | Promise:
    """The registered label, or the code itself for an action no app knows any more."""
    return _labels.get(code, code)


def registered_actions() -> dict[str, str | Promise]:
    return dict(_labels)
