"""Problem details (RFC 9457): the one error format of the API (API.md "Errors").

Every error under /api/ is ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` and, for invalid input, ``errors: [{field, code, message}]``. DRF exceptions reach
this module through `apps.api.exceptions.problem_exception_handler`; errors raised outside a
DRF view (an unknown URL, an unhandled exception) through Django's error handlers in
`apps.core.views`, which call `problem_response`.

``type`` is a stable URN per kind of problem (``urn:salesctl:problem:not-found``) that a client
may switch on; ``title`` and ``detail`` are for humans and follow ``Accept-Language``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:salesctl:problem:"

# The kind of problem answered by default for a bare status code.
STATUS_KINDS: dict[int, str] = {
    400: "bad-request",
    401: "not-authenticated",
    403: "permission-denied",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "unprocessable-content",
    429: "throttled",
    500: "server-error",
    503: "service-unavailable",
}

TITLES: dict[str, Any] = {
    "bad-request": _("Bad request"),
    "validation-error": _("Invalid input"),
    "parse-error": _("Malformed request body"),
    "not-authenticated": _("Authentication required"),
    "authentication-failed": _("Authentication failed"),
    "permission-denied": _("Permission denied"),
    "not-found": _("Not found"),
    "method-not-allowed": _("Method not allowed"),
    "not-acceptable": _("Not acceptable"),
    "conflict": _("Conflict"),
    "version-conflict": _("Changed since you read it"),
    "idempotency-key-in-use": _("Request in progress"),
    "idempotency-key-reused": _("Idempotency key reused"),
    "payload-too-large": _("Request too large"),
    "unsupported-media-type": _("Unsupported media type"),
    "unprocessable-content": _("Unprocessable request"),
    "throttled": _("Too many requests"),
    "server-error": _("Server error"),
    "service-unavailable": _("Service unavailable"),
}

DETAILS: dict[int, Any] = {
    400: _("The request could not be understood."),
    401: _("Authentication credentials were not provided."),
    403: _("You do not have permission to perform this action."),
    404: _("There is nothing at this address, or it is outside your data scope."),
    405: _("This method is not allowed on this address."),
    500: _("An unexpected error occurred. It has been logged; please try again later."),
}


def problem_type(kind: str) -> str:
    return f"{PROBLEM_TYPE_PREFIX}{kind}"


def problem_body(
    status: int,
    *,
    kind: str | None = None,
    title: Any = None,
    detail: Any = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The problem document for `status`, with lazy strings resolved in the active language."""
    kind = kind or STATUS_KINDS.get(status, "bad-request" if status < 500 else "server-error")
    body: dict[str, Any] = {
        "type": problem_type(kind),
        "title": str(title or TITLES.get(kind, TITLES["bad-request"])),
        "status": status,
        "detail": str(detail if detail is not None else DETAILS.get(status, "")),
    }
    if errors is not None:
        body["errors"] = [
            {"field": e["field"], "code": str(e["code"]), "message": str(e["message"])}
            for e in errors
        ]
    return body


def problem_response(
    request: HttpRequest | None,
    status: int,
    *,
    kind: str | None = None,
    title: Any = None,
    detail: Any = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponse:
    """A problem+json response built without DRF: for Django's error handlers (unknown URL,
    500), which run outside any API view. `request` is unused: the language is the one
    LocaleMiddleware activated for it."""
    body = problem_body(status, kind=kind, title=title, detail=detail, errors=errors)
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        headers=dict(headers or {}),
    )
