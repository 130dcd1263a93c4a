"""`/api/v1/payments/`, `/api/v1/installments/` and `/api/v1/write-offs/` (API.md).

- payments: list (filters, `updated_since`, cursor), detail with `available_transitions`
  and `version`, create = record (finance or the ERP; idempotent on the bank reference /
  external id: the same payment again answers 200 with the existing one, the same key with
  another amount a 409 naming the key; `Idempotency-Key` honoured by the base class),
  `allocate` (oldest due first, or chosen lines) and `reverse` (冲销, with a reason); for the
  ERP, `bulk` (up to 1,000 payments all or none, allocated oldest due first: `bulk.py`) and
  the upsert by external id (`PUT payments/external/<external_id>/`, If-Match honoured);
- installments (应收款): list with filters customer / status / overdue / due range, detail;
- write-offs (坏账核销): create (a draft), submit to approval, list and detail.

Scope: an object outside the caller's data scope is a 404 everywhere.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
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

from apps.api.bulk import BulkResponseSerializer, bulk_request_serializer, bulk_response
from apps.api.concurrency import VersionedViewMixin, VersionField, expected_version
from apps.api.exceptions import Conflict as ApiConflict
from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet
from apps.customers.api import CustomerRefSerializer
from apps.customers.models import Customer
from apps.customers.selectors import customer_list

from . import selectors, services
from .bulk import payment_bulk_record
from .choices import InstallmentStatus, PaymentMethod, PaymentStatus
from .models import Allocation, Installment, Payment, WriteOff
from .permissions import (
    PAYMENT_TRANSITIONS,
    can_record_payment,
    payment_transitions,
    writeoff_transitions,
)


@extend_schema_field(
    {
        "type": "string",
        "description": "One of: " + ", ".join(PaymentMethod.values),
        "example": PaymentMethod.BANK_TRANSFER.value,
    }
)
class PaymentMethodField(serializers.ChoiceField):
    """The payment method, documented as a string listing its values: "method" names other
    choice sets elsewhere in the API, and a generated enum component would collide with them
    (an `ENUM_NAME_OVERRIDES` entry "PaymentMethodEnum" in the settings would allow an enum)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=PaymentMethod.choices, **kwargs)


class ContractRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


# --- installments ------------------------------------------------------------------------

_INSTALLMENT_FIELDS = [
    "id", "contract", "customer", "owner", "sequence", "kind", "due_date", "amount",
    "paid_amount", "written_off_amount", "open_amount", "status", "status_display",
    "days_overdue", "aging_bucket", "penalty_accrued", "paid_at", "created_at", "updated_at",
]  # fmt: skip


class ReceivableInstallmentSerializer(serializers.ModelSerializer):
    contract = ContractRefSerializer(read_only=True)
    customer = CustomerRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True)
    open_amount = serializers.DecimalField(
        source="open_value", max_digits=14, decimal_places=2, read_only=True,
        help_text=_("amount − paid − written off."),
    )  # fmt: skip
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    days_overdue = serializers.IntegerField(
        read_only=True, help_text=_("Days past the due date with money open, as of today.")
    )
    aging_bucket = serializers.IntegerField(
        source="bucket", read_only=True,
        help_text=_("0 current, 1: 1–30 days, 2: 31–60, 3: 61–90, 4: over 90."),
    )  # fmt: skip

    class Meta:
        model = Installment
        fields = _INSTALLMENT_FIELDS
        read_only_fields = fields


class InstallmentFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", help_text=_("Installments of this customer."))
    status = django_filters.ChoiceFilter(choices=InstallmentStatus.choices)
    overdue = django_filters.BooleanFilter(
        method="filter_overdue",
        help_text=_("Only open installments past their due date (true), or the others."),
    )
    due_from = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_to = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = Installment
        fields = ["customer", "status", "overdue", "due_from", "due_to"]

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        q = selectors.overdue_q(selectors.today())
        return queryset.filter(q) if value else queryset.exclude(q)


@extend_schema_view(
    list=extend_schema(summary=_("Receivable installments you may see, oldest due first")),
    retrieve=extend_schema(summary=_("One receivable installment")),
)
class InstallmentViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Receivable installments (应收款) of signed contracts, in your data scope."""

    serializer_class = ReceivableInstallmentSerializer
    filterset_class = InstallmentFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    queryset = Installment.objects.none()  # the model, for the schema; get_queryset scopes

    def get_queryset(self) -> QuerySet[Installment]:
        if getattr(self, "swagger_fake_view", False):
            return Installment.objects.none()
        return selectors.installment_list(user=self.request.user)

    def get_object(self) -> Installment:
        installment = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, installment)
        return installment


# --- payments ----------------------------------------------------------------------------


class AllocationSerializer(serializers.ModelSerializer):
    installment = serializers.IntegerField(source="installment_id", read_only=True)
    contract_number = serializers.CharField(source="installment.contract.number", read_only=True)
    created_by = UserRefSerializer(read_only=True, allow_null=True)
    reversed_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Allocation
        fields = ["id", "installment", "contract_number", "amount", "allocated_on", "created_by",
                  "reversed_at", "reversed_by", "created_at"]  # fmt: skip
        read_only_fields = fields


_PAYMENT_FIELDS = [
    "id", "version", "customer", "owner", "amount", "allocated_amount", "unallocated_amount",
    "received_on", "method", "bank_reference", "external_id", "payer_name", "notes", "status",
    "status_display", "reversal_reason", "reversed_at", "created_at", "updated_at",
]  # fmt: skip


class PaymentSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True, allow_null=True)
    unallocated_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True,
        help_text=_("What is left to allocate: the customer's credit balance (预收款)."),
    )  # fmt: skip
    method = PaymentMethodField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    version = VersionField()

    class Meta:
        model = Payment
        fields = _PAYMENT_FIELDS
        read_only_fields = fields


class PaymentDetailSerializer(PaymentSerializer):
    allocations = AllocationSerializer(many=True, read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text=_("The transitions you may take now (POST payments/{id}/{transition}/).")
    )

    class Meta(PaymentSerializer.Meta):
        fields = [*_PAYMENT_FIELDS, "allocations", "available_transitions"]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=PAYMENT_TRANSITIONS))
    )
    def get_available_transitions(self, payment: Payment) -> list[str]:
        request = self.context.get("request")
        return payment_transitions(request.user, payment) if request is not None else []


class PaymentRecordRequest(serializers.Serializer):
    customer = serializers.IntegerField(help_text=_("The paying customer's id."))
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    received_on = serializers.DateField(
        help_text=_("The day the money arrived (not later than today).")
    )
    method = PaymentMethodField(default=PaymentMethod.BANK_TRANSFER)
    bank_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text=_("The bank transaction number; the same one again is the same payment."),
    )  # fmt: skip
    external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text=_("The ERP's id of the payment; unique like the bank reference."),
    )  # fmt: skip
    payer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class PaymentBulkRecordSerializer(PaymentRecordRequest):
    """One payment of a bulk posting: like recording one, the customer by id or by its
    external id."""

    customer = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text=_("The paying customer's id (or give customer_external_id)."),
    )  # fmt: skip
    customer_external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text=_("Or the paying customer's external id."),
    )  # fmt: skip


class PaymentBulkSerializer(
    bulk_request_serializer(PaymentBulkRecordSerializer, "PaymentBulkRecordsSerializer")
):
    allocate = serializers.BooleanField(
        default=True,
        help_text=_(
            "Allocate each new payment oldest due first over its customer's open installments "
            "(the rest stays as credit balance); false: record them unallocated."
        ),
    )


class PaymentUpsertSerializer(serializers.Serializer):
    """The payment the ERP knows by the external id in the address."""

    customer = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text=_("The paying customer's id (or give customer_external_id)."),
    )  # fmt: skip
    customer_external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text=_("Or the paying customer's external id."),
    )  # fmt: skip
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    received_on = serializers.DateField(
        help_text=_("The day the money arrived (not later than today).")
    )
    method = PaymentMethodField(required=False)
    bank_reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True,
        help_text=_("The bank transaction number; the same one again is the same payment."),
    )  # fmt: skip
    payer_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(
        required=False, write_only=True,
        help_text=_("The version you read (or send If-Match): 409 if it changed since."),
    )  # fmt: skip


class AllocationLineRequest(serializers.Serializer):
    installment = serializers.IntegerField(help_text=_("An open installment of the customer."))
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class PaymentAllocateRequest(serializers.Serializer):
    lines = AllocationLineRequest(
        many=True, required=False, allow_null=True, default=None,
        help_text=_("Chosen lines; without them, oldest due first over the open installments."),
    )  # fmt: skip


class PaymentReverseRequest(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class PaymentFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", help_text=_("Payments of this customer."))
    status = django_filters.ChoiceFilter(choices=PaymentStatus.choices)
    unallocated = django_filters.BooleanFilter(
        method="filter_unallocated",
        help_text=_("Only recorded payments with money left to allocate (true)."),
    )
    received_from = django_filters.DateFilter(field_name="received_on", lookup_expr="gte")
    received_to = django_filters.DateFilter(field_name="received_on", lookup_expr="lte")
    reference = django_filters.CharFilter(
        method="filter_reference", help_text=_("A bank reference or external id, exactly.")
    )

    class Meta:
        model = Payment
        fields = ["customer", "status", "unallocated", "received_from", "received_to", "reference"]

    def filter_unallocated(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(status=PaymentStatus.RECORDED, allocated_amount__lt=F("amount"))

    def filter_reference(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(Q(bank_reference=value) | Q(external_id=value))


_REFERENCE_CONFLICT = OpenApiResponse(
    ProblemSerializer,
    description=_(
        "The bank reference or external id belongs to a payment with another amount, customer "
        "or date (errors name the field); or the same Idempotency-Key is still in progress."
    ),
)


@extend_schema_view(
    list=extend_schema(summary=_("Payments you may see")),
    retrieve=extend_schema(summary=_("One payment, with its allocations")),
)
class PaymentViewSet(VersionedViewMixin, HistoryMixin, ApiReadOnlyModelViewSet):
    """Payments received (回款) in your data scope."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    queryset = Payment.objects.none()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return PaymentSerializer if self.action == "list" else PaymentDetailSerializer

    def get_queryset(self) -> QuerySet[Payment]:
        if getattr(self, "swagger_fake_view", False):
            return Payment.objects.none()
        return selectors.payment_list(user=self.request.user)

    def get_object(self) -> Payment:
        payment = selectors.payment_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, payment)
        return payment

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        payment = selectors.payment_get(user=self.request.user, pk=pk)
        body = PaymentDetailSerializer(payment, context=self.get_serializer_context()).data
        return Response(body, status=code)

    @extend_schema(
        summary=_("Record a payment (finance or the ERP), idempotent on its reference"),
        description=_(
            "201 with the new payment; 200 with the existing one when the bank reference or "
            "external id was already recorded with the same customer, amount and date; 409 "
            "naming the field when it was recorded with another. Give at least one of them."
        ),
        request=PaymentRecordRequest,
        responses={
            status.HTTP_201_CREATED: PaymentDetailSerializer,
            status.HTTP_200_OK: PaymentDetailSerializer,
            (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): _REFERENCE_CONFLICT,
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = PaymentRecordRequest(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        customer = customer_list(user=request.user).filter(pk=data.pop("customer")).first()
        if customer is None:
            raise serializers.ValidationError({"customer": [_("No such customer.")]})
        try:
            result = services.payment_record(by=request.user, customer=customer, **data)
        except services.PaymentReferenceConflict as exc:
            raise ApiConflict({exc.field: [exc.message]}) from exc
        return self._detail(
            result.payment.pk, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    @extend_schema(
        summary=_("Record up to 1,000 payments at once (ERP), all or none, and allocate them"),
        description=_(
            "All records are validated together: if any is invalid (a field, an unknown "
            "customer, a bank reference or external id given twice in the request or already "
            "recorded with another customer, amount or date), nothing is recorded and the 400 "
            "names each one as records.<index>.<field>. Otherwise each new payment is recorded "
            "and, unless allocate is false, allocated oldest due first over its customer's "
            "open installments; what is left stays as the customer's credit balance. One "
            "result per record, in the order sent: created, or unchanged for a payment already "
            "recorded with the same customer, amount and date (sending the batch again "
            "doubles nothing)."
        ),
        request=PaymentBulkSerializer,
        responses={
            status.HTTP_200_OK: BulkResponseSerializer,
            (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer,
                description=_(
                    "No record was applied: errors name each invalid record and field "
                    "(records.<index>.<field>), or the records (none, or more than 1,000)."
                ),
            ),
            (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer,
                description=_("The same Idempotency-Key is still being processed."),
            ),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_record_payment(request.user):
            raise PermissionDenied(_("Only finance can record payments."))
        params = PaymentBulkSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        results = payment_bulk_record(
            by=request.user,
            records=params.validated_data["records"],
            allocate=params.validated_data["allocate"],
        )
        return bulk_response(results)

    def _customer_of(self, data: dict[str, Any]) -> Customer | None:
        """The customer named by `customer` (id) or `customer_external_id`, in scope (else a
        400 naming the field); None when neither was sent."""
        pk, key = data.pop("customer", None), data.pop("customer_external_id", "")
        customers = customer_list(user=self.request.user)
        if pk is not None:
            customer = customers.filter(pk=pk).first()
            if customer is None:
                raise serializers.ValidationError({"customer": [_("No such customer.")]})
            if key and key != customer.external_id:
                raise serializers.ValidationError(
                    {
                        "customer_external_id": [
                            _("The customer id and the customer's external id name two customers.")
                        ]
                    }
                )
            return customer
        if key:
            customer = customers.filter(external_id=key).first()
            if customer is None:
                raise serializers.ValidationError(
                    {"customer_external_id": [_("No such customer.")]}
                )
            return customer
        return None

    @extend_schema(
        summary=_("Record the payment with this external id, or answer it again (ERP upsert)"),
        description=_(
            "201 with the new payment (give customer or customer_external_id). 200 with the "
            "existing one when the customer, amount and received date are the same; its "
            "method, payer and notes change when sent. 409 naming the field when the amount, "
            "customer or received date differ: money received does not change — reverse the "
            "payment and post another. With If-Match (or version), 409 and the current record "
            "if it changed since you read it. A payment outside your scope is a 404."
        ),
        request=PaymentUpsertSerializer,
        responses={
            status.HTTP_201_CREATED: PaymentDetailSerializer,
            status.HTTP_200_OK: PaymentDetailSerializer,
            (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer,
                description=_(
                    "The payment was recorded with another amount, customer or date, or its "
                    "bank reference belongs to another payment (errors name the field); or it "
                    "changed since the version you sent (current holds it)."
                ),
            ),
        },
    )
    @action(
        detail=False, methods=["put"], url_path="external/<str:external_id>",
        filter_backends=[], pagination_class=None,
    )  # fmt: skip
    def upsert(self, request: Request, external_id: str, *args: Any, **kwargs: Any) -> Response:
        params = PaymentUpsertSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        expected = expected_version(request, data.pop("version", None))
        customer = self._customer_of(data)
        try:
            payment, created = services.payment_upsert_external(
                by=request.user, external_id=external_id, customer=customer, data=data,
                expected_version=expected,
            )  # fmt: skip
        except services.PaymentReferenceConflict as exc:
            raise ApiConflict({exc.field: [exc.message]}) from exc
        return self._detail(payment.pk, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary=_("Allocate the payment (核销): oldest due first, or chosen lines"),
        description=_(
            "Never more than an installment's open amount nor the payment's unallocated amount "
            "(400 naming the line, e.g. lines.0.amount). What is left stays as the customer's "
            "credit balance. 409 for a reversed or fully allocated payment, or when the "
            "customer has nothing open."
        ),
        request=PaymentAllocateRequest,
        responses=PaymentDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def allocate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payment = self.get_object()
        params = PaymentAllocateRequest(data=request.data)
        params.is_valid(raise_exception=True)
        raw = params.validated_data.get("lines")
        lines = None
        if raw is not None:
            ids = {line["installment"] for line in raw}
            found = {
                i.pk: i
                for i in selectors.installment_list(user=request.user).filter(
                    pk__in=ids, customer_id=payment.customer_id
                )
            }
            errors = {
                f"lines.{n}.installment": [_("No such open installment of this customer.")]
                for n, line in enumerate(raw)
                if line["installment"] not in found
            }
            if errors:
                raise serializers.ValidationError(errors)
            lines = [(found[line["installment"]], line["amount"]) for line in raw]
        services.payment_allocate(payment=payment, by=request.user, lines=lines)
        return self._detail(payment.pk)

    @extend_schema(
        summary=_("Reverse the payment (冲销), with a reason"),
        description=_(
            "Every allocation is taken back and the payment is reversed; nothing is deleted. "
            "409 if it is already reversed."
        ),
        request=PaymentReverseRequest,
        responses=PaymentDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reverse(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payment = self.get_object()
        params = PaymentReverseRequest(data=request.data)
        params.is_valid(raise_exception=True)
        services.payment_reverse(
            payment=payment, by=request.user, reason=params.validated_data["reason"]
        )
        return self._detail(payment.pk)


# --- write-offs --------------------------------------------------------------------------


class WriteOffSerializer(serializers.ModelSerializer):
    installment = serializers.IntegerField(source="installment_id", read_only=True)
    customer = CustomerRefSerializer(source="installment.customer", read_only=True)
    owner = UserRefSerializer(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: submit while it is your draft.")
    )

    class Meta:
        model = WriteOff
        fields = ["id", "installment", "customer", "owner", "amount", "reason", "status",
                  "status_display", "return_comment", "approved_at", "available_transitions",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=["submit"])))
    def get_available_transitions(self, writeoff: WriteOff) -> list[str]:
        request = self.context.get("request")
        return writeoff_transitions(request.user, writeoff) if request is not None else []


class WriteOffCreateRequest(serializers.Serializer):
    installment = serializers.IntegerField(help_text=_("The installment to write off."))
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=_("At most the installment's open amount.")
    )
    reason = serializers.CharField()


class WriteOffSubmitRequest(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(
        summary=_("Bad-debt write-offs you may see"),
        parameters=[OpenApiParameter("installment", int, description=_("Of this installment."))],
    ),
    retrieve=extend_schema(summary=_("One bad-debt write-off")),
)
class WriteOffViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Bad-debt write-offs (坏账核销): drafted by finance, approved by another finance user and
    then the manager; approval takes the amount off the installment."""

    serializer_class = WriteOffSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    queryset = WriteOff.objects.none()

    def get_queryset(self) -> QuerySet[WriteOff]:
        if getattr(self, "swagger_fake_view", False):
            return WriteOff.objects.none()
        raw = self.request.query_params.get("installment", "")
        installment = int(raw) if raw.isdigit() else None
        return selectors.writeoff_list(user=self.request.user, installment=installment)

    def get_object(self) -> WriteOff:
        writeoff = selectors.writeoff_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, writeoff)
        return writeoff

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        writeoff = selectors.writeoff_get(user=self.request.user, pk=pk)
        return Response(
            WriteOffSerializer(writeoff, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(
        summary=_("Draft a write-off of an installment's open amount (finance)"),
        request=WriteOffCreateRequest,
        responses={status.HTTP_201_CREATED: WriteOffSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = WriteOffCreateRequest(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        installment = get_object_or_404(
            selectors.installment_list(user=request.user), pk=data.pop("installment")
        )
        writeoff = services.writeoff_create(installment=installment, by=request.user, **data)
        return self._detail(writeoff.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Submit (or resubmit) the write-off for approval"),
        description=_("403 if you are not the applicant; 409 if it is not a draft."),
        request=WriteOffSubmitRequest,
        responses=WriteOffSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        writeoff = self.get_object()
        params = WriteOffSubmitRequest(data=request.data)
        params.is_valid(raise_exception=True)
        services.writeoff_submit(
            writeoff=writeoff, by=request.user, comment=params.validated_data["comment"]
        )
        return self._detail(writeoff.pk)


ROUTES = [
    ("payments", PaymentViewSet, "payment"),
    ("installments", InstallmentViewSet, "installment"),
    ("write-offs", WriteOffViewSet, "write-off"),
]
