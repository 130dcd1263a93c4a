"""`/api/v1/products/` and `/api/v1/quotes/`: thin views over `products` and `quotes`.

Products: every caller reads the active catalogue; product managers (admin, manager) and the
ERP create and change products, also by `PUT products/external/<external_id>/` (with
`If-Match` / `version`: 409 and the current product when it changed since) and in batches of
up to 1,000 by `POST products/bulk/` (all or none). Quotes: scoped
by the deal's owner (out of sight is a 404); the lines of a draft are replaced as a set; a
quote that is not a draft answers 409. Line errors name the field as `lines[<index>].<field>`.

Registered by apps/api/urls.py from `ROUTES`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
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

from . import products as catalogue
from . import quotes
from .choices import QuoteStatus
from .models import Opportunity, Product, Quote, QuoteLine
from .products_bulk import product_bulk_upsert

# --- products -------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    version = VersionField()

    class Meta:
        model = Product
        fields = [
            "id",
            "version",
            "code",
            "name",
            "unit",
            "list_price",
            "product_line",
            "description",
            "is_active",
            "external_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ProductWriteSerializer(serializers.Serializer):
    """The catalogue fields; the service checks them (code and external id unique)."""

    code = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=200)
    unit = serializers.CharField(max_length=20)
    list_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    product_line = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    version = serializers.IntegerField(
        required=False, write_only=True,
        help_text=_("The version you read (or send If-Match): 409 if it changed since."),
    )  # fmt: skip


class ProductBulkRecordSerializer(ProductWriteSerializer):
    """One record of a bulk upsert: the product with this external id is created or updated."""

    external_id = serializers.CharField(
        max_length=100, help_text=_("Your system's key for this product (required).")
    )


ProductBulkRequestSerializer = bulk_request_serializer(
    ProductBulkRecordSerializer, "ProductBulkSerializer"
)


class ProductVersionConflictSerializer(ProblemSerializer):
    current = ProductSerializer(help_text=_("The product as it is now, with its version."))


_PRODUCT_VERSION_CONFLICT = {
    (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): OpenApiResponse(
        ProductVersionConflictSerializer,
        description=_(
            "The product changed since the version you sent (If-Match or `version`): "
            "`current` is the product now, and the ETag header its version."
        ),
    )
}


class ProductListParamsSerializer(serializers.Serializer):
    search = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    product_line = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    active = serializers.BooleanField(required=False, default=True, allow_null=True)


_PRODUCT_LIST_PARAMETERS = [
    OpenApiParameter("search", str, description=_("Part of the name, or the start of the code.")),
    OpenApiParameter("product_line", str, description=_("Only this product line.")),
    OpenApiParameter(
        "active",
        bool,
        description=_(
            "true (default): active products; false: inactive ones; empty: both. Only product "
            "managers see inactive products."
        ),
    ),
]


@extend_schema_view(
    list=extend_schema(summary=_("Products in the catalogue"), parameters=_PRODUCT_LIST_PARAMETERS),
    retrieve=extend_schema(summary=_("One product")),
)
class ProductViewSet(VersionedViewMixin, HistoryMixin, ApiReadOnlyModelViewSet):
    """The product catalogue (产品 / 价目表)."""

    serializer_class = ProductSerializer
    version_read_serializer = ProductSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Product]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Product.objects.none()
        if self.action == "list":
            raw = self.request.query_params.dict()
            if raw.get("active") == "":
                raw["active"] = None
            params = ProductListParamsSerializer(data=raw)
            params.is_valid(raise_exception=True)
            return catalogue.product_list(
                user=self.request.user, filters=catalogue.ProductFilters(**params.validated_data)
            )
        return catalogue.product_list(
            user=self.request.user, filters=catalogue.ProductFilters(active=None)
        )

    def get_object(self) -> Product:
        product = catalogue.product_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, product)
        return product

    def _data(self, product: Product) -> dict:
        return ProductSerializer(product, context=self.get_serializer_context()).data

    @extend_schema(
        summary=_("Add a product (product managers, ERP)"),
        description=_("403 unless you are an admin, a manager or the ERP."),
        request=ProductWriteSerializer,
        responses={status.HTTP_201_CREATED: ProductSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = ProductWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("version", None)
        product = catalogue.product_create(by=request.user, data=data)
        return Response(self._data(product), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Change a product (product managers, ERP)"),
        description=_(
            "With If-Match (or `version`), 409 and the current product if it changed since "
            "you read it."
        ),
        request=ProductWriteSerializer,
        responses={status.HTTP_200_OK: ProductSerializer, **_PRODUCT_VERSION_CONFLICT},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product = self.get_object()
        params = ProductWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        expected = expected_version(request, data.pop("version", None))
        product = catalogue.product_update(
            product=product, by=request.user, data=data, expected_version=expected
        )
        return Response(self._data(product))

    @extend_schema(
        summary=_("Change some fields of a product (product managers, ERP)"),
        description=_(
            "With If-Match (or `version`), 409 and the current product if it changed since "
            "you read it."
        ),
        request=ProductWriteSerializer,
        responses={status.HTTP_200_OK: ProductSerializer, **_PRODUCT_VERSION_CONFLICT},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(
        summary=_("Create or update a product by its ERP key"),
        description=_(
            "200 when it existed, 201 when it was created. With If-Match (or `version`), 409 "
            "and the current product if it changed since you read it."
        ),
        request=ProductWriteSerializer,
        responses={
            status.HTTP_200_OK: ProductSerializer,
            status.HTTP_201_CREATED: ProductSerializer,
            **_PRODUCT_VERSION_CONFLICT,
        },
    )
    @action(
        detail=False,
        methods=["put"],
        url_path="external/<str:external_id>",
        filter_backends=[],
        pagination_class=None,
    )
    def external(self, request: Request, external_id: str, *args: Any, **kwargs: Any) -> Response:
        params = ProductWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        data.pop("external_id", None)
        expected = expected_version(request, data.pop("version", None))
        product, created = catalogue.product_upsert_external(
            external_id=external_id, by=request.user, data=data, expected_version=expected
        )
        return Response(
            self._data(product), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary=_("Create or update up to 1,000 products by their ERP keys, all or none"),
        description=_(
            "Each record is what PUT products/external/<external_id>/ takes, with its "
            "`external_id` and optionally the `version` you read. All records are checked "
            "together: any invalid one (a field, an external id or code sent twice or taken "
            "by another product, a version changed since) is a 400 whose errors name "
            "`records.<index>.<field>`, and nothing is written. Otherwise all are applied in "
            "one transaction; each result says created, updated or unchanged (a record that "
            "changes nothing is not written: its version stays). 403 unless you are a "
            "product manager or the ERP."
        ),
        request=ProductBulkRequestSerializer,
        responses={status.HTTP_200_OK: BulkResponseSerializer},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not catalogue.can_manage_products(request.user):  # before reading 1,000 records
            raise PermissionDenied(_("Only product managers can change the catalogue."))
        records, invalid = parse_bulk_records(request.data, ProductBulkRecordSerializer)
        results = product_bulk_upsert(by=request.user, records=records, invalid=invalid)
        return bulk_response(results)


# --- quotes -----------------------------------------------------------------------------------


class ProductRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "code", "name", "unit"]
        read_only_fields = fields


class OpportunityRefSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)

    class Meta:
        model = Opportunity
        fields = ["id", "name", "customer_id", "customer_name", "stage"]
        read_only_fields = fields


class QuoteLineSerializer(serializers.ModelSerializer):
    product = ProductRefSerializer(read_only=True)

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "position",
            "product",
            "description",
            "quantity",
            "unit_price",
            "discount_pct",
            "amount",
        ]
        read_only_fields = fields


class QuoteSerializer(serializers.ModelSerializer):
    """A quote in a list: no lines (the detail has them)."""

    number = serializers.CharField(read_only=True)
    opportunity = OpportunityRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id",
            "number",
            "version",
            "status",
            "opportunity",
            "owner",
            "valid_until",
            "notes",
            "list_amount",
            "total",
            "max_discount_pct",
            "return_comment",
            "approved_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class QuoteDetailSerializer(QuoteSerializer):
    lines = QuoteLineSerializer(many=True, read_only=True)
    is_latest = serializers.SerializerMethodField(
        help_text=_("False when a newer version exists (this one is read-only).")
    )
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do with this quote now: update, submit, new_version.")
    )

    class Meta(QuoteSerializer.Meta):
        fields = [*QuoteSerializer.Meta.fields, "is_latest", "lines", "available_transitions"]
        read_only_fields = fields

    def get_is_latest(self, quote: Quote) -> bool:
        return quotes.is_latest_version(quote)

    def get_available_transitions(self, quote: Quote) -> list[str]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return quotes.quote_actions(user, quote)


class QuoteLineWriteSerializer(serializers.Serializer):
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


class QuoteWriteSerializer(serializers.Serializer):
    """For the schema: what a client sends. The lines are validated by the service, which
    names each error `lines[<index>].<field>`."""

    opportunity = serializers.IntegerField(help_text=_("The opportunity's id (on create)."))
    lines = QuoteLineWriteSerializer(many=True, required=False)
    valid_until = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class QuoteUpdateSerializer(serializers.Serializer):
    lines = QuoteLineWriteSerializer(
        many=True, required=False, help_text=_("Replace all the lines (as a set).")
    )
    valid_until = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class _QuoteParams(serializers.Serializer):
    """What the views parse themselves: the lines are passed to the service as sent."""

    opportunity = serializers.IntegerField(required=False)
    lines = serializers.ListField(child=serializers.JSONField(), required=False, max_length=1000)
    valid_until = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class QuoteSubmitSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class QuoteListParamsSerializer(serializers.Serializer):
    opportunity = serializers.IntegerField(required=False, default=None, allow_null=True)
    status = serializers.ChoiceField(
        choices=QuoteStatus.choices, required=False, allow_blank=True, default=""
    )


@extend_schema_view(
    list=extend_schema(
        summary=_("Quotes you may see"),
        parameters=[
            OpenApiParameter("opportunity", int, description=_("Only this opportunity's.")),
            OpenApiParameter("status", str, enum=QuoteStatus.values, description=_("Only this.")),
        ],
    ),
    retrieve=extend_schema(summary=_("One quote with its lines"), responses=QuoteDetailSerializer),
)
class QuoteViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Quotes (报价单) of the opportunities in your data scope."""

    serializer_class = QuoteSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"

    def get_queryset(self) -> QuerySet[Quote]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Quote.objects.none()
        if self.action == "list":
            params = QuoteListParamsSerializer(data=self.request.query_params.dict())
            params.is_valid(raise_exception=True)
            return quotes.quote_list(
                user=self.request.user, filters=quotes.QuoteFilters(**params.validated_data)
            )
        return quotes.quote_list(user=self.request.user)

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return QuoteDetailSerializer if self.action != "list" else QuoteSerializer

    def get_object(self) -> Quote:
        quote = quotes.quote_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, quote)
        return quote

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        quote = quotes.quote_get(user=self.request.user, pk=pk)
        data = QuoteDetailSerializer(quote, context=self.get_serializer_context()).data
        return Response(data, status=code)

    @staticmethod
    def _params(request: Request, *, partial: bool) -> dict[str, Any]:
        params = _QuoteParams(data=request.data, partial=partial)
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)

    @extend_schema(
        summary=_("Draft a quote for an opportunity"),
        description=_(
            "The next version of the opportunity's quote, as a draft. 404 if the opportunity "
            "is not yours to see; 403 if you cannot work on it; 400 naming "
            "`lines[<index>].<field>` for a bad line."
        ),
        request=QuoteWriteSerializer,
        responses={status.HTTP_201_CREATED: QuoteDetailSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._params(request, partial=False)
        if data.get("opportunity") is None:
            raise serializers.ValidationError({"opportunity": [_("This field is required.")]})
        opportunity = quotes.quote_opportunity_get(user=request.user, pk=data["opportunity"])
        quote = quotes.quote_create(
            opportunity=opportunity,
            by=request.user,
            lines=data.get("lines") or [],
            valid_until=data.get("valid_until"),
            notes=data.get("notes", ""),
        )
        return self._detail(quote.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Change a draft quote"),
        description=_(
            "`lines` replace all the lines. 409 unless the quote is the latest version and a draft."
        ),
        request=QuoteUpdateSerializer,
        responses=QuoteDetailSerializer,
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        quote = self.get_object()
        data = self._params(request, partial=True)
        data.pop("opportunity", None)
        lines = data.pop("lines", None)
        quotes.quote_update(quote=quote, by=request.user, lines=lines, data=data)
        return self._detail(quote.pk)

    @extend_schema(
        summary=_("Change some fields of a draft quote"),
        request=QuoteUpdateSerializer,
        responses=QuoteDetailSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    @extend_schema(
        summary=_("Submit the quote to the discount approval"),
        description=_(
            "A quote whose largest discount is over no step's threshold is approved at once. "
            "409 unless a draft (latest version) with lines; 403 unless you own it."
        ),
        request=QuoteSubmitSerializer,
        responses=QuoteDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        quote = self.get_object()
        params = QuoteSubmitSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        quotes.quote_submit(quote=quote, by=request.user, comment=params.validated_data["comment"])
        return self._detail(quote.pk)

    @extend_schema(
        summary=_("Make a new version of the quote"),
        description=_("A draft copy with the next version number. 409 while under approval."),
        request=None,
        responses={status.HTTP_201_CREATED: QuoteDetailSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="new-version",
        filter_backends=[],
        pagination_class=None,
    )
    def new_version(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        quote = self.get_object()
        new = quotes.quote_new_version(quote=quote, by=request.user)
        return self._detail(new.pk, status.HTTP_201_CREATED)


ROUTES = [
    ("products", ProductViewSet, "product"),
    ("quotes", QuoteViewSet, "quote"),
]
