"""`GET /api/v1/reports/statement/?customer=&start=&end=`: a customer's statement of account
(对账单), registered by apps/api/urls.py. The same numbers as the statement page and its Excel
file, from the same selector (`apps.receivables.statement.statement_of`, whose docstring
defines the ledger).

Bad parameters (no customer, a date that is not YYYY-MM-DD, a period ending before it starts,
after today or longer than three years) are a 400 naming the field; a customer outside the
caller's data scope is a 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.fields import get_error_detail
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.views import ApiGenericViewSet
from apps.contracts.choices import InstallmentKind

from .statement import statement_of, statement_period

# --- parameters ----------------------------------------------------------------------------


class StatementParamsSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        min_value=1, help_text=_("The customer (one whose money you may see).")
    )
    start = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("First day (YYYY-MM-DD), inclusive; default 1 January of the end's year."),
    )  # fmt: skip
    end = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("Last day (YYYY-MM-DD), inclusive, today at the latest; default today."),
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            start, end = statement_period(attrs.get("start"), attrs.get("end"))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from None
        return {**attrs, "start": start, "end": end}


# --- the response --------------------------------------------------------------------------


class StatementCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    credit_code = serializers.CharField(help_text=_("Unified social credit code, or empty."))
    address = serializers.CharField()


class StatementLineSerializer(serializers.Serializer):
    date = serializers.DateField()
    # A plain string, not an enum: a generated "KindEnum" would collide with the other "kind"
    # fields of the API (an ENUM_NAME_OVERRIDES entry in the settings would allow one).
    kind = serializers.CharField(
        help_text=_("installment, penalty, payment, reversal or write_off.")
    )
    kind_display = serializers.CharField()
    reference = serializers.CharField(
        help_text=_("Contract number / installment, or the payment's bank reference.")
    )
    description = serializers.CharField()
    debit = serializers.DecimalField(max_digits=16, decimal_places=2)
    credit = serializers.DecimalField(max_digits=16, decimal_places=2)
    balance = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text=_("The balance after this line.")
    )
    contract_number = serializers.CharField(allow_null=True)
    installment = serializers.IntegerField(allow_null=True)
    installment_sequence = serializers.IntegerField(allow_null=True)
    installment_kind = serializers.ChoiceField(
        choices=InstallmentKind.choices, allow_null=True,
        help_text=_("The kind of the installment falling due (installment lines only)."),
    )  # fmt: skip
    payment = serializers.IntegerField(allow_null=True)
    bank_reference = serializers.CharField(allow_null=True)


class StatementOpenInstallmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    contract_number = serializers.CharField()
    sequence = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=InstallmentKind.choices)
    due_date = serializers.DateField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    open_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    days_overdue = serializers.IntegerField(help_text=_("As of today; 0 when not overdue."))
    aging_bucket = serializers.IntegerField(
        help_text=_("0 current, 1: 1–30 days, 2: 31–60, 3: 61–90, 4: over 90.")
    )


class StatementAgingSerializer(serializers.Serializer):
    bucket = serializers.IntegerField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class StatementSerializer(serializers.Serializer):
    customer = StatementCustomerSerializer()
    start = serializers.DateField()
    end = serializers.DateField()
    printed_on = serializers.DateField(help_text=_("Today: the date of the summary."))
    currency = serializers.CharField()
    opening_balance = serializers.DecimalField(
        max_digits=16, decimal_places=2,
        help_text=_("What the customer owed at the start: debits − credits dated before it."),
    )  # fmt: skip
    lines = StatementLineSerializer(many=True)
    total_debit = serializers.DecimalField(max_digits=16, decimal_places=2)
    total_credit = serializers.DecimalField(max_digits=16, decimal_places=2)
    closing_balance = serializers.DecimalField(
        max_digits=16, decimal_places=2,
        help_text=_("opening_balance + total_debit − total_credit; below zero: paid ahead."),
    )  # fmt: skip
    open_installments = StatementOpenInstallmentSerializer(
        many=True, help_text=_("The customer's open installments today, oldest due first.")
    )
    open_total = serializers.DecimalField(max_digits=16, decimal_places=2)
    overdue_total = serializers.DecimalField(max_digits=16, decimal_places=2)
    aging = StatementAgingSerializer(many=True)
    credit_balance = serializers.DecimalField(
        max_digits=16, decimal_places=2,
        help_text=_("Payments not allocated to installments yet (预收款), today."),
    )  # fmt: skip


def _body(statement) -> dict[str, Any]:
    customer = statement.customer
    return {
        "customer": {"id": customer.pk, "name": customer.name,
                     "credit_code": customer.credit_code or "",
                     "address": customer.address or ""},
        "start": statement.start, "end": statement.end, "printed_on": statement.printed_on,
        "currency": settings.CURRENCY,
        "opening_balance": statement.opening_balance,
        "lines": [
            {"date": line.date, "kind": str(line.kind), "kind_display": line.kind_display,
             "reference": line.reference, "description": line.description, "debit": line.debit,
             "credit": line.credit, "balance": line.balance,
             "contract_number": line.contract_number or None,
             "installment": line.installment_id,
             "installment_sequence": line.installment_sequence,
             "installment_kind": line.installment_kind or None,
             "payment": line.payment_id, "bank_reference": line.bank_reference or None}
            for line in statement.lines
        ],
        "total_debit": statement.total_debit, "total_credit": statement.total_credit,
        "closing_balance": statement.closing_balance,
        "open_installments": [
            {"id": i.pk, "contract_number": i.contract.number, "sequence": i.sequence,
             "kind": i.kind, "due_date": i.due_date, "amount": i.amount,
             "open_amount": i.open_value, "days_overdue": i.days_overdue,
             "aging_bucket": i.bucket}
            for i in statement.open_installments
        ],
        "open_total": statement.open_total, "overdue_total": statement.overdue_total,
        "aging": [vars(b) for b in statement.aging],
        "credit_balance": statement.credit_balance,
    }  # fmt: skip


class StatementReportViewSet(ApiGenericViewSet):
    """Reports over receivables: the statement of account (对账单)."""

    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        summary=_("A customer's statement of account (对账单)"),
        description=_(
            "What the customer owed on `start` (the opening balance), each movement up to `end` "
            "with the balance after it — installments falling due and penalty interest "
            "(debits), payments received and approved write-offs (credits), a reversed payment "
            "as its credit and a reversing debit on the day it was reversed — and the closing "
            "balance; then the customer's open installments with their aging and its "
            "unallocated credit balance, as of today. The period is 1 January to today by "
            "default and at most three years (1096 days)."
        ),
        parameters=[StatementParamsSerializer],
        responses={
            status.HTTP_200_OK: StatementSerializer,
            (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer, description=_("An invalid parameter (see errors).")
            ),
            (status.HTTP_404_NOT_FOUND, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer, description=_("No such customer in your data scope.")
            ),
        },
    )
    @action(detail=False, methods=["get"])
    def statement(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = StatementParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        statement = statement_of(
            user=request.user, customer_id=data["customer"], start=data["start"], end=data["end"]
        )
        return Response(StatementSerializer(_body(statement)).data)


ROUTES = [("reports", StatementReportViewSet, "report-statement")]
