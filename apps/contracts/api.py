"""`/api/v1/contracts/` and `/api/v1/contract-amendments/`: thin views over `services` and
`selectors`.

Contracts are scoped by owner (finance sees all; out of sight is a 404). A draft's lines and
payment terms are replaced as sets; errors name `lines[<index>].<field>` and
`terms[<index>].<field>`. One POST per transition: submit, sign, start-execution, complete,
terminate; a transition the state does not allow answers 409, a customer on credit hold too.
The ERP upserts a contract by its key, `PUT contracts/external/<external_id>/`: a new draft,
or a change of the existing draft, with `If-Match` / `version` (409 and the current contract
when it changed since).

Registered by apps/api/urls.py from `ROUTES`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.concurrency import VersionedViewMixin, VersionField, expected_version
from apps.api.filters import UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet
from apps.customers.models import Customer
from apps.customers.selectors import customer_get, customer_list
from apps.receivables.choices import OPEN_STATUSES

from . import selectors, services
from .choices import ContractStatus
from .models import Contract, ContractAmendment, ContractLine, PaymentTerm

ZERO = Decimal("0.00")


class ContractCustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name"]
        read_only_fields = fields


class ContractLineSerializer(serializers.ModelSerializer):
    product_name = serializers.CharField(source="product.name", read_only=True, default="")

    class Meta:
        model = ContractLine
        fields = ["id", "position", "product", "product_name", "description", "quantity",
                  "unit_price", "discount_pct", "amount"]  # fmt: skip
        read_only_fields = fields


class ContractTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentTerm
        fields = ["sequence", "kind", "due_date", "percentage", "amount"]
        read_only_fields = fields


class ContractInstallmentsSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    paid = serializers.DecimalField(max_digits=16, decimal_places=2)
    open = serializers.DecimalField(max_digits=16, decimal_places=2)
    open_count = serializers.IntegerField()


class ContractSerializer(serializers.ModelSerializer):
    """A contract in a list: no lines or terms (the detail has them)."""

    customer = ContractCustomerRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True)
    version = VersionField()
    amendment_version = serializers.IntegerField(
        source="version", read_only=True,
        help_text=_("1, then one more per approved amendment (补充协议)."),
    )  # fmt: skip

    class Meta:
        model = Contract
        fields = ["id", "version", "number", "title", "status", "customer", "opportunity",
                  "owner", "amount", "credit_portion", "penalty_rate_per_day", "grace_days",
                  "needs_credit_override", "signed_on", "starts_on", "ends_on", "notes",
                  "termination_reason", "return_comment", "amendment_version", "external_id",
                  "approved_at", "signed_at", "completed_at", "terminated_at", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields


class ContractDetailSerializer(ContractSerializer):
    lines = ContractLineSerializer(many=True, read_only=True)
    terms = ContractTermSerializer(many=True, read_only=True)
    installments = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: update, submit, sign, start_execution, complete, "
                    "amend, terminate.")
    )  # fmt: skip

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "lines", "terms", "installments",
                  "available_transitions"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ContractInstallmentsSummarySerializer)
    def get_installments(self, contract: Contract) -> dict[str, Any]:
        rows = list(contract.installments.all())
        open_rows = [i for i in rows if i.status in OPEN_STATUSES]
        return {
            "count": len(rows),
            "amount": f"{sum((i.amount for i in rows), ZERO):.2f}",
            "paid": f"{sum((i.paid_amount for i in rows), ZERO):.2f}",
            "open": f"{sum((i.open_amount for i in open_rows), ZERO):.2f}",
            "open_count": len(open_rows),
        }

    def get_available_transitions(self, contract: Contract) -> list[str]:
        request = self.context.get("request")
        return services.contract_actions(getattr(request, "user", None), contract)


class ContractLineWriteSerializer(serializers.Serializer):
    """One line: `unit_price` blank or absent is the product's list price."""

    product = serializers.IntegerField(help_text=_("The product's id (an active product)."))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2)
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    discount_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, default=0
    )
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ContractTermWriteSerializer(serializers.Serializer):
    """One payment term: an `amount` or a `percentage` of the total, not both."""

    kind = serializers.ChoiceField(
        choices=[c[0] for c in PaymentTerm._meta.get_field("kind").choices]
    )
    due_date = serializers.DateField()
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    percentage = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True
    )


class ContractWriteSerializer(serializers.Serializer):
    """For the schema: what a client sends. Lines and terms are validated by the service,
    which names each error `lines[<index>].<field>` / `terms[<index>].<field>`."""

    customer = serializers.IntegerField(
        required=False, help_text=_("The customer's id (on create).")
    )
    opportunity = serializers.IntegerField(
        required=False,
        help_text=_("Or the opportunity's id (on create): its customer, and the lines of its "
                    "approved quote unless lines are sent."),
    )  # fmt: skip
    title = serializers.CharField(max_length=200, required=False)
    lines = ContractLineWriteSerializer(many=True, required=False)
    terms = ContractTermWriteSerializer(many=True, required=False)
    penalty_rate_per_day = serializers.DecimalField(max_digits=6, decimal_places=4, required=False)
    grace_days = serializers.IntegerField(required=False, min_value=0)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    version = serializers.IntegerField(
        required=False, write_only=True,
        help_text=_("On a change: the version you read (or send If-Match): 409 if it changed "
                    "since."),
    )  # fmt: skip


class ContractUpsertSerializer(ContractWriteSerializer):
    """For the schema: the body of the ERP upsert, as a create's (on create) or an update's
    (on update: `customer`, `opportunity` and `customer_external_id` are not changed)."""

    customer_external_id = serializers.CharField(
        max_length=100, required=False,
        help_text=_("Or the customer's external id (on create)."),
    )  # fmt: skip


class ContractVersionConflictSerializer(ProblemSerializer):
    current = ContractDetailSerializer(
        required=False, help_text=_("The contract as it is now, with its version.")
    )


_CONTRACT_VERSION_CONFLICT = {
    (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): OpenApiResponse(
        ContractVersionConflictSerializer,
        description=_(
            "The contract changed since the version you sent (If-Match or `version`): "
            "`current` is the contract now, and the ETag header its version. Also (without "
            "`current`) when the contract is no longer a draft."
        ),
    )
}


class _ContractParams(serializers.Serializer):
    """What the views parse themselves: lines and terms go to the service as sent."""

    customer = serializers.IntegerField(required=False)
    opportunity = serializers.IntegerField(required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    lines = serializers.ListField(child=serializers.JSONField(), required=False, max_length=1000)
    terms = serializers.ListField(child=serializers.JSONField(), required=False, max_length=1000)
    penalty_rate_per_day = serializers.CharField(required=False, allow_blank=True)
    grace_days = serializers.CharField(required=False, allow_blank=True)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    version = serializers.IntegerField(required=False)
    customer_external_id = serializers.CharField(max_length=100, required=False)


class ContractSubmitRequest(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ContractSignRequest(serializers.Serializer):
    signed_on = serializers.DateField(help_text=_("The signing date (not in the future)."))


class ContractTerminateRequest(serializers.Serializer):
    reason = serializers.CharField(max_length=300, help_text=_("Why the contract ends early."))


class ContractListParams(serializers.Serializer):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=ContractStatus.choices, required=False, allow_blank=True, default=""
    )
    owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    customer = serializers.IntegerField(required=False, allow_null=True, default=None)


def _contract_data(request: Request, *, partial: bool) -> dict[str, Any]:
    params = _ContractParams(data=request.data, partial=partial)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)


@extend_schema_view(
    list=extend_schema(
        summary=_("Contracts you may see"),
        parameters=[
            OpenApiParameter(
                "search", str, description=_("Part of the number, title or customer name.")
            ),
            OpenApiParameter(
                "status", str, enum=ContractStatus.values, description=_("Only this status.")
            ),
            OpenApiParameter("owner", int, description=_("Only this owner's.")),
            OpenApiParameter("customer", int, description=_("Only this customer's.")),
        ],
    ),
    retrieve=extend_schema(
        summary=_("One contract with its lines, terms and installments"),
        responses=ContractDetailSerializer,
    ),
)
class ContractViewSet(VersionedViewMixin, HistoryMixin, ApiReadOnlyModelViewSet):
    """Contracts (合同) in your data scope (finance: all)."""

    serializer_class = ContractSerializer
    version_read_serializer = ContractDetailSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Contract]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Contract.objects.none()
        if self.action == "list":
            params = ContractListParams(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            return selectors.contract_list(
                user=self.request.user, filters=selectors.ContractFilters(**params.validated_data)
            )
        return selectors.contract_list(user=self.request.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return ContractDetailSerializer if self.action != "list" else ContractSerializer

    def get_object(self) -> Contract:
        contract = selectors.contract_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, contract)
        return contract

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        contract = selectors.contract_get(user=self.request.user, pk=pk)
        data = ContractDetailSerializer(contract, context=self.get_serializer_context()).data
        return Response(data, status=code)

    @extend_schema(
        summary=_("Draft a contract"),
        description=_(
            "For a customer (`customer`) or an opportunity (`opportunity`). 404 if it is not "
            "yours to see; 403 if you cannot work on it; 400 naming `lines[<index>].<field>` "
            "or `terms[<index>].<field>`, or `terms` when they do not add up."
        ),
        request=ContractWriteSerializer,
        responses={status.HTTP_201_CREATED: ContractDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _contract_data(request, partial=False)
        data.pop("version", None)
        data.pop("customer_external_id", None)
        lines, terms = data.pop("lines", None), data.pop("terms", None)
        customer, opportunity = self._customer_or_opportunity(data)
        if customer is None and opportunity is None:
            raise serializers.ValidationError(
                {"customer": [_("Send a customer or an opportunity.")]}
            )
        contract = services.contract_create(
            by=request.user, customer=customer, opportunity=opportunity, data=data,
            lines=lines, terms=terms,
        )  # fmt: skip
        return self._detail(contract.pk, status.HTTP_201_CREATED)

    def _customer_or_opportunity(self, data: dict[str, Any]) -> tuple[Customer | None, Any]:
        """The opportunity (`opportunity`), else the customer (`customer` or
        `customer_external_id`) the body names, in the caller's scope (404 otherwise)."""
        customer_id, opportunity_id = data.pop("customer", None), data.pop("opportunity", None)
        customer_key = data.pop("customer_external_id", None)
        if opportunity_id is not None:
            from apps.opportunities.selectors import opportunity_get

            return None, opportunity_get(user=self.request.user, pk=opportunity_id)
        if customer_id is not None:
            return customer_get(user=self.request.user, pk=customer_id), None
        if customer_key:
            customers = customer_list(user=self.request.user)
            return get_object_or_404(customers, external_id=customer_key), None
        return None, None

    @extend_schema(
        summary=_("Change a draft contract"),
        description=_(
            "`lines` and `terms` each replace the whole set. 409 unless a draft; with If-Match "
            "(or `version`), 409 and the current contract if it changed since you read it."
        ),
        request=ContractWriteSerializer,
        responses={status.HTTP_200_OK: ContractDetailSerializer, **_CONTRACT_VERSION_CONFLICT},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        data = _contract_data(request, partial=True)
        data.pop("customer", None)
        data.pop("opportunity", None)
        data.pop("customer_external_id", None)
        expected = expected_version(request, data.pop("version", None))
        lines, terms = data.pop("lines", None), data.pop("terms", None)
        services.contract_update(contract=contract, by=request.user, data=data, lines=lines,
                                 terms=terms, expected_version=expected)  # fmt: skip
        return self._detail(contract.pk)

    @extend_schema(
        summary=_("Create or update the contract with this external id (ERP upsert)"),
        description=_(
            "None yet: a draft, as POST contracts/ makes it (give `customer`, "
            "`customer_external_id` or `opportunity`), answered 201. One exists: its change "
            "as PUT contracts/<id>/ makes it (a draft only, 409 otherwise; the customer and "
            "opportunity stay), answered 200; with If-Match (or `version`), 409 and the "
            "current contract if it changed since you read it. A contract outside your scope "
            "is a 404; one you may see but not work on a 403."
        ),
        request=ContractUpsertSerializer,
        responses={
            status.HTTP_200_OK: ContractDetailSerializer,
            status.HTTP_201_CREATED: ContractDetailSerializer,
            **_CONTRACT_VERSION_CONFLICT,
        },
    )
    @action(
        detail=False, methods=["put"], url_path="external/<str:external_id>",
        filter_backends=[], pagination_class=None,
    )  # fmt: skip
    def upsert(self, request: Request, external_id: str, *args: Any, **kwargs: Any) -> Response:
        data = _contract_data(request, partial=False)
        data.pop("external_id", None)
        expected = expected_version(request, data.pop("version", None))
        lines, terms = data.pop("lines", None), data.pop("terms", None)
        customer, opportunity = self._customer_or_opportunity(data)
        contract, created = services.contract_upsert_external(
            by=request.user, external_id=external_id, customer=customer,
            opportunity=opportunity, data=data, lines=lines, terms=terms,
            expected_version=expected,
        )  # fmt: skip
        return self._detail(contract.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary=_("Change some fields of a draft contract"),
        description=_(
            "409 unless a draft; with If-Match (or `version`), 409 and the current contract if "
            "it changed since you read it."
        ),
        request=ContractWriteSerializer,
        responses={status.HTTP_200_OK: ContractDetailSerializer, **_CONTRACT_VERSION_CONFLICT},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @extend_schema(
        summary=_("Submit the contract to approval (credit-checked)"),
        description=_(
            "409 when the customer is on credit hold or the contract is not a draft; 400 "
            "naming what is missing (lines, terms that add up). A credit portion above the "
            "available credit adds the credit-override steps (needs_credit_override)."
        ),
        request=ContractSubmitRequest,
        responses=ContractDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        params = ContractSubmitRequest(data=request.data)
        params.is_valid(raise_exception=True)
        services.contract_submit(contract=contract, by=request.user,
                                 comment=params.validated_data["comment"])  # fmt: skip
        return self._detail(contract.pk)

    @extend_schema(
        summary=_("Record the signing; creates the installments"),
        description=_(
            "Approved contracts only (409 otherwise, also on credit hold or over credit). "
            "Activates the customer and wins the opportunity."
        ),
        request=ContractSignRequest,
        responses=ContractDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def sign(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        params = ContractSignRequest(data=request.data)
        params.is_valid(raise_exception=True)
        services.contract_sign(contract=contract, by=request.user,
                               signed_on=params.validated_data["signed_on"])  # fmt: skip
        return self._detail(contract.pk)

    @extend_schema(
        summary=_("Start the execution of a signed contract"),
        request=None,
        responses=ContractDetailSerializer,
    )
    @action(detail=True, methods=["post"], url_path="start-execution", filter_backends=[],
            pagination_class=None)  # fmt: skip
    def start_execution(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        services.contract_start_execution(contract=contract, by=request.user)
        return self._detail(contract.pk)

    @extend_schema(
        summary=_("Complete an executing contract"),
        description=_("409 while an installment is neither paid nor written off."),
        request=None,
        responses=ContractDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def complete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        services.contract_complete(contract=contract, by=request.user)
        return self._detail(contract.pk)

    @extend_schema(
        summary=_("Terminate the contract, with a reason"),
        description=_("Draft, approved, signed or executing. Open installments stay."),
        request=ContractTerminateRequest,
        responses=ContractDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def terminate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contract = self.get_object()
        params = ContractTerminateRequest(data=request.data)
        params.is_valid(raise_exception=True)
        services.contract_terminate(contract=contract, by=request.user,
                                    reason=params.validated_data["reason"])  # fmt: skip
        return self._detail(contract.pk)


# --- amendments -------------------------------------------------------------------------------


class ContractAmendmentSerializer(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    owner = UserRefSerializer(read_only=True)

    class Meta:
        model = ContractAmendment
        fields = ["id", "contract", "contract_number", "number", "owner", "status", "reason",
                  "amount", "proposed", "previous", "return_comment", "approved_at",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


class ContractAmendmentWriteRequest(serializers.Serializer):
    contract = serializers.IntegerField(help_text=_("The signed or executing contract's id."))
    reason = serializers.CharField()
    lines = ContractLineWriteSerializer(many=True)
    terms = ContractTermWriteSerializer(many=True)


class _AmendmentParams(serializers.Serializer):
    contract = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True, required=False, default="")
    lines = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    terms = serializers.ListField(child=serializers.JSONField(), required=False, default=list)


@extend_schema_view(
    list=extend_schema(
        summary=_("Contract amendments you may see"),
        parameters=[OpenApiParameter("contract", int, description=_("Only this contract's."))],
    ),
    retrieve=extend_schema(summary=_("One contract amendment")),
)
class ContractAmendmentViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Amendments (补充协议) of signed contracts: new lines and terms through approval."""

    serializer_class = ContractAmendmentSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[ContractAmendment]:
        if getattr(self, "swagger_fake_view", False):
            return ContractAmendment.objects.none()
        raw = self.request.query_params.get("contract")
        contract = int(raw) if raw and raw.isdigit() else None
        return selectors.amendment_list(user=self.request.user, contract=contract)

    def get_object(self) -> ContractAmendment:
        amendment = selectors.amendment_get(
            user=self.request.user, pk=self.kwargs[self.lookup_field]
        )
        self.check_object_permissions(self.request, amendment)
        return amendment

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        amendment = selectors.amendment_get(user=self.request.user, pk=pk)
        return Response(ContractAmendmentSerializer(amendment).data, status=code)

    @extend_schema(
        summary=_("Draft an amendment to a signed contract"),
        description=_(
            "409 unless the contract is signed or executing, or when it already has an open "
            "amendment; 400 naming the line or term. Terms already paid must be repeated."
        ),
        request=ContractAmendmentWriteRequest,
        responses={status.HTTP_201_CREATED: ContractAmendmentSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = _AmendmentParams(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        contract = selectors.contract_get(user=request.user, pk=data["contract"])
        amendment = services.amendment_create(
            contract=contract, by=request.user, reason=data["reason"], lines=data["lines"],
            terms=data["terms"],
        )  # fmt: skip
        return self._detail(amendment.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Submit the amendment to approval"),
        request=ContractSubmitRequest,
        responses=ContractAmendmentSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        amendment = self.get_object()
        params = ContractSubmitRequest(data=request.data)
        params.is_valid(raise_exception=True)
        services.amendment_submit(amendment=amendment, by=request.user,
                                  comment=params.validated_data["comment"])  # fmt: skip
        return self._detail(amendment.pk)


ROUTES = [
    ("contracts", ContractViewSet, "contract"),
    ("contract-amendments", ContractAmendmentViewSet, "contract-amendment"),
]
