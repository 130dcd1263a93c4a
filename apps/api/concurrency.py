"""Optimistic concurrency for ERP writes (API.md "ERP integration"; issue 9).

A record's `version` is its `updated_at` in microseconds since the epoch: every write moves it
(`auto_now`), including the jobs' set-based updates, so it needs no column of its own. Detail
and upsert answers carry it in the body and as a strong `ETag`; a write that sends
`If-Match: "<version>"` (or `"version": <version>` in the body) is refused with 409 and the
current record when someone changed it since, so an ERP never overwrites an edit it has not
seen.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from apps.core.versions import StaleVersion, version_of

from .exceptions import Conflict


def etag_of(instance: models.Model) -> str:
    return f'"{version_of(instance)}"'


class VersionConflict(Conflict):
    default_detail = _(
        "This record was changed by someone else since you read it: the current version is "
        "in `current`; apply your change to it and send it again."
    )
    default_code = "version_conflict"

    def __init__(self, current: dict[str, Any], etag: str) -> None:
        super().__init__()
        self.problem_extra = {"current": current}
        self.problem_headers = {"ETag": etag}


def expected_version(request: Request, body_version: Any = None) -> int | None:
    """The version the client read: `If-Match: "<v>"` (a weak `W/` prefix or `*` accepted:
    `*` matches any), else the body's `version`; None when it sent neither."""
    header = (request.headers.get("If-Match") or "").strip()
    if header and header != "*":
        tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
        try:
            return int(tag)
        except ValueError:
            return -1  # matches no version: a 409 tells the client the current one
    if body_version not in (None, ""):
        try:
            return int(body_version)
        except (TypeError, ValueError):
            return -1
    return None


class VersionedViewMixin:
    """For a ViewSet whose read serializer has `version`: a StaleVersion from a service answers
    409 with the current record, and a single record's answer carries its ETag."""

    version_read_serializer: Any = None

    def handle_exception(self, exc: Exception):
        if isinstance(exc, StaleVersion):
            serializer = self.version_read_serializer or self.get_serializer_class()
            current = serializer(exc.instance, context=self.get_serializer_context()).data
            exc = VersionConflict(current, etag_of(exc.instance))
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response, *args: Any, **kwargs: Any):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if (
            200 <= response.status_code < 300
            and isinstance(data, dict)
            and isinstance(data.get("version"), int)
            and "id" in data
        ):
            response["ETag"] = f'"{data["version"]}"'
        return response


@extend_schema_field(OpenApiTypes.INT64)
class VersionField(serializers.Field):
    """The record's version (read-only): send it back as `If-Match: "<version>"`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            _('The version you read: send it back as If-Match: "<version>" to refuse '
              "overwriting a newer change (409)."),
        )  # fmt: skip
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value: models.Model) -> int:
        return version_of(value)
