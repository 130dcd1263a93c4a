"""`/api/v1/leads/`: list (search, filters, cursor), detail with `available_transitions`,
create (= capture with source "api", deduped; `Idempotency-Key` honoured by the base class),
update, the transitions `leads/<id>/<transition>/`, reassignment, the history and the
first-response SLA compliance (`leads/sla-compliance/`).

Scope: a lead outside the caller's data scope is a 404 everywhere (DESIGN.md "Data scope");
a forbidden state or failed guard is a 409 with the reason; a caller without the right a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.fields import get_error_detail
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import OrgUnitRefSerializer, UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet
from apps.customers.choices import CompanySize

from . import services
from .choices import DecisionTimeFrame, Intent, LeadGrade, LeadSource, LeadStatus
from .forms import check_period
from .models import Lead
from .periods import Period, period_bounds, period_dates
from .permissions import TRANSITIONS, available_transitions, can_view_team_sla
from .selectors import SlaCompliance, lead_get, lead_list, lead_sla_report

_LIST_FIELDS = [
    "id", "company_name", "contact_name", "phone", "email", "credit_code", "region",
    "industry", "company_size", "intent", "budget", "decision_time_frame", "source", "channel",
    "owner", "team", "score", "grade", "status", "status_display", "first_response_due_at",
    "first_responded_at", "sla_breached_at", "converted_customer", "created_at", "updated_at",
]  # fmt: skip


class LeadSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True, allow_null=True)
    team = OrgUnitRefSerializer(read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    converted_customer = serializers.IntegerField(
        source="converted_customer_id", read_only=True, allow_null=True,
        help_text=_("The customer this lead was converted to."),
    )  # fmt: skip

    class Meta:
        model = Lead
        fields = _LIST_FIELDS
        read_only_fields = fields


class LeadDetailSerializer(LeadSerializer):
    available_transitions = serializers.SerializerMethodField(
        help_text=_("The transitions you may take now (POST leads/{id}/{transition}/).")
    )

    class Meta(LeadSerializer.Meta):
        fields = [*_LIST_FIELDS, "notes", "disqualify_reason", "converted_at",
                  "available_transitions"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITIONS)))
    def get_available_transitions(self, lead: Lead) -> list[str]:
        request = self.context.get("request")
        return available_transitions(request.user, lead) if request is not None else []


class LeadDataSerializer(serializers.Serializer):
    """The lead's data; the service checks the credit code, the phone and the name."""

    company_name = serializers.CharField(max_length=200)
    contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    credit_code = serializers.CharField(
        max_length=30, required=False, allow_blank=True,
        help_text=_("Unified social credit code (统一社会信用代码), 18 characters."),
    )  # fmt: skip
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    company_size = serializers.ChoiceField(
        choices=CompanySize.choices, required=False, allow_blank=True
    )
    intent = serializers.ChoiceField(choices=Intent.choices, required=False, allow_blank=True)
    budget = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    decision_time_frame = serializers.ChoiceField(
        choices=DecisionTimeFrame.choices, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class LeadCreateSerializer(LeadDataSerializer):
    channel = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="",
        help_text=_("Where it came from, e.g. the campaign or the partner."),
    )  # fmt: skip


class DuplicateRefSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["lead", "customer"])
    id = serializers.IntegerField()


class CaptureResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=["created", "duplicate"])
    lead = LeadDetailSerializer(allow_null=True, help_text=_("The new lead, when created."))
    duplicate_of = DuplicateRefSerializer(
        allow_null=True,
        help_text=_("The existing lead or customer that got a new touch, when a duplicate."),
    )


class LeadReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ReassignSerializer(serializers.Serializer):
    owner = serializers.IntegerField(help_text=_("The new owner (a user in your scope)."))
    reason = serializers.CharField(max_length=300)


class SlaPeriodSerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("First day (YYYY-MM-DD), inclusive; default the first of this month."),
    )  # fmt: skip
    end = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"],
        help_text=_("Last day (YYYY-MM-DD), inclusive; default the last of this month."),
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = period_dates(Period.THIS_MONTH)
        start, end = attrs.get("start", first), attrs.get("end", last)

        def error(message: str, code: str) -> None:
            raise serializers.ValidationError({"end": [ErrorDetail(message, code=code)]})

        check_period(start, end, error=error)
        return {"start": start, "end": end}


class SlaFiguresSerializer(serializers.Serializer):
    due = serializers.IntegerField(help_text=_("Leads whose first response fell due."))
    responded_in_time = serializers.IntegerField(help_text=_("Answered by the due time."))
    responded_late = serializers.IntegerField(help_text=_("Answered after the due time."))
    breached = serializers.IntegerField(
        help_text=_("Flagged as having missed the response time (answered later or not yet).")
    )
    rate = serializers.FloatField(
        allow_null=True, help_text=_("responded_in_time / due, 0–1; null when nothing was due.")
    )


class SlaOwnerRowSerializer(SlaFiguresSerializer):
    owner = UserRefSerializer(allow_null=True)


class SlaGradeRowSerializer(SlaFiguresSerializer):
    grade = serializers.ChoiceField(choices=LeadGrade.choices)


class SlaComplianceSerializer(SlaFiguresSerializer):
    start = serializers.DateField()
    end = serializers.DateField()
    by_owner = SlaOwnerRowSerializer(many=True)
    by_grade = SlaGradeRowSerializer(many=True)


class EmptySerializer(serializers.Serializer):
    pass


class LeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    grade = django_filters.ChoiceFilter(choices=LeadGrade.choices)
    source = django_filters.ChoiceFilter(choices=LeadSource.choices)
    owner = IdFilter(field_name="owner_id", help_text=_("Leads of this owner."))
    team = IdFilter(field_name="team_id", help_text=_("Leads of this team."))
    region = django_filters.CharFilter(help_text=_("Exactly this region."))
    sla_breached = django_filters.BooleanFilter(
        field_name="sla_breached_at", lookup_expr="isnull", exclude=True,
        help_text=_("Only leads that missed (true) or did not miss (false) the response time."),
    )  # fmt: skip

    class Meta:
        model = Lead
        fields = ["status", "grade", "source", "owner", "team", "region", "sla_breached"]


_TRANSITION_DESCRIPTION = _(
    "Answers the updated lead. 404 outside your scope; 403 if you may not work on it; 409 "
    "with the reason if its state does not allow it or a guard fails."
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Leads you may see"),
        parameters=[
            OpenApiParameter(
                "search", str, description=_("Part of the company name, or a phone or e-mail.")
            )
        ],
    ),
    retrieve=extend_schema(summary=_("One lead, with what you may do now")),
    update=extend_schema(summary=_("Change a lead's data (rescored)")),
    partial_update=extend_schema(summary=_("Change some of a lead's data (rescored)")),
)
class LeadViewSet(HistoryMixin, mixins.UpdateModelMixin, ApiReadOnlyModelViewSet):
    """Leads (线索) in your data scope."""

    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    cursor_ids_first = True  # a page's ids from the index alone, then its rows

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return LeadSerializer
        if self.action in ("update", "partial_update"):
            return LeadDataSerializer
        return LeadDetailSerializer

    def get_queryset(self) -> QuerySet[Lead]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Lead.objects.none()
        search = self.request.query_params.get("search", "")[:100] if self.action == "list" else ""
        return lead_list(user=self.request.user, search=search)

    def get_object(self) -> Lead:
        lead = lead_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, lead)
        return lead

    def _detail(self, lead: Lead, *, code: int = status.HTTP_200_OK) -> Response:
        lead = lead_get(user=self.request.user, pk=lead.pk)
        return Response(
            LeadDetailSerializer(lead, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(
        summary=_("Capture a lead (source “api”), deduplicated"),
        description=_(
            "201 with the new lead (scored and assigned); 200 with `duplicate_of` when the "
            "company, phone, e-mail or credit code is already known: the existing lead or "
            "customer gets a touch and nothing is created."
        ),
        request=LeadCreateSerializer,
        responses={status.HTTP_201_CREATED: CaptureResultSerializer,
                   status.HTTP_200_OK: CaptureResultSerializer},
    )  # fmt: skip
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = LeadCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        channel = data.pop("channel", "")
        result = services.lead_capture(
            data=data, source=LeadSource.API, channel=channel, by=request.user
        )
        if result.created:
            body = {
                "result": "created",
                "lead": LeadDetailSerializer(
                    result.lead, context=self.get_serializer_context()
                ).data,
                "duplicate_of": None,
            }
            return Response(body, status=status.HTTP_201_CREATED)
        kind = "lead" if isinstance(result.duplicate_of, Lead) else "customer"
        body = {"result": "duplicate", "lead": None,
                "duplicate_of": {"kind": kind, "id": result.duplicate_of.pk}}  # fmt: skip
        return Response(body, status=status.HTTP_200_OK)

    @extend_schema(request=LeadDataSerializer, responses=LeadDetailSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()
        params = LeadDataSerializer(data=request.data, partial=kwargs.get("partial", False))
        params.is_valid(raise_exception=True)
        lead = services.lead_update(lead=lead, by=request.user, data=params.validated_data)
        return self._detail(lead)

    def _transition(self, service: Callable[..., Lead], **extra: Any) -> Response:
        lead = self.get_object()  # 404 outside the caller's scope, before anything else
        return self._detail(service(lead=lead, by=self.request.user, **extra))

    @extend_schema(summary=_("Record the first contact (首次响应)"),
                   description=_TRANSITION_DESCRIPTION, request=EmptySerializer,
                   responses=LeadDetailSerializer)  # fmt: skip
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def contact(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(services.lead_contact)

    @extend_schema(summary=_("Qualify the lead"), description=_TRANSITION_DESCRIPTION,
                   request=EmptySerializer, responses=LeadDetailSerializer)  # fmt: skip
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def qualify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(services.lead_qualify)

    @extend_schema(summary=_("Disqualify the lead, with a reason"),
                   description=_TRANSITION_DESCRIPTION, request=LeadReasonSerializer,
                   responses=LeadDetailSerializer)  # fmt: skip
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def disqualify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()
        params = LeadReasonSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._detail(
            services.lead_disqualify(lead=lead, by=request.user, **params.validated_data)
        )

    @extend_schema(summary=_("Put the lead into nurturing"), description=_TRANSITION_DESCRIPTION,
                   request=EmptySerializer, responses=LeadDetailSerializer)  # fmt: skip
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def nurture(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(services.lead_nurture)

    @extend_schema(
        summary=_("Convert the lead into a customer and contact"),
        description=_TRANSITION_DESCRIPTION,
        request=EmptySerializer,
        responses=LeadDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def convert(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._transition(services.lead_convert)

    @extend_schema(
        summary=_("Give the lead to another owner, with a reason"),
        description=_(
            "Supervisors, managers and admins (else 403), for a lead in their scope (else "
            "404). A new owner who is not an active person of the caller's scope, or a missing "
            "reason, is a 400 naming the field; a converted or disqualified lead, or one that "
            "already belongs to the new owner, a 409."
        ),
        request=ReassignSerializer,
        responses=LeadDetailSerializer,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def reassign(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lead = self.get_object()
        params = ReassignSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        # Any user id: whether the caller may give the lead to them is the service's to say.
        to = User.objects.filter(pk=params.validated_data["owner"], is_active=True).first()
        if to is None:
            raise serializers.ValidationError({"owner": [_("No active user with this id.")]})
        try:
            lead = services.lead_reassign(
                lead=lead, to=to, by=request.user, reason=params.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            # The service names the new owner `to`; this endpoint's field is `owner`.
            detail = get_error_detail(exc)
            if isinstance(detail, dict) and "to" in detail:
                detail["owner"] = detail.pop("to")
            raise serializers.ValidationError(detail) from exc
        return self._detail(lead)

    @extend_schema(
        summary=_("First-response SLA compliance of your leads (线索响应及时率)"),
        description=_(
            "The leads in your scope whose first response fell due between `start` and `end` "
            "(inclusive, local days; at most 366 days; this month by default): how many were "
            "due, answered in time, answered late and flagged as breached, in total, per owner "
            "and per grade. The same figures as the SLA page. For heads of units and "
            "company-wide accounts; anyone else gets a 404."
        ),
        parameters=[SlaPeriodSerializer],
        responses={
            status.HTTP_200_OK: SlaComplianceSerializer,
            (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer,
                description=_("An invalid `start` or `end` (see errors, which name the field)."),
            ),
            (status.HTTP_404_NOT_FOUND, PROBLEM_CONTENT_TYPE): OpenApiResponse(
                ProblemSerializer, description=_("You do not oversee anyone's leads.")
            ),
        },
    )
    @action(
        detail=False, methods=["get"], url_path="sla-compliance", filter_backends=[],
        pagination_class=None,
    )  # fmt: skip
    def sla_compliance(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_view_team_sla(request.user):
            raise NotFound
        params = SlaPeriodSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data["start"], params.validated_data["end"]
        report = lead_sla_report(user=request.user, period=period_bounds(start, end))
        body = {
            "start": start,
            "end": end,
            **_figures(report.total),
            "by_owner": [{"owner": row.owner, **_figures(row.figures)} for row in report.by_owner],
            "by_grade": [{"grade": row.grade, **_figures(row.figures)} for row in report.by_grade],
        }
        return Response(SlaComplianceSerializer(body).data)


def _figures(figures: SlaCompliance) -> dict[str, Any]:
    return {
        "due": figures.due,
        "responded_in_time": figures.responded_in_time,
        "responded_late": figures.responded_late,
        "breached": figures.breached,
        "rate": figures.rate,
    }
