"""`/api/v1/collection-records/` (催收记录: list, create, detail) and
`/api/v1/collection-tasks/` (催收任务: list, detail, `done`), per API.md.

Scope: a record or task outside the caller's data scope is a 404.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiGenericViewSet
from apps.customers.api import CustomerRefSerializer
from apps.customers.models import Contact

from . import collections, selectors
from .choices import CollectionTaskStatus, PromiseStatus
from .models import CollectionRecord, CollectionTask


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name, "")
    return int(raw) if raw.isdigit() else None


class CollectionRecordSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    installment = serializers.IntegerField(source="installment_id", read_only=True, allow_null=True)
    contract_number = serializers.CharField(
        source="installment.contract.number", read_only=True, allow_null=True, default=None
    )
    contact = serializers.IntegerField(source="contact_id", read_only=True, allow_null=True)
    contact_name = serializers.CharField(
        source="contact.name", read_only=True, allow_null=True, default=None
    )
    owner = UserRefSerializer(read_only=True, help_text=_("Who recorded it."))
    # A plain string, not an enum: the schema has a "method" enum of payments already, and
    # a second one of that name needs an ENUM_NAME_OVERRIDES entry in settings.
    method = serializers.CharField(
        read_only=True, help_text=_("phone, visit, message, email, letter or legal.")
    )
    method_display = serializers.CharField(source="get_method_display", read_only=True)
    promise_status_display = serializers.CharField(
        source="get_promise_status_display", read_only=True
    )

    class Meta:
        model = CollectionRecord
        fields = ["id", "customer", "installment", "contract_number", "contact", "contact_name",
                  "owner", "method", "method_display", "notes", "promised_on", "promised_amount",
                  "promise_status", "promise_status_display", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields


class CollectionRecordCreateRequest(serializers.Serializer):
    customer = serializers.IntegerField(help_text=_("The customer contacted."))
    method = serializers.CharField(
        max_length=20,
        help_text=_("How: phone, visit, message, email, letter or legal (checked by the service)."),
    )
    notes = serializers.CharField(help_text=_("What was said."))
    contact = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text=_("A contact of the customer.")
    )
    installment = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text=_("The installment chased, one of the customer's."),
    )  # fmt: skip
    promised_on = serializers.DateField(
        required=False, allow_null=True, default=None,
        help_text=_("Promise to pay: the date (today or later); with promised_amount."),
    )  # fmt: skip
    promised_amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, default=None,
        help_text=_("Promise to pay: the amount; with promised_on."),
    )  # fmt: skip


@extend_schema_view(
    list=extend_schema(
        summary=_("Collection records you may see, newest first"),
        parameters=[
            OpenApiParameter("customer", int, description=_("Of this customer.")),
            OpenApiParameter("installment", int, description=_("About this installment.")),
            OpenApiParameter(
                "promise_status",
                str,
                enum=[v for v in PromiseStatus.values if v],
                description=_("Only records with this promise status."),
            ),
        ],
    ),
    retrieve=extend_schema(summary=_("One collection record")),
)
class CollectionRecordViewSet(
    HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet
):
    """Collection records (催收记录): contacts with a customer about money owed, with an
    optional promise to pay that the daily job marks kept or broken after its date."""

    serializer_class = CollectionRecordSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    queryset = CollectionRecord.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CollectionRecord.objects.none()
        promise = self.request.query_params.get("promise_status", "")
        return collections.collection_record_list(
            user=self.request.user,
            customer=_int_param(self.request, "customer"),
            installment=_int_param(self.request, "installment"),
            promise=promise if promise in PromiseStatus.values else "",
        )

    def get_object(self) -> CollectionRecord:
        record = collections.collection_record_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, record)
        return record

    @extend_schema(
        summary=_("Record a collection contact (the owner, a head over them, or finance)"),
        description=_(
            "400 naming the field for a contact or installment not the customer's, a promise "
            "with only its date or its amount, or a promised date in the past; 403 if you may "
            "not record collection for the customer; 404 for a customer outside your scope."
        ),
        request=CollectionRecordCreateRequest,
        responses={
            status.HTTP_201_CREATED: CollectionRecordSerializer,
            (status.HTTP_403_FORBIDDEN, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = CollectionRecordCreateRequest(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        customer = collections.collection_customer_get(user=request.user, pk=data.pop("customer"))
        contact_id, installment_id = data.pop("contact"), data.pop("installment")
        contact = installment = None
        if contact_id is not None:
            contact = Contact.objects.filter(pk=contact_id, customer=customer).first()
            if contact is None:
                raise serializers.ValidationError(
                    {"contact": [_("This contact is not one of the customer's.")]}
                )
        if installment_id is not None:
            installment = (
                selectors.installment_list(user=request.user)
                .filter(pk=installment_id, customer_id=customer.pk)
                .first()
            )
            if installment is None:
                raise serializers.ValidationError(
                    {"installment": [_("This installment is not the customer's.")]}
                )
        record = collections.collection_record_create(
            by=request.user, customer=customer, contact=contact, installment=installment, **data
        )
        record = collections.collection_record_get(user=request.user, pk=record.pk)
        body = CollectionRecordSerializer(record, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class CollectionTaskSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    installment = serializers.IntegerField(source="installment_id", read_only=True)
    contract_number = serializers.CharField(source="installment.contract.number", read_only=True)
    due_date = serializers.DateField(source="installment.due_date", read_only=True)
    owner = UserRefSerializer(read_only=True, help_text=_("The assignee."))
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = CollectionTask
        fields = ["id", "customer", "installment", "contract_number", "due_date", "owner",
                  "bucket", "status", "status_display", "due_on", "done_at", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary=_("Collection tasks: yours by default, or all in your scope"),
        parameters=[
            OpenApiParameter(
                "mine",
                bool,
                description=_("Only your own tasks (default true); false: every task you may see."),
            ),
            OpenApiParameter(
                "status",
                str,
                enum=[*CollectionTaskStatus.values, "all"],
                description=_("open (default), done, or all."),
            ),
        ],
    ),
    retrieve=extend_schema(summary=_("One collection task")),
)
class CollectionTaskViewSet(
    HistoryMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet
):
    """Collection tasks (催收任务) the daily job opens when an installment enters an aging
    bucket: the rep (1–30 days), the supervisor (31–60), the manager (61–90)."""

    serializer_class = CollectionTaskSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    queryset = CollectionTask.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CollectionTask.objects.none()
        params = self.request.query_params
        status_ = params.get("status", CollectionTaskStatus.OPEN)
        return collections.collection_task_list(
            user=self.request.user,
            mine=params.get("mine", "true").lower() not in ("false", "0", "no"),
            status="" if status_ == "all" else status_,
        )

    def get_object(self) -> CollectionTask:
        task = collections.collection_task_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, task)
        return task

    @extend_schema(
        summary=_("Mark the collection task done"),
        description=_(
            "The assignee, a head over them, or finance (403 otherwise); 409 if already done."
        ),
        request=None,
        responses={
            status.HTTP_200_OK: CollectionTaskSerializer,
            (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def done(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        task = self.get_object()
        collections.collection_task_done(task=task, by=request.user)
        task = get_object_or_404(
            collections.collection_task_list(user=request.user, mine=False, status=""), pk=task.pk
        )
        return Response(CollectionTaskSerializer(task, context=self.get_serializer_context()).data)


ROUTES = [
    ("collection-records", CollectionRecordViewSet, "collection-record"),
    ("collection-tasks", CollectionTaskViewSet, "collection-task"),
]
