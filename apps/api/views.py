"""Base classes of every API view: inherit one of these, never DRF's directly.

They add, for free, what API.md promises of every endpoint: problem+json errors documented in
the schema (`apps.api.schema.ProblemAutoSchema`) and the `Idempotency-Key` contract on POST
(`apps.api.idempotency`). Authentication, permissions, throttling, pagination and filters come
from REST_FRAMEWORK settings.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponseBase
from rest_framework import generics, mixins, viewsets
from rest_framework.request import Request
from rest_framework.views import APIView

from .idempotency import IdempotentReplay, IdempotentRequest
from .schema import ProblemAutoSchema


class ApiViewMixin:
    """Idempotent POSTs and problem documentation for any DRF view class."""

    schema = ProblemAutoSchema()
    # Error statuses the schema lists for every operation of the view besides the ones it
    # infers (ProblemAutoSchema), e.g. {404} for a list only some roles may see.
    problem_statuses: ClassVar[Collection[int]] = ()
    _idempotent: IdempotentRequest | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self._idempotent = None
        try:
            return super().dispatch(request, *args, **kwargs)
        except BaseException as exc:
            # DRF re-raises what its exception handler does not know; Django answers 500.
            if self._idempotent is not None:
                self._idempotent.abort(exc)
            raise

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self._idempotent = IdempotentRequest.begin(request)

    def handle_exception(self, exc: Exception) -> HttpResponseBase:
        if isinstance(exc, IdempotentReplay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._idempotent is not None:
            self._idempotent.finish(response)
        return response


class ApiView(ApiViewMixin, APIView):
    """A single-purpose endpoint, e.g. one state transition (STYLE.md)."""


class ApiGenericView(ApiViewMixin, generics.GenericAPIView):
    pass


class ApiGenericViewSet(ApiViewMixin, viewsets.GenericViewSet):
    pass


class ApiReadOnlyModelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    """List and detail; `get_queryset` returns a selector's scoped queryset."""


class ApiModelViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ApiReadOnlyModelViewSet,
):
    """CRUD; `perform_create`/`perform_update` call services."""
