"""Guards that explain themselves: a django-fsm condition that carries the message a user reads
when it fails, and `unmet_conditions()` that lists those messages for one transition.

A model's condition is a plain function of the instance (no user: a job has none)::

    @guard(_("Add a decision-maker contact to the customer first."))
    def has_decision_maker(opportunity) -> bool: ...

    @transition(field=stage, source=..., target=..., conditions=[has_decision_maker])
    def qualify(self): ...

A service then refuses with every missing requirement at once (DESIGN.md: a guard that fails
says which requirement is missing) instead of django-fsm's generic TransitionNotAllowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.functional import Promise

Condition = Callable[[Any], bool]


def guard(message: str | Promise, *, field: str | None = None) -> Callable[[Condition], Condition]:
    """Decorator: attach the user-facing `message` (and the form `field` that would satisfy
    the guard, if any) to a condition function."""

    def decorate(condition: Condition) -> Condition:
        condition.message = message  # type: ignore[attr-defined]
        condition.field = field  # type: ignore[attr-defined]
        return condition

    return decorate


def unmet_conditions(instance: Any, method: Callable[..., Any]) -> list[Condition]:
    """The conditions of `method`'s transition from the instance's current state that are
    not met (empty when there is no such transition: the state check is the caller's)."""
    meta = getattr(method, "_django_fsm", None)
    if meta is None:
        raise TypeError(f"{method!r} is not an FSM transition.")
    state = getattr(instance, meta.field if isinstance(meta.field, str) else meta.field.name)
    transition = meta.get_transition(state)
    if transition is None:
        return []
    return [condition for condition in transition.conditions or () if not condition(instance)]


def unmet_messages(instance: Any, method: Callable[..., Any]) -> dict[str, list[str]]:
    """`unmet_conditions` as a ValidationError dict: field (or "__all__") → messages."""
    errors: dict[str, list[str]] = {}
    for condition in unmet_conditions(instance, method):
        key = getattr(condition, "field", None) or "__all__"
        message = getattr(condition, "message", None) or condition.__name__
        errors.setdefault(key, []).append(str(message))
    return errors
