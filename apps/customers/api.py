"""`/api/v1/customers/` and `/api/v1/contacts/`: thin views over `selectors` and `services`.

Scope as in `selectors`: an object outside the caller's sight is a 404. Customers are never
deleted through the API ("Nothing is lost"); a lost customer moves to the status "lost".
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
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.accounts.scope import Scope, scope_of
from apps.api.bulk import (
    BulkResponseSerializer,
    bulk_request_serializer,
    bulk_response,
    parse_bulk_records,
)
from apps.api.concurrency import VersionedViewMixin, VersionField, expected_version
from apps.api.filters import UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet

from . import credit, pool
from .bulk import customer_bulk_upsert
from .choices import ApplicationStatus, CompanySize, CustomerStatus, CustomerTier, DecisionRole
from .development import (
    development_application_create,
    development_application_submit,
    development_application_update,
)
from .models import (
    Contact,
    CreditInvestigation,
    CreditLimitRequest,
    Customer,
    DevelopmentApplication,
)
from .selectors import (
    CustomerFilters,
    contact_get,
    contact_list,
    credit_investigation_get,
    credit_investigation_list,
    credit_limit_request_get,
    credit_limit_request_list,
    customer_get,
    customer_list,
    development_application_get,
    development_application_list,
)
from .services import (
    contact_create,
    contact_update,
    contact_upsert_external,
    customer_create,
    customer_update,
    customer_upsert_external,
)

# --- customers ---------------------------------------------------------------------------


def _owner(owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise serializers.ValidationError({"owner": [_("Choose an owner in your team.")]})
    return owner


class CustomerSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True, allow_null=True)
    previous_owner = UserRefSerializer(
        read_only=True, allow_null=True, help_text=_("Who lost it at the last release.")
    )
    in_pool = serializers.BooleanField(read_only=True, help_text=_("In the public pool (公海)."))
    version = VersionField()

    class Meta:
        model = Customer
        fields = [
            "id",
            "external_id",
            "version",
            "name",
            "credit_code",
            "industry",
            "size",
            "region",
            "address",
            "phone",
            "email",
            "website",
            "tier",
            "status",
            "owner",
            "in_pool",
            "credit_rating",
            "credit_limit",
            "payment_term_days",
            "on_credit_hold",
            "credit_hold_reason",
            "last_follow_up_at",
            "claimed_at",
            "released_at",
            "previous_owner",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CustomerWriteSerializer(serializers.Serializer):
    """Profile fields; the services normalize and check them (credit code checksum, unique)."""

    name = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    size = serializers.ChoiceField(choices=CompanySize.choices, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False)
    owner = serializers.IntegerField(
        required=False, help_text=_("Owner's user id (on create; default: you).")
    )
    external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True,
        help_text=_("Your system's key for this customer (unique)."),
    )  # fmt: skip
    version = serializers.IntegerField(
        required=False, write_only=True,
        help_text=_("The version you read (or send If-Match): 409 if it changed since."),
    )  # fmt: skip


class CustomerBulkRecordSerializer(CustomerWriteSerializer):
    """One record of a bulk upsert: the customer with this external id is created (owned by
    `owner`, default you) or updated (its owner stays)."""

    external_id = serializers.CharField(
        max_length=100, help_text=_("Your system's key for this customer (required).")
    )
    owner = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1,
        help_text=_("Owner's user id (on create; default: you)."),
    )  # fmt: skip


CustomerBulkRequestSerializer = bulk_request_serializer(
    CustomerBulkRecordSerializer, "CustomerBulkSerializer"
)


class CustomerVersionConflictSerializer(ProblemSerializer):
    current = CustomerSerializer(help_text=_("The customer as it is now, with its version."))


class CreditReasonSerializer(serializers.Serializer):
    """The reason of a credit hold or release, or of a release to the pool (the service
    refuses an empty one: 400)."""

    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CustomerListParamsSerializer(serializers.Serializer):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=CustomerStatus.choices, required=False, allow_blank=True, default=""
    )
    tier = serializers.ChoiceField(
        choices=CustomerTier.choices, required=False, allow_blank=True, default=""
    )
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    owner = serializers.IntegerField(required=False, default=None, allow_null=True)
    in_pool = serializers.BooleanField(required=False, default=None, allow_null=True)
    external_id = serializers.CharField(max_length=100, required=False, default="")


_CUSTOMER_LIST_PARAMETERS = [
    OpenApiParameter("external_id", str, description=_("Only the customer with this external id.")),
    OpenApiParameter("search", str, description=_("Part of the company name, or a credit code.")),
    OpenApiParameter("status", str, enum=CustomerStatus.values, description=_("Only this status.")),
    OpenApiParameter("tier", str, enum=CustomerTier.values, description=_("Only this tier.")),
    OpenApiParameter("region", str, description=_("Only this region.")),
    OpenApiParameter("owner", int, description=_("Only customers of this owner (user id).")),
    OpenApiParameter(
        "in_pool", bool, description=_("true: only the public pool; false: only owned customers.")
    ),
]


@extend_schema_view(
    list=extend_schema(summary=_("Customers you may see"), parameters=_CUSTOMER_LIST_PARAMETERS),
    retrieve=extend_schema(summary=_("One customer")),
)
class CustomerViewSet(VersionedViewMixin, HistoryMixin, ApiReadOnlyModelViewSet):
    """Customers (客户) in your data scope, plus the public pool (公海)."""

    serializer_class = CustomerSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Customer]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Customer.objects.none()
        if self.action == "list":
            params = CustomerListParamsSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            filters = dict(params.validated_data)
            external_id = filters.pop("external_id", "")
            qs = customer_list(user=self.request.user, filters=CustomerFilters(**filters))
            return qs.filter(external_id=external_id) if external_id else qs
        return customer_list(user=self.request.user)

    def get_object(self) -> Customer:
        customer = customer_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, customer)
        return customer

    def _detail(self, pk: int) -> Response:
        customer = customer_get(user=self.request.user, pk=pk)
        return Response(CustomerSerializer(customer, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("Create a customer"),
        request=CustomerWriteSerializer,
        responses={status.HTTP_201_CREATED: CustomerSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = CustomerWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("version", None)
        owner = _owner(data.pop("owner", None))
        customer = customer_create(by=request.user, data=data, owner=owner)
        response = self._detail(customer.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        summary=_("Change a customer's profile"),
        request=CustomerWriteSerializer,
        responses=CustomerSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        params = CustomerWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("owner", None)  # the owner changes by claim, release or reassignment only
        expected = expected_version(request, data.pop("version", None))
        customer_update(customer=customer, by=request.user, data=data, expected_version=expected)
        return self._detail(customer.pk)

    @extend_schema(
        summary=_("Create or update the customer with this external id (ERP upsert)"),
        description=_(
            "201 when created, 200 when updated. With If-Match (or `version`), 409 and the "
            "current record if it changed since you read it. A customer outside your scope "
            "is a 404."
        ),
        request=CustomerWriteSerializer,
        responses={
            status.HTTP_200_OK: CustomerSerializer,
            status.HTTP_201_CREATED: CustomerSerializer,
            (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                CustomerVersionConflictSerializer,
                description=_(
                    "The customer changed since the version you sent (If-Match or `version`): "
                    "`current` is the customer now, and the ETag header its version."
                ),
            ),
        },
    )
    @action(
        detail=False, methods=["put"], url_path="external/<str:external_id>",
        filter_backends=[], pagination_class=None,
    )  # fmt: skip
    def upsert(self, request: Request, external_id: str, *args: Any, **kwargs: Any) -> Response:
        params = CustomerWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("external_id", None)
        expected = expected_version(request, data.pop("version", None))
        owner = _owner(data.pop("owner", None))
        customer, created = customer_upsert_external(
            by=request.user, external_id=external_id, data=data, owner=owner,
            expected_version=expected,
        )  # fmt: skip
        response = self._detail(customer.pk)
        if created:
            response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        summary=_("Create or update up to 1,000 customers by their external ids, all or none"),
        description=_(
            "Each record is what PUT customers/external/<external_id>/ takes, with its "
            "`external_id` and optionally the `version` you read and the `owner` of a new "
            "customer. All records are checked together: any invalid one (a field, an external "
            "id or credit code sent twice or taken, a customer you cannot see or change, a "
            "version changed since) is a 400 whose errors name `records.<index>.<field>`, and "
            "nothing is written. Otherwise all are applied in one transaction; each result "
            "says created, updated or unchanged (a record that changes nothing is not "
            "written: its version stays)."
        ),
        request=CustomerBulkRequestSerializer,
        responses={status.HTTP_200_OK: BulkResponseSerializer},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if scope_of(request.user) is Scope.NONE:  # before reading 1,000 records
            raise PermissionDenied(_("You cannot create customers."))
        records, invalid = parse_bulk_records(request.data, CustomerBulkRecordSerializer)
        results = customer_bulk_upsert(by=request.user, records=records, invalid=invalid)
        return bulk_response(results)

    @extend_schema(
        summary=_("Change some fields of a customer's profile"),
        request=CustomerWriteSerializer,
        responses=CustomerSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Put the customer on credit hold (finance)"),
        description=_("403 unless you are finance; 400 without a reason; 409 if already held."),
        request=CreditReasonSerializer,
        responses=CustomerSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="credit-hold",
        filter_backends=[],
        pagination_class=None,
    )
    def credit_hold(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        params = CreditReasonSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        credit.credit_hold(
            customer=customer, by=request.user, reason=params.validated_data["reason"]
        )
        return self._detail(customer.pk)

    @extend_schema(
        summary=_("Release the customer's credit hold (finance)"),
        description=_("403 unless you are finance; 400 without a reason; 409 if not held."),
        request=CreditReasonSerializer,
        responses=CustomerSerializer,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="credit-release",
        filter_backends=[],
        pagination_class=None,
    )
    def credit_release(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        params = CreditReasonSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        credit.credit_release(
            customer=customer, by=request.user, reason=params.validated_data["reason"]
        )
        return self._detail(customer.pk)

    @extend_schema(
        summary=_("Claim a customer from the public pool"),
        description=_(
            "409 if it is no longer in the pool, if you hold the most claimed customers "
            "allowed, or if it was released from you within the cool-off days."
        ),
        request=None,
        responses=CustomerSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def claim(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        pool.customer_claim(customer=customer, by=request.user)
        return self._detail(customer.pk)

    @extend_schema(
        summary=_("Release a customer to the public pool"),
        description=_("The owner or a head above the owner; 400 without a reason."),
        request=CreditReasonSerializer,
        responses=CustomerSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def release(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        params = CreditReasonSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        pool.customer_release(
            customer=customer, by=request.user, reason=params.validated_data["reason"]
        )
        return self._detail(customer.pk)


# --- contacts ----------------------------------------------------------------------------


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name"]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    version = VersionField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "external_id",
            "version",
            "customer",
            "name",
            "title",
            "decision_role",
            "phone",
            "email",
            "is_primary",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        required=False, help_text=_("The customer's id (on create).")
    )
    customer_external_id = serializers.CharField(
        max_length=100, required=False,
        help_text=_("Or the customer's external id (on create)."),
    )  # fmt: skip
    external_id = serializers.CharField(
        max_length=100, required=False, allow_blank=True,
        help_text=_("Your system's key for this contact (unique)."),
    )  # fmt: skip
    version = serializers.IntegerField(
        required=False, write_only=True,
        help_text=_("The version you read (or send If-Match): 409 if it changed since."),
    )  # fmt: skip
    name = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    decision_role = serializers.ChoiceField(choices=DecisionRole.choices, required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class ContactListParamsSerializer(serializers.Serializer):
    customer = serializers.IntegerField(required=False, default=None, allow_null=True)


@extend_schema_view(
    list=extend_schema(
        summary=_("Contacts of the customers you may see"),
        parameters=[OpenApiParameter("customer", int, description=_("Only this customer's."))],
    ),
    retrieve=extend_schema(summary=_("One contact")),
)
class ContactViewSet(VersionedViewMixin, HistoryMixin, ApiReadOnlyModelViewSet):
    """Contacts (联系人) of the customers in your data scope, with their decision role."""

    serializer_class = ContactSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Contact]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Contact.objects.none()
        qs = contact_list(user=self.request.user)
        if self.action == "list":
            params = ContactListParamsSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            if params.validated_data["customer"] is not None:
                qs = qs.filter(customer_id=params.validated_data["customer"])
        return qs

    def get_object(self) -> Contact:
        contact = contact_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, contact)
        return contact

    def _detail(self, pk: int) -> Response:
        contact = contact_get(user=self.request.user, pk=pk)
        return Response(ContactSerializer(contact, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("Add a contact to a customer"),
        request=ContactWriteSerializer,
        responses={status.HTTP_201_CREATED: ContactSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = ContactWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("version", None)
        customer = self._customer(data)
        if customer is None:
            raise serializers.ValidationError({"customer": [_("Give the contact's customer.")]})
        contact = contact_create(customer=customer, by=request.user, data=data)
        response = self._detail(contact.pk)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        summary=_("Change a contact"), request=ContactWriteSerializer, responses=ContactSerializer
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        params = ContactWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("customer", None)
        data.pop("customer_external_id", None)
        expected = expected_version(request, data.pop("version", None))
        contact_update(contact=contact, by=request.user, data=data, expected_version=expected)
        return self._detail(contact.pk)

    def _customer(self, data: dict) -> Customer | None:
        """The customer named by `customer` (id) or `customer_external_id`, in scope (404)."""
        pk = data.pop("customer", None)
        key = data.pop("customer_external_id", None)
        customers = customer_list(user=self.request.user)
        if pk is not None:
            return get_object_or_404(customers, pk=pk)
        if key:
            return get_object_or_404(customers, external_id=key)
        return None

    @extend_schema(
        summary=_("Create or update the contact with this external id (ERP upsert)"),
        description=_(
            "201 when created (give `customer` or `customer_external_id`), 200 when updated. "
            "With If-Match (or `version`), 409 and the current record if it changed since."
        ),
        request=ContactWriteSerializer,
        responses={
            status.HTTP_200_OK: ContactSerializer,
            status.HTTP_201_CREATED: ContactSerializer,
        },
    )
    @action(
        detail=False, methods=["put"], url_path="external/<str:external_id>",
        filter_backends=[], pagination_class=None,
    )  # fmt: skip
    def upsert(self, request: Request, external_id: str, *args: Any, **kwargs: Any) -> Response:
        params = ContactWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("external_id", None)
        expected = expected_version(request, data.pop("version", None))
        customer = self._customer(data)
        contact, created = contact_upsert_external(
            by=request.user, external_id=external_id, customer=customer, data=data,
            expected_version=expected,
        )  # fmt: skip
        response = self._detail(contact.pk)
        if created:
            response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(
        summary=_("Change some fields of a contact"),
        request=ContactWriteSerializer,
        responses=ContactSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


# --- development applications ------------------------------------------------------------


class DevelopmentApplicationSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: submit while it is your draft.")
    )

    class Meta:
        model = DevelopmentApplication
        fields = [
            "id",
            "customer",
            "owner",
            "status",
            "registered_capital",
            "years_in_business",
            "main_business",
            "payment_record",
            "legal_disputes",
            "financial_standing",
            "references",
            "development_plan",
            "return_comment",
            "approved_at",
            "available_transitions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_available_transitions(self, application: DevelopmentApplication) -> list[str]:
        request = self.context.get("request")
        if (
            request is not None
            and application.owner_id == request.user.pk
            and application.status == ApplicationStatus.DRAFT
        ):
            return ["submit"]
        return []


class DevelopmentApplicationWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text=_("The customer's id (on create)."))
    registered_capital = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0"), required=False, allow_null=True
    )
    years_in_business = serializers.IntegerField(
        min_value=0, max_value=1000, required=False, allow_null=True
    )
    main_business = serializers.CharField(required=False, allow_blank=True)
    payment_record = serializers.CharField(required=False, allow_blank=True)
    legal_disputes = serializers.CharField(required=False, allow_blank=True)
    financial_standing = serializers.CharField(required=False, allow_blank=True)
    references = serializers.CharField(required=False, allow_blank=True)
    development_plan = serializers.CharField(required=False, allow_blank=True)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CustomerParamSerializer(serializers.Serializer):
    customer = serializers.IntegerField(required=False, default=None, allow_null=True)


class CustomerDocumentViewMixin:
    """Reads shared by the viewsets of a customer's documents (development applications,
    credit investigations, credit limit requests): the scoped list (optionally one customer's,
    `?customer=`), the scoped object (404 out of scope), and the detail answer of a write."""

    model: type
    list_selector: Any  # (user=) -> QuerySet, scoped
    get_selector: Any  # (user=, pk=) -> object, 404 out of scope

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return self.model.objects.none()
        qs = type(self).list_selector(user=self.request.user)
        if self.action == "list":
            params = CustomerParamSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            if params.validated_data["customer"] is not None:
                qs = qs.filter(customer_id=params.validated_data["customer"])
        return qs

    def get_object(self) -> Any:
        document = type(self).get_selector(
            user=self.request.user, pk=self.kwargs[self.lookup_field]
        )
        self.check_object_permissions(self.request, document)
        return document

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        document = type(self).get_selector(user=self.request.user, pk=pk)
        data = self.serializer_class(document, context=self.get_serializer_context()).data
        return Response(data, status=code)

    def _create_for_customer(self, write_serializer: type, create: Any) -> Response:
        """Create a document of a customer in the user's scope (404 otherwise) from the write
        serializer's data via the service `create(customer=, by=, data=)`."""
        params = write_serializer(data=self.request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        customer = get_object_or_404(customer_list(user=self.request.user), pk=data.pop("customer"))
        document = create(customer=customer, by=self.request.user, data=data)
        return self._detail(document.pk, status.HTTP_201_CREATED)

    def _update_data(self, write_serializer: type, partial: bool) -> dict:
        """The validated fields of an update; the customer of a document never changes."""
        params = write_serializer(data=self.request.data, partial=partial)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("customer", None)
        return data


@extend_schema_view(
    list=extend_schema(
        summary=_("Development applications you may see"),
        parameters=[OpenApiParameter("customer", int, description=_("Only this customer's."))],
    ),
    retrieve=extend_schema(summary=_("One development application")),
)
class DevelopmentApplicationViewSet(
    CustomerDocumentViewMixin, HistoryMixin, ApiReadOnlyModelViewSet
):
    """New-customer development applications (新客户开发申请): credit survey and plan, approved
    by the supervisor then the manager."""

    serializer_class = DevelopmentApplicationSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    model = DevelopmentApplication
    list_selector = staticmethod(development_application_list)
    get_selector = staticmethod(development_application_get)

    @extend_schema(
        summary=_("Start a development application (a draft) for a prospect"),
        request=DevelopmentApplicationWriteSerializer,
        responses={status.HTTP_201_CREATED: DevelopmentApplicationSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._create_for_customer(
            DevelopmentApplicationWriteSerializer, development_application_create
        )

    @extend_schema(
        summary=_("Revise a draft application (409 while under approval)"),
        request=DevelopmentApplicationWriteSerializer,
        responses=DevelopmentApplicationSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        application = self.get_object()
        data = self._update_data(
            DevelopmentApplicationWriteSerializer, partial=kwargs.get("partial", False)
        )
        development_application_update(application=application, by=request.user, data=data)
        return self._detail(application.pk)

    @extend_schema(
        summary=_("Revise some fields of a draft application"),
        request=DevelopmentApplicationWriteSerializer,
        responses=DevelopmentApplicationSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Submit (or resubmit) the application for approval"),
        description=_(
            "403 if you are not the applicant; 409 if it is not a draft; 400 naming the survey "
            "fields still empty."
        ),
        request=CommentSerializer,
        responses=DevelopmentApplicationSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        application = self.get_object()
        params = CommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        development_application_submit(
            application=application, by=request.user, comment=params.validated_data["comment"]
        )
        return self._detail(application.pk)


# --- credit investigations and credit limit requests ----------------------------------------


class CreditInvestigationSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True)

    class Meta:
        model = CreditInvestigation
        fields = [
            "id",
            "customer",
            "owner",
            "status",
            *credit.FACTORS,
            "notes",
            "total_score",
            "rating",
            "applied_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CreditInvestigationWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text=_("The customer's id (on create)."))
    registered_capital = serializers.IntegerField(min_value=0, max_value=100, required=False)
    years_in_business = serializers.IntegerField(min_value=0, max_value=100, required=False)
    payment_record = serializers.IntegerField(min_value=0, max_value=100, required=False)
    legal_disputes = serializers.IntegerField(min_value=0, max_value=100, required=False)
    financial_standing = serializers.IntegerField(min_value=0, max_value=100, required=False)
    references = serializers.IntegerField(min_value=0, max_value=100, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(
        summary=_("Credit investigations you may see"),
        parameters=[OpenApiParameter("customer", int, description=_("Only this customer's."))],
    ),
    retrieve=extend_schema(summary=_("One credit investigation")),
)
class CreditInvestigationViewSet(CustomerDocumentViewMixin, HistoryMixin, ApiReadOnlyModelViewSet):
    """Credit investigations (信用调查): factor scores 0–100, weighted total and rating."""

    serializer_class = CreditInvestigationSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    model = CreditInvestigation
    list_selector = staticmethod(credit_investigation_list)
    get_selector = staticmethod(credit_investigation_get)

    @extend_schema(
        summary=_("Start a credit investigation (a draft) of a customer"),
        request=CreditInvestigationWriteSerializer,
        responses={status.HTTP_201_CREATED: CreditInvestigationSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._create_for_customer(
            CreditInvestigationWriteSerializer, credit.credit_investigation_create
        )

    @extend_schema(
        summary=_("Change the scores of a draft investigation"),
        request=CreditInvestigationWriteSerializer,
        responses=CreditInvestigationSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        investigation = self.get_object()
        data = self._update_data(
            CreditInvestigationWriteSerializer, partial=kwargs.get("partial", False)
        )
        credit.credit_investigation_update(investigation=investigation, by=request.user, data=data)
        return self._detail(investigation.pk)

    @extend_schema(
        summary=_("Change some scores of a draft investigation"),
        request=CreditInvestigationWriteSerializer,
        responses=CreditInvestigationSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Complete the investigation: rate the customer"),
        description=_(
            "Sets the customer's credit rating; a customer without a limit also gets a draft "
            "credit limit request with the rating's default limit. 409 if already complete."
        ),
        request=None,
        responses=CreditInvestigationSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def complete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        investigation = self.get_object()
        credit.credit_investigation_complete(investigation=investigation, by=request.user)
        return self._detail(investigation.pk)


class CreditLimitRequestSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True)
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: submit while it is your draft.")
    )

    class Meta:
        model = CreditLimitRequest
        fields = [
            "id",
            "customer",
            "owner",
            "status",
            "investigation",
            "current_limit",
            "requested_limit",
            "payment_term_days",
            "reason",
            "return_comment",
            "approved_at",
            "available_transitions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_available_transitions(self, limit_request: CreditLimitRequest) -> list[str]:
        request = self.context.get("request")
        if (
            request is not None
            and limit_request.owner_id == request.user.pk
            and limit_request.status == ApplicationStatus.DRAFT
        ):
            return ["submit"]
        return []


class CreditLimitRequestWriteSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text=_("The customer's id (on create)."))
    requested_limit = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0")
    )
    payment_term_days = serializers.IntegerField(min_value=0, max_value=3650)
    reason = serializers.CharField()


@extend_schema_view(
    list=extend_schema(
        summary=_("Credit limit requests you may see"),
        parameters=[OpenApiParameter("customer", int, description=_("Only this customer's."))],
    ),
    retrieve=extend_schema(summary=_("One credit limit request")),
)
class CreditLimitRequestViewSet(CustomerDocumentViewMixin, HistoryMixin, ApiReadOnlyModelViewSet):
    """Credit limit requests (信用额度调整): approved by the supervisor, the manager, and
    finance above 200,000; the new limit applies to the customer only when approved."""

    serializer_class = CreditLimitRequestSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    model = CreditLimitRequest
    list_selector = staticmethod(credit_limit_request_list)
    get_selector = staticmethod(credit_limit_request_get)

    @extend_schema(
        summary=_("Start a credit limit request (a draft)"),
        request=CreditLimitRequestWriteSerializer,
        responses={status.HTTP_201_CREATED: CreditLimitRequestSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._create_for_customer(
            CreditLimitRequestWriteSerializer, credit.credit_limit_request_create
        )

    @extend_schema(
        summary=_("Revise a draft request (409 while under approval)"),
        request=CreditLimitRequestWriteSerializer,
        responses=CreditLimitRequestSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        limit_request = self.get_object()
        data = self._update_data(
            CreditLimitRequestWriteSerializer, partial=kwargs.get("partial", False)
        )
        credit.credit_limit_request_update(limit_request=limit_request, by=request.user, data=data)
        return self._detail(limit_request.pk)

    @extend_schema(
        summary=_("Revise some fields of a draft request"),
        request=CreditLimitRequestWriteSerializer,
        responses=CreditLimitRequestSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Submit (or resubmit) the request for approval"),
        description=_("403 if you are not the applicant; 409 if it is not a draft."),
        request=CommentSerializer,
        responses=CreditLimitRequestSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        limit_request = self.get_object()
        params = CommentSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        credit.credit_limit_request_submit(
            limit_request=limit_request, by=request.user, comment=params.validated_data["comment"]
        )
        return self._detail(limit_request.pk)
