"""Filters every API list shares: `updated_since` for incremental sync (API.md "ERP
integration")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

UPDATED_SINCE = "updated_since"


def _has_updated_at(model: Any) -> bool:
    return any(f.name == "updated_at" for f in model._meta.get_fields())


def parse_updated_since(raw: str) -> datetime:
    """An ISO 8601 date-time; naive values are in the business time zone.

    An unencoded "+08:00" offset arrives as " 08:00" (a "+" in a query string is a space), so
    that spelling is accepted too rather than answered with a puzzling error.
    """
    value = parse_datetime(raw.strip())
    if value is None and " " in raw.strip():
        head, _sep, tail = raw.strip().rpartition(" ")
        value = parse_datetime(f"{head}+{tail}")
    if value is None:
        raise ValueError(raw)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class UpdatedSinceFilter(BaseFilterBackend):
    """`?updated_since=<ISO 8601 date-time>`: rows with `updated_at` at or after it.

    Applies to lists whose model has `updated_at`; with the cursor ordered by (updated_at, id)
    a client pulls everything changed since its last run.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet, view) -> QuerySet:
        raw = request.query_params.get(UPDATED_SINCE)
        if raw is None or not _has_updated_at(queryset.model):
            return queryset
        try:
            since = parse_updated_since(raw)
        except ValueError:
            raise ValidationError(
                {
                    UPDATED_SINCE: [
                        _("Enter a valid ISO 8601 date-time, e.g. 2025-01-31T08:00:00+08:00.")
                    ]
                }
            ) from None
        return queryset.filter(updated_at__gte=since)

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        model = _view_model(view)
        if model is None or not _has_updated_at(model):
            return []
        return [
            {
                "name": UPDATED_SINCE,
                "required": False,
                "in": "query",
                "description": str(
                    _(
                        "Only records changed at or after this ISO 8601 date-time "
                        "(incremental sync)."
                    )
                ),
                "schema": {"type": "string", "format": "date-time"},
            }
        ]


def _view_model(view) -> Any:
    """The model a list view returns, without running its (user-scoped) get_queryset()."""
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        return queryset.model
    get_serializer_class = getattr(view, "get_serializer_class", None)
    serializer_class = get_serializer_class() if get_serializer_class else None
    return getattr(getattr(serializer_class, "Meta", None), "model", None)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An integer id filter (`?org_unit=4`) for FilterSets: no query to check that the row
    exists (the result is scoped anyway), and "4.5" is a 400, not silently 4."""

    field_class = forms.IntegerField
