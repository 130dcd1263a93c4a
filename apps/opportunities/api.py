"""`/api/v1/opportunities/`: list (search, filters, cursor, `updated_since`), detail with
`available_transitions` and `stage_history`, create, PATCH, one POST per stage move
(`opportunities/<id>/qualify/` … `/lose/`, `/move_back/`), the pipeline board
(`opportunities/board/`) and the change history; `/api/v1/stage-settings/` read-only.

Scope: a deal outside the caller's data scope is a 404 everywhere (DESIGN.md "Data scope"); a
move the stage does not allow is a 409 naming the stage; a guard that fails is a 400 naming
every missing requirement (by field where a field satisfies it); a caller who may not work on
the deal a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet
from apps.customers.models import Contact
from apps.customers.selectors import customer_list

from . import selectors, services
from .choices import Stage
from .models import Opportunity, StageSetting
from .permissions import TRANSITIONS, available_transitions
from .selectors import OpportunityFilters, opportunity_get, opportunity_list

_FIELDS = [
    "id", "name", "customer", "customer_name", "contact", "owner", "amount", "probability",
    "weighted_amount", "expected_close_date", "stage", "stage_display", "stage_entered_at",
    "stuck_notified_at", "closed_at", "lead", "created_at", "updated_at",
]  # fmt: skip


_STAGE_LABELS = dict(Stage.choices)


class StageDisplayField(serializers.CharField):
    """The stage's label, as `get_stage_display()` gives it, read from the choices directly:
    DRF inspects the signature of a method source on every row and Django's display method
    rebuilds the choices' lookup on every call (a fifth of a board's serialisation)."""

    def get_attribute(self, instance: Opportunity) -> Any:
        return _STAGE_LABELS.get(instance.stage, instance.stage)


class OpportunitySerializer(serializers.ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contact = serializers.IntegerField(source="contact_id", read_only=True, allow_null=True)
    lead = serializers.IntegerField(source="lead_id", read_only=True, allow_null=True)
    owner = UserRefSerializer(read_only=True)
    stage_display = StageDisplayField(source="stage", read_only=True)
    probability = serializers.IntegerField(
        read_only=True, help_text=_("The stage's win probability (%), from the stage settings.")
    )
    weighted_amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True,
        help_text=_("amount × probability, for the weighted forecast."),
    )  # fmt: skip

    class Meta:
        model = Opportunity
        fields = _FIELDS
        read_only_fields = fields


class StageStaySerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices, source="change.stage")
    from_stage = serializers.CharField(source="change.from_stage")
    entered_at = serializers.DateTimeField(source="change.entered_at")
    left_at = serializers.DateTimeField(source="change.left_at", allow_null=True)
    entered_by = UserRefSerializer(source="change.entered_by", allow_null=True)
    reason = serializers.CharField(source="change.reason")
    days = serializers.FloatField(help_text=_("Days in the stage (to now for the current one)."))


class OpportunityDetailSerializer(OpportunitySerializer):
    available_transitions = serializers.SerializerMethodField(
        help_text=_("The moves you may start now (POST opportunities/{id}/{move}/).")
    )
    stage_history = serializers.SerializerMethodField()

    class Meta(OpportunitySerializer.Meta):
        fields = [*_FIELDS, "description", "needs_analysis", "lost_reason", "lost_competitor",
                  "available_transitions", "stage_history"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITIONS)))
    def get_available_transitions(self, opportunity: Opportunity) -> list[str]:
        request = self.context.get("request")
        return available_transitions(request.user, opportunity) if request is not None else []

    @extend_schema_field(StageStaySerializer(many=True))
    def get_stage_history(self, opportunity: Opportunity) -> list[dict[str, Any]]:
        return StageStaySerializer(selectors.stage_history(opportunity=opportunity), many=True).data


class OpportunityDataSerializer(serializers.Serializer):
    """The editable data of a deal (PATCH: any of them)."""

    name = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0,
                                      required=False)  # fmt: skip
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    contact = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("A contact of the deal's customer.")
    )
    description = serializers.CharField(required=False, allow_blank=True)
    needs_analysis = serializers.CharField(required=False, allow_blank=True)


class OpportunityCreateSerializer(OpportunityDataSerializer):
    customer = serializers.IntegerField(help_text=_("A customer you may work on."))


class ProposeSerializer(serializers.Serializer):
    needs_analysis = serializers.CharField(
        required=False, allow_blank=True,
        help_text=_("The needs-analysis notes, if not written yet (saved with the move)."),
    )  # fmt: skip


class LoseSerializer(serializers.Serializer):
    lost_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    lost_competitor = serializers.CharField(
        max_length=200, required=False, allow_blank=True,
        help_text=_("The competitor who won, or “none”."),
    )  # fmt: skip


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


class EmptySerializer(serializers.Serializer):
    pass


class ListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, max_length=100, allow_blank=True,
        help_text=_("Part of the deal's or the customer's name."),
    )  # fmt: skip
    stage = serializers.ChoiceField(choices=Stage.choices, required=False)
    owner = serializers.IntegerField(required=False, help_text=_("Deals of this owner."))
    team = serializers.IntegerField(
        required=False, help_text=_("Deals of the owners in this org unit and the units below.")
    )
    close_month = serializers.RegexField(
        # Not year 0000, which no date has (a 500 before: schemathesis).
        r"^(?!0000)\d{4}-(0[1-9]|1[0-2])$", required=False,
        help_text=_("Expected close in this month (YYYY-MM)."),
    )  # fmt: skip
    state = serializers.ChoiceField(choices=["open", "closed"], required=False)
    stuck = serializers.BooleanField(
        required=False, default=False, help_text=_("Only open deals flagged as stuck.")
    )

    def filters(self) -> OpportunityFilters:
        data = self.validated_data
        month = data.get("close_month")
        return OpportunityFilters(
            search=data.get("search", ""), stage=data.get("stage", ""), owner=data.get("owner"),
            team=data.get("team"),
            close_month=date(int(month[:4]), int(month[5:7]), 1) if month else None,
            state=data.get("state", ""), stuck=data.get("stuck", False),
        )  # fmt: skip


class BoardQuerySerializer(ListQuerySerializer):
    per_stage = serializers.IntegerField(
        required=False, min_value=1, max_value=200, default=selectors.BOARD_CARDS_PER_STAGE,
        help_text=_("Cards per column (the soonest expected close first)."),
    )  # fmt: skip


class BoardCardSerializer(OpportunitySerializer):
    """A card of the board: the deal as in the list, less the probability and the weighted
    amount, which are the column's (a card used to promise them and leave them out)."""

    class Meta(OpportunitySerializer.Meta):
        fields = [f for f in _FIELDS if f not in ("probability", "weighted_amount")]
        read_only_fields = fields


class BoardColumnSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    label = serializers.CharField()
    probability = serializers.IntegerField()
    count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=16, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=16, decimal_places=2)
    more = serializers.IntegerField(help_text=_("Deals in the column beyond the cards shown."))
    cards = BoardCardSerializer(many=True)


class ClosedSummarySerializer(serializers.Serializer):
    won = serializers.IntegerField()
    won_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    lost = serializers.IntegerField()


class BoardSerializer(serializers.Serializer):
    columns = BoardColumnSerializer(many=True)
    closed_this_month = ClosedSummarySerializer(source="closed")
    total = serializers.DecimalField(max_digits=16, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=16, decimal_places=2)


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(ProblemSerializer, description=description)


_MOVE_RESPONSES = {
    status.HTTP_200_OK: OpportunityDetailSerializer,
    (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): _problem(
        _(
            "A guard failed: `errors` names every missing requirement (by field when the "
            "request can supply it)."
        )
    ),
    (status.HTTP_403_FORBIDDEN, PROBLEM_CONTENT_TYPE): _problem(
        _("You may not work on this deal.")
    ),
    (status.HTTP_404_NOT_FOUND, PROBLEM_CONTENT_TYPE): _problem(_("Not in your scope.")),
    (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): _problem(
        _("The deal's current stage does not allow this move (the message names the stage).")
    ),
}


def _move_schema(summary: str, request: type[serializers.Serializer]) -> Callable:
    return extend_schema(summary=summary, request=request, responses=_MOVE_RESPONSES)


class OpportunityViewSet(
    HistoryMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, ApiReadOnlyModelViewSet
):
    """Opportunities (商机) in your data scope."""

    serializer_class = OpportunitySerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "list":
            return OpportunitySerializer
        if self.action == "create":
            return OpportunityCreateSerializer
        if self.action == "partial_update":
            return OpportunityDataSerializer
        return OpportunityDetailSerializer

    def get_queryset(self) -> QuerySet[Opportunity]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return Opportunity.objects.none()
        filters = OpportunityFilters()
        if self.action == "list":
            params = ListQuerySerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            filters = params.filters()
        return opportunity_list(user=self.request.user, filters=filters)

    def get_object(self) -> Opportunity:
        opportunity = opportunity_get(user=self.request.user, pk=self.kwargs[self.lookup_field])
        self.check_object_permissions(self.request, opportunity)
        return opportunity

    def _detail(self, opportunity: Opportunity, *, code: int = status.HTTP_200_OK) -> Response:
        opportunity = opportunity_get(user=self.request.user, pk=opportunity.pk)
        body = OpportunityDetailSerializer(opportunity, context=self.get_serializer_context()).data
        return Response(body, status=code)

    def _contact(self, data: dict[str, Any]) -> dict[str, Any]:
        if "contact" in data and data["contact"] is not None:
            contact = Contact.objects.filter(pk=data["contact"]).first()
            if contact is None:
                raise serializers.ValidationError({"contact": [_("No contact with this id.")]})
            data["contact"] = contact
        return data

    @extend_schema(
        summary=_("Deals you may see"),
        parameters=[ListQuerySerializer],
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary=_("One deal, with its stage history and the moves you may start"))
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary=_("Open a deal (first stage: prospecting)"),
        request=OpportunityCreateSerializer,
        responses={
            status.HTTP_201_CREATED: OpportunityDetailSerializer,
            (status.HTTP_403_FORBIDDEN, PROBLEM_CONTENT_TYPE): _problem(
                _("You may not open a deal for this customer.")
            ),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = OpportunityCreateSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = self._contact(dict(params.validated_data))
        customer = customer_list(user=request.user).filter(pk=data.pop("customer")).first()
        if customer is None:
            raise serializers.ValidationError({"customer": [_("No customer with this id.")]})
        opportunity = services.opportunity_open(customer=customer, by=request.user, data=data)
        return self._detail(opportunity, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Change some of a deal's data"),
        request=OpportunityDataSerializer,
        responses={
            status.HTTP_200_OK: OpportunityDetailSerializer,
            (status.HTTP_409_CONFLICT, PROBLEM_CONTENT_TYPE): _problem(
                _("The deal is won or lost: closed deals are not edited.")
            ),
        },
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        opportunity = self.get_object()
        params = OpportunityDataSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        data = self._contact(dict(params.validated_data))
        opportunity = services.opportunity_update(
            opportunity=opportunity, by=request.user, data=data
        )
        return self._detail(opportunity)

    def _move(self, name: str, **extra: Any) -> Response:
        opportunity = self.get_object()  # 404 outside the caller's scope, before anything else
        service = services.TRANSITION_SERVICES[name]
        return self._detail(service(opportunity=opportunity, by=self.request.user, **extra))

    def _params(self, serializer: type[serializers.Serializer]) -> dict[str, Any]:
        params = serializer(data=self.request.data)
        params.is_valid(raise_exception=True)
        return dict(params.validated_data)

    @_move_schema(_("Qualify (客户甄别): needs a decision maker and a logged visit"),
                  EmptySerializer)  # fmt: skip
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def qualify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("qualify")

    @_move_schema(_("Move to needs analysis (需求分析)"), EmptySerializer)
    @action(detail=True, methods=["post"], url_path="analyse_needs", filter_backends=[],
            pagination_class=None)  # fmt: skip
    def analyse_needs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("analyse_needs")

    @_move_schema(_("Move to proposal (方案报价): needs the needs-analysis notes"),
                  ProposeSerializer)  # fmt: skip
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def propose(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("propose", **self._params(ProposeSerializer))

    @_move_schema(_("Move to negotiation (谈判): needs an approved quote"), EmptySerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def negotiate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("negotiate")

    @_move_schema(_("Win the deal (赢单)"), EmptySerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def win(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("win")

    @_move_schema(_("Lose the deal (输单), with the reason and the competitor"), LoseSerializer)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def lose(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("lose", **self._params(LoseSerializer))

    @_move_schema(_("Move back one stage, with the reason"), ReasonSerializer)
    @action(detail=True, methods=["post"], url_path="move_back", filter_backends=[],
            pagination_class=None)  # fmt: skip
    def move_back(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._move("move_back", **self._params(ReasonSerializer))

    @extend_schema(
        summary=_("The pipeline board: per open stage the totals and the first cards"),
        parameters=[BoardQuerySerializer],
        responses={
            status.HTTP_200_OK: BoardSerializer,
            (status.HTTP_400_BAD_REQUEST, PROBLEM_CONTENT_TYPE): _problem(
                _("An invalid filter (see errors, which name the parameter).")
            ),
        },
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def board(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = BoardQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        result = selectors.board(
            user=request.user, filters=params.filters(),
            per_stage=params.validated_data["per_stage"],
        )  # fmt: skip
        return Response(BoardSerializer(result).data)


class StageSettingSerializer(serializers.ModelSerializer):
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)

    class Meta:
        model = StageSetting
        fields = ["id", "stage", "stage_display", "probability", "expected_days", "updated_at"]
        read_only_fields = fields


@extend_schema(summary=_("Win probability and expected days of each stage"))
class StageSettingViewSet(ApiReadOnlyModelViewSet):
    """The stage settings (阶段赢率与周期); changed by an admin in the admin site."""

    serializer_class = StageSettingSerializer
    queryset = StageSetting.objects.all()
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"


ROUTES = [
    ("opportunities", OpportunityViewSet, "opportunity"),
    ("stage-settings", StageSettingViewSet, "stage-setting"),
]
