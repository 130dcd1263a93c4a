"""Domain errors shared by every app, mapped once to HTTP by the API and to messages by views.

- `Conflict`: the action is not allowed in the document's current state, or a guard failed
  (HTTP 409). django_fsm's TransitionNotAllowed is treated the same way.
- Django's `PermissionDenied` (403) and `ValidationError` (400, field errors) are used as they
  are.
"""

from __future__ import annotations


class Conflict(Exception):
    """A state conflict or a failed guard; the message says why, in the user's language."""

    def __init__(
        self, message: str, *, code: str = "conflict", messages: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        # Each reason on its own (e.g. every unmet guard of a transition), for pages that
        # list them; `message` is them all in one sentence.
        self.messages = messages if messages is not None else [str(message)]

    def __str__(self) -> str:
        return str(self.message)
