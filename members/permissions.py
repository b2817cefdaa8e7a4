"""Who may do what: the one place that views and services both ask.

Each app registers the rules for its own actions in its AppConfig.ready(), as it does for
its personal-data section and its notification kinds; this module knows no app by name.
Views ask `allowed()` to decide what to show and whom to refuse; services call
`require()` before they write, so a view that forgets its gate cannot change data.

A rule takes the person and the thing acted on, plus whatever the caller already knows
about the person's relation to it (for example the membership a view has just read),
so that asking costs no second query.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied

from members.models import User

Rule = Callable[..., bool]

_rules: dict[str, Rule] = {}


class NotAllowed(PermissionDenied):
    """The acting person may not do this; views answer 403 with nothing in the body."""

    def __init__(self, action: str):
        super().__init__(action)
        self.action = action


def register(action: str, rule: Rule) -> None:
    """Register the rule for `action` ("app.verb"); one rule per action."""
    if action in _rules and _rules[action] is not rule:
        raise ValueError(f"A rule for {action!r} is already registered.")
    _rules[action] = rule


def actions() -> list[str]:
    return sorted(_rules)


def allowed(user: User | None, action: str, target: Any = None, **known: Any) -> bool:
    """Whether `user` may do `action` to `target`; inactive and anonymous people never may."""
    rule = _rules[action]  # an unknown action is a programming error, not a refusal
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(rule(user, target, **known))


def require(user: User | None, action: str, target: Any = None, **known: Any) -> None:
    """Raise NotAllowed unless `user` may do `action` to `target`."""
    if not allowed(user, action, target, **known):
        raise NotAllowed(action)


def is_coordinator(user: User, _target: Any = None, **_known: Any) -> bool:
    return user.is_coordinator


def register_rules() -> None:
    """The members app's own actions: the programme-wide tools of coordinators."""
    register("programme.coordinate", is_coordinator)
