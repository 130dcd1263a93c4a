"""What every bulk endpoint shares (API.md "ERP integration", issue 9): `POST
/api/v1/<resource>/bulk/` with `{"records": [...]}` of 1 to 1,000 records.

- All records are validated together. If any is invalid, nothing is applied and the answer is
  a 400 problem whose `errors` name the record and field: `records.<index>.<field>`.
- Otherwise all are applied in one transaction and the answer (200) has one result per record,
  in the order sent: its index, `created` / `updated` / `unchanged`, the id and external id.
- The same request again changes nothing: each record is keyed (an external id, a bank
  reference), so a record already applied answers `unchanged`; and the `Idempotency-Key`
  header replays the first answer as on every POST.

Services build a list of `BulkResult` and raise `bulk_errors(...)` when a record is invalid;
views answer `bulk_response(results)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings

MAX_BULK_RECORDS = 1000


class BulkStatus(models.TextChoices):
    CREATED = "created", pgettext_lazy("bulk result", "created")
    UPDATED = "updated", pgettext_lazy("bulk result", "updated")
    UNCHANGED = "unchanged", pgettext_lazy("bulk result", "unchanged")


@dataclass(frozen=True)
class BulkResult:
    index: int
    status: str
    id: int
    external_id: str = ""


def bulk_errors(errors: Mapping[int, Mapping[str, Sequence[Any]]]) -> ValidationError:
    """A ValidationError naming each invalid record's fields `records.<index>.<field>`
    (a record-wide error: `records.<index>`). Raise it: the transaction rolls back."""
    flat: dict[str, list[Any]] = {}
    for index in sorted(errors):
        for field, messages in errors[index].items():
            key = f"records.{index}" if field in ("", "__all__") else f"records.{index}.{field}"
            flat.setdefault(key, []).extend(messages)
    return ValidationError(flat)


Errors = dict[int, dict[str, list[Any]]]


def add_error(errors: Errors, index: int, field: str, message: Any, code: str = "invalid") -> None:
    """Note an error of record `index` on `field` ("" for the record as a whole)."""
    if not isinstance(message, ValidationError):
        message = ValidationError(message, code=code)
    errors.setdefault(index, {}).setdefault(field, []).append(message)


def start_errors(invalid: Mapping[int, Mapping[str, Sequence[Any]]]) -> Errors:
    """The errors found while parsing (`parse_bulk_records`), to which a service adds its own."""
    return {index: {f: list(m) for f, m in e.items()} for index, e in invalid.items()}


def note_batch_key(
    errors: Errors, index: int, key: str, first_of_key: dict[str, int], *, missing: Any
) -> None:
    """Record `index`'s external id: `missing` when it has none, an error when an earlier record
    of the batch has it, else remembered in `first_of_key` (unless the field is invalid)."""
    if "external_id" in errors.get(index, {}):
        return
    if not key:
        add_error(errors, index, "external_id", missing, "required")
    elif key in first_of_key:
        add_error(
            errors, index, "external_id",
            _("Record %(index)d of this batch has the same external id.")
            % {"index": first_of_key[key]},
            "duplicate_external_id",
        )  # fmt: skip
    else:
        first_of_key[key] = index


def check_record_count(records: Sequence[Any]) -> None:
    if not records:
        raise ValidationError({"records": [_("Send at least one record.")]})
    if len(records) > MAX_BULK_RECORDS:
        raise ValidationError(
            {
                "records": [
                    _("Send at most %(max)d records in one request.") % {"max": MAX_BULK_RECORDS}
                ]
            }
        )


class BulkResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("The record's position in `records`, from 0."))
    status = serializers.ChoiceField(choices=BulkStatus.choices)
    id = serializers.IntegerField()
    external_id = serializers.CharField(allow_blank=True)


class BulkResponseSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


def bulk_response(results: Sequence[BulkResult]) -> Response:
    counts = {s.value: 0 for s in BulkStatus}
    for result in results:
        counts[result.status] += 1
    body = {
        **counts,
        "results": [
            {"index": r.index, "status": r.status, "id": r.id, "external_id": r.external_id}
            for r in sorted(results, key=lambda r: r.index)
        ],
    }
    return Response(body, status=200)


def bulk_request_serializer(record: type[serializers.Serializer], name: str) -> type:
    """`{"records": [<record>, ...]}` (1 to 1,000), a named component for the schema."""

    return type(
        name,
        (serializers.Serializer,),
        {
            "records": record(
                many=True,
                min_length=1,
                max_length=MAX_BULK_RECORDS,
                help_text=_("1 to 1,000 records, applied all or none."),
            ),
            "__module__": record.__module__,
        },
    )


class _BulkParams(serializers.Serializer):
    """What the bulk view parses itself: each record is then checked on its own, so that one
    400 names the errors of every record (the serializer's and the service's)."""

    records = serializers.ListField(child=serializers.JSONField())


def parse_bulk_records(
    data: Any, record_serializer: type[serializers.Serializer]
) -> tuple[list[dict[str, Any] | None], dict[int, dict[str, list[DjangoValidationError]]]]:
    """The records of a bulk body, each validated by `record_serializer`: (records, errors by
    index); an invalid record is None. A body without 1 to 1,000 records is a 400 at once."""
    params = _BulkParams(data=data)
    params.is_valid(raise_exception=True)
    raw_records = params.validated_data["records"]
    check_record_count(raw_records)
    records: list[dict[str, Any] | None] = []
    invalid: dict[int, dict[str, list[DjangoValidationError]]] = {}
    child = record_serializer()  # one instance for all (as a ListSerializer does): no copies
    for index, raw in enumerate(raw_records):
        try:
            records.append(dict(child.run_validation(raw)))
        except serializers.ValidationError as exc:
            records.append(None)
            detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
            invalid[index] = {
                "" if field == api_settings.NON_FIELD_ERRORS_KEY else field: [
                    DjangoValidationError(str(message), code=getattr(message, "code", "invalid"))
                    for message in messages
                ]
                for field, messages in detail.items()
            }
    return records, invalid
