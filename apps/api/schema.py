"""OpenAPI documentation of what every endpoint shares: the problem+json error responses, the
Bearer scheme and the `Idempotency-Key` header (API.md "Discovery and auth": the schema lists
every error response).

`ProblemAutoSchema` is the schema class of `apps.api.views.ApiViewMixin`; it adds to each
operation the errors it can answer, judged from the view (authentication and throttling),
the method (request body, POST) and the path (an object id):

- 400 for operations taking a body or query parameters, 415 for those taking a body;
- 401 and 403 unless the view allows anyone, 429 when the view is throttled;
- 404 for paths naming an object, and for bodies (a body names other objects: a customer, an
  opportunity, and one outside the caller's scope is a 404 like in an address);
- 409 and 422 for POST (Idempotency-Key, and a transition the state does not allow); 409 for
  PUT, PATCH and DELETE of an object (its state, or a version conflict);
- whatever else the view lists in `problem_statuses` (say, 404 for a list that only some roles
  may see).

405 is not listed per operation: the methods an address allows are the operations it has.

It also corrects what drf-spectacular's defaults would promise wrongly (schemathesis checks
every answer against the schema: `scripts/schemathesis.sh`):

- a `list` action of a view that is not DRF's ListModelMixin (a report: one object) answers
  what its serializer says, an array only with `many=True`;
- a time is "HH:MM[:SS[.ffffff]]" (a pattern), not JSON Schema's "time" format, which demands
  a UTC offset that Django's times never carry;
- a read-only choice, e-mail or URL may be blank when its model field is (`blank=True`), as
  drf-spectacular already says of writable ones (DRF drops `allow_blank` from read-only
  fields); a read-only field with `default=None` may be null.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object, is_list_serializer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin
from rest_framework.permissions import AllowAny

from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import MAX_KEY_LENGTH, REPLAYED_HEADER
from .problems import PROBLEM_CONTENT_TYPE


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text=_('The invalid field, nested names joined by "." (lines.0.amount); null for '
                    "an error about the whole request."),
    )  # fmt: skip
    code = serializers.CharField(help_text=_("A stable code, e.g. required, invalid."))
    message = serializers.CharField(help_text=_("A translated message for humans."))


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem: the body of every error response."""

    type = serializers.CharField(
        help_text=_("A URI naming the kind of problem, e.g. urn:salesctl:problem:not-found.")
    )
    title = serializers.CharField(help_text=_("A short, translated summary of the kind."))
    status = serializers.IntegerField(help_text=_("The HTTP status code."))
    detail = serializers.CharField(help_text=_("A translated explanation of this occurrence."))
    errors = ProblemFieldErrorSerializer(
        many=True, required=False, help_text=_("Invalid fields (validation errors only).")
    )


PROBLEM_DESCRIPTIONS: dict[int | str, Any] = {
    400: _("Invalid input: a malformed body, or invalid fields or parameters (see errors)."),
    401: _("No credentials, or an unknown, expired or revoked token."),
    403: _("The caller may not do this."),
    404: _("No such object, or it is outside the caller's data scope."),
    "404-body": _("No such object, or it is outside the caller's data scope: the one in the "
                  "address, or one the body names."),
    409: _("The request conflicts with the object's state, or the same Idempotency-Key is "
           "still being processed."),
    415: _("The body is not JSON."),
    422: _("The Idempotency-Key was already used for a different request."),
    429: _("Rate limit exceeded; retry after Retry-After seconds."),
}  # fmt: skip

_BODY_METHODS = {"POST", "PUT", "PATCH"}

# What Django's TimeField serializes ("16:30:00", "16:30:00.250000") and DRF parses ("16:30").
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
_FORMATTED_STRINGS = (serializers.EmailField, serializers.URLField)


def _model_field(field: serializers.Field) -> Any:
    """The model field behind a ModelSerializer's field (following a dotted source), or None."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    source = getattr(field, "source", "") or ""
    if model is None or not source or source == "*":
        return None
    *path, name = source.split(".")
    try:
        for step in path:
            model = model._meta.get_field(step).related_model
        return model._meta.get_field(name)
    except (FieldDoesNotExist, AttributeError):
        return None


class ProblemAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the shared error responses and headers."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "POST":
            parameters += [
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description=_(
                        "A unique key (at most %(max)d characters) per logical request. "
                        "A retry with the same key and body replays the first answer "
                        "instead of doing the work again; kept at least 24 hours."
                    )
                    % {"max": MAX_KEY_LENGTH},
                ),
                OpenApiParameter(
                    REPLAYED_HEADER,
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    response=[200, 201],
                    enum=["true"],
                    description=_("Present when the answer is a replay of a previous request."),
                ),
            ]
        return parameters

    def _has_query_parameters(self) -> bool:
        if self._get_filter_parameters() or self._get_pagination_parameters():
            return True
        # @extend_schema(parameters=[...]): a query parameter, or a serializer of them.
        return any(
            not isinstance(p, OpenApiParameter)
            or (p.location == OpenApiParameter.QUERY and not p.exclude and not p.response)
            for p in self.get_override_parameters()
        )

    def _problem_codes(self) -> set[int]:
        codes: set[int] = set(getattr(self.view, "problem_statuses", ()))
        if self.method in _BODY_METHODS:
            codes |= {400, 404, 415}
        elif self._has_query_parameters():
            codes.add(400)
        if any(not isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes |= {401, 403}
        if self.view.get_throttles():
            codes.add(429)
        if "{" in self.path:
            codes.add(404)
        if self.method == "POST":
            codes |= {409, 422}
        elif self.method in ("PUT", "PATCH", "DELETE") and "{" in self.path:
            # A document changes only in some states (a draft, not under approval), and a
            # record sent with If-Match / `version` may have changed since it was read.
            codes.add(409)
        return codes

    def _problem_description(self, code: int) -> Any:
        if code == 404 and self.method in _BODY_METHODS:
            return PROBLEM_DESCRIPTIONS["404-body"]
        return PROBLEM_DESCRIPTIONS[code]

    def _is_list_view(self, serializer: Any = None) -> bool:
        if getattr(self.view, "action", None) == "list" and not isinstance(
            self.view, ListModelMixin
        ):
            if serializer is None:
                serializer = self.get_response_serializers()
            if isinstance(serializer, dict) and serializer:
                serializer = {str(code): s for code, s in serializer.items()}
                serializer = serializer[min(serializer)]
            if isinstance(serializer, OpenApiResponse):
                serializer = serializer.response
            return is_list_serializer(serializer)
        return super()._is_list_view(serializer)

    def _map_serializer_field(
        self, field: Any, direction: str, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            del schema["format"]
            schema["pattern"] = TIME_PATTERN
        if (
            field.read_only
            and isinstance(field, serializers.ChoiceField)
            and "" not in schema.get("enum", [""])
            and getattr(_model_field(field), "blank", False)
        ):
            # DRF drops allow_blank from read-only model fields: what the column may hold.
            schema["enum"] = [*schema["enum"], ""]
        if field.read_only and field.default is None and "type" in schema:
            # `default=None` on a read-only field: what it answers when its source is missing
            # (`source="lead.company_name"` of a visit without a lead).
            schema["nullable"] = True
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        if (
            isinstance(field, _FORMATTED_STRINGS)
            and field.read_only
            and "format" in schema
            and getattr(_model_field(field), "blank", False)
        ):
            outer = {"readOnly", "writeOnly", "nullable", "deprecated", "description", "title"}
            inner = {k: schema.pop(k) for k in list(schema) if k not in outer}
            schema["oneOf"] = [inner, {"type": "string", "maxLength": 0}]

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._problem_codes()):
            key = str(code)
            if key in responses:
                continue
            response = self._get_response_for_code(
                OpenApiResponse(ProblemSerializer, description=self._problem_description(code)),
                key,
                [PROBLEM_CONTENT_TYPE],
                direction,
            )
            if code == 401:
                response["headers"] = {
                    "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
                }
            elif code == 429:
                response["headers"] = {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": str(_("Seconds to wait before retrying.")),
                    }
                }
            responses[key] = response
        return responses


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents `apps.api.authentication.BearerTokenAuthentication` as HTTP bearer auth."""

    target_class = "apps.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer"
        )
