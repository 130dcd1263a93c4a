"""The API's exceptions and the DRF exception handler that answers every error as problem+json.

Besides DRF's own exceptions, the handler maps what services raise, so that a service written
for the UI needs nothing API-specific:

- Django ``Http404`` → 404 (never with the model name a ``get_object_or_404`` message carries);
- Django ``PermissionDenied`` → 403 with the service's message;
- Django ``ValidationError`` → 400 with ``errors`` per field;
- django-fsm ``TransitionNotAllowed`` and the domain's ``apps.core.errors.Conflict`` → 409
  (API.md "State transitions").

Anything else is left to DRF, which re-raises it; Django then calls ``handler500``
(`apps.core.views.server_error`), which answers a problem+json 500 for /api/ paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_fsm import TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from apps.core.errors import Conflict as DomainConflict

from .authentication import InvalidToken
from .problems import PROBLEM_CONTENT_TYPE, TITLES, problem_body


class Conflict(exceptions.APIException):
    """The request conflicts with the current state of the resource (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the resource.")
    default_code = "conflict"


class IdempotencyKeyInUse(Conflict):
    default_detail = _(
        "A request with this Idempotency-Key is still being processed. Retry it later."
    )
    default_code = "idempotency_key_in_use"
    wait = 1


class IdempotencyKeyReused(exceptions.APIException):
    """The key was already used for a different request (another body, path or method)."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = _(
        "This Idempotency-Key was already used for a different request. "
        "Send a new key for a new request."
    )
    default_code = "idempotency_key_reused"


def flatten_errors(detail: Any, field: str | None = None) -> list[dict[str, Any]]:
    """DRF's nested error detail as a flat list of {field, code, message}.

    Nested fields are joined with "." ("lines.0.amount"); non-field errors carry the path of
    the object they belong to, which is null at the top level.
    """
    if isinstance(detail, Mapping):
        flat: list[dict[str, Any]] = []
        for key, value in detail.items():
            if key in (api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS):
                sub = field
            else:
                sub = f"{field}.{key}" if field else str(key)
            flat += flatten_errors(value, sub)
        return flat
    if isinstance(detail, list | tuple):
        flat = []
        for index, item in enumerate(detail):
            if isinstance(item, Mapping | list | tuple):
                flat += flatten_errors(item, f"{field}.{index}" if field else str(index))
            else:
                flat += flatten_errors(item, field)
        return flat
    return [{"field": field, "code": getattr(detail, "code", None) or "invalid", "message": detail}]


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    return " ".join(
        f"{e['field']}: {e['message']}" if e["field"] else str(e["message"]) for e in errors[:5]
    )


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args[:1])
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(get_error_detail(exc))
    if isinstance(exc, TransitionNotAllowed):
        return Conflict(_("This action is not allowed in the current state."))
    if isinstance(exc, DomainConflict):
        return Conflict(exc.message, code=exc.code)
    return None


def _kind(exc: exceptions.APIException) -> str | None:
    if isinstance(exc, exceptions.ValidationError):
        return "validation-error"
    kind = str(getattr(exc, "default_code", "")).replace("_", "-")
    return kind if kind in TITLES else None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every known exception as an RFC 9457 problem."""
    api_exc = _as_api_exception(exc)
    if api_exc is None:
        return None

    headers: dict[str, str] = {}
    auth_header = getattr(api_exc, "auth_header", None)
    if auth_header:
        if isinstance(api_exc, InvalidToken) and auth_header.startswith("Bearer"):
            auth_header = f'{auth_header}, error="invalid_token"'
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(api_exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))

    status_code = api_exc.status_code
    if isinstance(api_exc.detail, Mapping | list):
        errors = flatten_errors(api_exc.detail)
        body = problem_body(
            status_code, kind=_kind(api_exc), detail=_validation_detail(errors), errors=errors
        )
    else:
        body = problem_body(status_code, kind=_kind(api_exc), detail=api_exc.detail)

    # Members a problem adds to the standard ones (e.g. a version conflict's `current`).
    body.update(getattr(api_exc, "problem_extra", None) or {})
    headers.update(getattr(api_exc, "problem_headers", None) or {})
    set_rollback()
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
