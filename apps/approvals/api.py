"""`/api/v1/approvals/` and `/api/v1/delegations/`.

Approvals (审批): the requests the caller may see (their data scope, plus every request in which
they have a task), "waiting for me" (`approvals/inbox/`, 待我审批), and the transitions
`approve`, `reject` (退回) and `withdraw` (撤回), each a thin call of its service: out of scope
is 404, not an approver 403, not the caller's turn or no longer pending 409.

Delegations (代理审批): the caller's own, to list, create and cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import UpdatedSinceFilter
from apps.api.views import ApiReadOnlyModelViewSet

from .choices import RequestStatus
from .delegations import delegation_create, delegation_delete, delegation_get, delegation_list
from .models import ApprovalRequest, Delegation
from .selectors import approval_get, approval_inbox, approval_list
from .serializers import (
    ApprovalCommentSerializer,
    ApprovalDetailSerializer,
    ApprovalInboxSerializer,
    ApprovalRejectSerializer,
    ApprovalSerializer,
    DelegationCreateSerializer,
    DelegationSerializer,
)
from .services import approval_approve, approval_reject, approval_withdraw

# --- approvals ---------------------------------------------------------------------------


class ApprovalListParamsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=RequestStatus.choices, required=False, allow_blank=True, default=""
    )
    document_type = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


class ApprovalInboxParamsSerializer(serializers.Serializer):
    document_type = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )


_DOCUMENT_TYPE_PARAMETER = OpenApiParameter(
    "document_type", str, description=_('Only this kind of document, e.g. "contracts.contract".')
)
_DECISION_DESCRIPTION = _(
    "Answers the updated request. 403 if you approve no step of it; 409 if it is not your "
    "turn (you decided already, or your step comes later) or it is no longer pending."
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Approval requests you may see"),
        parameters=[
            OpenApiParameter(
                "status", str, enum=RequestStatus.values, description=_("Only this status.")
            ),
            _DOCUMENT_TYPE_PARAMETER,
            OpenApiParameter("search", str, description=_("Part of the document's title.")),
        ],
    ),
    retrieve=extend_schema(
        summary=_("One approval request, with its rounds and what you may do now")
    ),
)
class ApprovalViewSet(ApiReadOnlyModelViewSet):
    """Approval requests (审批) of the documents in your data scope and of those in which you
    approve a step."""

    serializer_class = ApprovalSerializer
    search_fields = ["title"]
    lookup_value_converter = "int"

    @property
    def cursor_ordering(self) -> tuple[str, ...] | None:
        # The inbox is read oldest first: the longest-waiting task is the most urgent.
        return ("created_at", "id") if self.action == "inbox" else None

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return ApprovalSerializer
        if self.action == "inbox":
            return ApprovalInboxSerializer
        return ApprovalDetailSerializer

    def get_queryset(self) -> QuerySet[ApprovalRequest]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return ApprovalRequest.objects.none()
        if self.action == "list":
            params = ApprovalListParamsSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            return approval_list(user=self.request.user, **params.validated_data)
        return approval_list(user=self.request.user)

    def get_object(self) -> ApprovalRequest:
        approval = approval_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, approval)
        return approval

    def _detail(self, pk: int) -> Response:
        approval = approval_get(user=self.request.user, pk=pk)
        return Response(
            ApprovalDetailSerializer(approval, context=self.get_serializer_context()).data
        )

    def _transition(
        self,
        service: Callable[..., ApprovalRequest],
        params_class: type[serializers.Serializer],
    ) -> Response:
        approval = self.get_object()  # 404 outside the caller's sight, before anything else
        params = params_class(data=self.request.data)
        params.is_valid(raise_exception=True)
        service(request=approval, by=self.request.user, comment=params.validated_data["comment"])
        return self._detail(approval.pk)

    @extend_schema(
        summary=_("Approvals waiting for you (待我审批), oldest first"),
        parameters=[_DOCUMENT_TYPE_PARAMETER],
        responses=ApprovalInboxSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def inbox(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = ApprovalInboxParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        tasks = approval_inbox(user=request.user, **params.validated_data)
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(ApprovalInboxSerializer(page, many=True).data)

    @extend_schema(
        summary=_("Approve (同意) the step waiting for you"),
        description=_DECISION_DESCRIPTION,
        request=ApprovalCommentSerializer,
        responses=ApprovalDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(approval_approve, ApprovalCommentSerializer)

    @extend_schema(
        summary=_("Return (退回) the document to its submitter, with a comment"),
        description=_DECISION_DESCRIPTION,
        request=ApprovalRejectSerializer,
        responses=ApprovalDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(approval_reject, ApprovalRejectSerializer)

    @extend_schema(
        summary=_("Withdraw (撤回) your submission while it is pending"),
        description=_(
            "Answers the updated request. 403 if you did not submit it; 409 if it is no "
            "longer pending."
        ),
        request=ApprovalCommentSerializer,
        responses=ApprovalDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def withdraw(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(approval_withdraw, ApprovalCommentSerializer)


# --- delegations -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary=_("Your delegations")),
    retrieve=extend_schema(summary=_("One of your delegations")),
    destroy=extend_schema(summary=_("Cancel one of your delegations")),
)
class DelegationViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ApiReadOnlyModelViewSet):
    """Delegations (代理审批): while you are away, the tasks that reach you go to your delegate,
    who approves on your behalf. You see and manage only your own."""

    serializer_class = DelegationSerializer
    # No search or field filters: `updated_since` only (a search would be documented and ignored).
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    cursor_ordering = ("-starts_on", "-id")

    def get_queryset(self) -> QuerySet[Delegation]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Delegation.objects.none()
        return delegation_list(user=self.request.user)

    def get_object(self) -> Delegation:
        delegation = delegation_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, delegation)
        return delegation

    @extend_schema(
        summary=_("Delegate your approvals for a period"),
        request=DelegationCreateSerializer,
        responses={status.HTTP_201_CREATED: DelegationSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = DelegationCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        delegation = delegation_create(user=request.user, **params.validated_data)
        return Response(DelegationSerializer(delegation).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        delegation_delete(delegation=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
