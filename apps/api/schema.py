"""OpenAPI documentation of what every endpoint shares: the problem+json error responses, the
Bearer scheme and the `Idempotency-Key` header (API.md "Discovery and auth": the schema lists
every error response).

`ProblemAutoSchema` is the schema class of `apps.api.views.ApiViewMixin`; it adds to each
operation the errors it can answer, judged from the view (authentication and throttling),
the method (request body, POST) and the path (an object id):

- 400 for operations taking a body or query parameters, 415 for those taking a body;
- 401 and 403 unless the view allows anyone, 429 when the view is throttled;
- 404 for paths naming an object; 409 and 422 for POST (Idempotency-Key).

405 is not listed per operation: the methods an address allows are the operations it has.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
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


PROBLEM_DESCRIPTIONS: dict[int, Any] = {
    400: _("Invalid input: a malformed body, or invalid fields or parameters (see errors)."),
    401: _("No credentials, or an unknown, expired or revoked token."),
    403: _("The caller may not do this."),
    404: _("No such object, or it is outside the caller's data scope."),
    409: _("The request conflicts with the object's state, or the same Idempotency-Key is "
           "still being processed."),
    415: _("The body is not JSON."),
    422: _("The Idempotency-Key was already used for a different request."),
    429: _("Rate limit exceeded; retry after Retry-After seconds."),
}  # fmt: skip

_BODY_METHODS = {"POST", "PUT", "PATCH"}


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

    def _problem_codes(self) -> set[int]:
        codes: set[int] = set()
        has_query = bool(self._get_filter_parameters() or self._get_pagination_parameters())
        if self.method in _BODY_METHODS:
            codes |= {400, 415}
        elif has_query:
            codes.add(400)
        if any(not isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes |= {401, 403}
        if self.view.get_throttles():
            codes.add(429)
        if "{" in self.path:
            codes.add(404)
        if self.method == "POST":
            codes |= {409, 422}
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in sorted(self._problem_codes()):
            key = str(code)
            if key in responses:
                continue
            response = self._get_response_for_code(
                OpenApiResponse(ProblemSerializer, description=PROBLEM_DESCRIPTIONS[code]),
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
