"""`/api/v1/scorecards/` (绩效考核) and `/api/v1/scoring-schemes/` (API.md).

Scorecards: the list (filters, search by name, `updated_since`, `ordering=updated` — the sync
order, default — or `ordering=rank`), the detail with its lines, `available_transitions` and the
id of its approval request, and the transitions `submit` (the head, with the assessment, to the
manager through the policy "incentives.scorecard") and `publish` (a manager above the person's
unit or an admin, once approved). Approving and returning are `approvals/<id>/approve|reject/`,
as for every document.

Scope: a scorecard outside the caller's sight is a 404 (a rep's own unpublished one too); a
caller without the right a 403; a scorecard in the wrong state a 409; bad input a 400 naming the
field. Scoring schemes are an administrator's: 404 for anyone else."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.views import ApiReadOnlyModelViewSet

from . import scorecards
from . import selectors_scorecards as selectors
from .choices import AssessmentPeriod, Grade, ScorecardStatus
from .models import SchemeMetric, Scorecard, ScoringScheme
from .serializers_scorecards import (
    ScorecardDetailSerializer,
    ScorecardPublishSerializer,
    ScorecardSerializer,
    ScorecardSubmitSerializer,
    ScoringSchemeSerializer,
)

ORDERINGS = {
    "updated": ("updated_at", "id"),
    # A period's ranking: newest period first, then each scheme's cards by score (the rank).
    "rank": ("-period_start", "period_kind", "scheme_id", "-score", "id"),
}


class ScorecardFilter(django_filters.FilterSet):
    period_kind = django_filters.ChoiceFilter(choices=AssessmentPeriod.choices)
    period_start = django_filters.DateFilter(help_text=_("The first day of the period."))
    org_unit = IdFilter(field_name="org_unit_id", help_text=_("The person's unit at period end."))
    user = IdFilter(field_name="user_id", help_text=_("The person assessed."))
    scheme = IdFilter(field_name="scheme_id", help_text=_("The scoring scheme."))
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    status = django_filters.ChoiceFilter(choices=ScorecardStatus.choices)

    class Meta:
        model = Scorecard
        fields = ["period_kind", "period_start", "org_unit", "user", "scheme", "grade", "status"]


class OrderingParams(serializers.Serializer):
    ordering = serializers.ChoiceField(choices=list(ORDERINGS), required=False, default="updated")


def _problem(code: int, description: str) -> tuple:
    return (
        (code, PROBLEM_CONTENT_TYPE),
        OpenApiResponse(ProblemSerializer, description=description),
    )


_ERRORS = dict(
    [
        _problem(400, _("Bad input (see errors, which name the field).")),
        _problem(403, _("You may not take this action on this scorecard.")),
        _problem(404, _("No such scorecard in your scope.")),
        _problem(409, _("The scorecard's state does not allow it.")),
    ]
)


@extend_schema_view(
    list=extend_schema(
        summary=_("Scorecards you may see"),
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=list(ORDERINGS),
                description=_("updated (default: the sync order) or rank."),
            ),
            OpenApiParameter("search", str, description=_("Part of the person's name.")),
        ],
    ),
    retrieve=extend_schema(summary=_("One scorecard with its lines and what you may do now")),
)
class ScorecardViewSet(ApiReadOnlyModelViewSet):
    """KPI scorecards (绩效考核): a rep's own published ones; a head's those of the people of
    their units, in any state; all for admins."""

    serializer_class = ScorecardSerializer
    filterset_class = ScorecardFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend, SearchFilter]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    lookup_value_converter = "int"

    @property
    def cursor_ordering(self) -> tuple[str, ...]:
        params = OrderingParams(data={"ordering": self.request.query_params.get("ordering", "")
                                      or "updated"})  # fmt: skip
        params.is_valid(raise_exception=True)
        return ORDERINGS[params.validated_data["ordering"]]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ScorecardSerializer if self.action == "list" else ScorecardDetailSerializer

    def get_queryset(self) -> QuerySet[Scorecard]:
        if getattr(self, "swagger_fake_view", False):
            return Scorecard.objects.none()
        return selectors.scorecard_list(user=self.request.user).select_related("assessed_by")

    def get_object(self) -> Scorecard:
        card = selectors.scorecard_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, card)
        return card

    def _detail(self, card: Scorecard) -> Response:
        card = selectors.scorecard_get(user=self.request.user, pk=card.pk)
        return Response(ScorecardDetailSerializer(card, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("Submit the assessment to the manager (computed → pending)"),
        description=_(
            "The head of the person's unit or of a unit above it; the assessment must be "
            "written (400 naming it)."
        ),
        request=ScorecardSubmitSerializer,
        responses={200: ScorecardDetailSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        card = self.get_object()
        params = ScorecardSubmitSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        scorecards.scorecard_submit(
            scorecard=card, by=request.user, assessment=params.validated_data.get("assessment"),
            comment=params.validated_data["comment"],
        )  # fmt: skip
        return self._detail(card)

    @extend_schema(
        summary=_("Publish the approved scorecard to the person (approved → published)"),
        description=_("A manager above the person's unit or an admin; the person is notified."),
        request=ScorecardPublishSerializer,
        responses={200: ScorecardDetailSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def publish(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        card = self.get_object()
        return self._detail(scorecards.scorecard_publish(scorecard=card, by=request.user))


@extend_schema_view(
    list=extend_schema(summary=_("Scoring schemes (administrators only)")),
    retrieve=extend_schema(summary=_("One scoring scheme with its metric lines")),
)
class ScoringSchemeViewSet(ApiReadOnlyModelViewSet):
    """Scoring schemes (考核方案): how each role is assessed. Administrators only (404 for
    anyone else)."""

    serializer_class = ScoringSchemeSerializer
    filter_backends = [UpdatedSinceFilter]
    lookup_value_converter = "int"
    problem_statuses = {404}  # the list too (apps.api.schema)

    def get_queryset(self) -> QuerySet[ScoringScheme]:
        if getattr(self, "swagger_fake_view", False):
            return ScoringScheme.objects.none()
        if not selectors.may_manage_schemes(self.request.user):
            raise Http404
        return ScoringScheme.objects.prefetch_related(
            Prefetch("metrics", queryset=SchemeMetric.objects.order_by("position", "id"))
        )


ROUTES = [
    ("scorecards", ScorecardViewSet, "scorecard"),
    ("scoring-schemes", ScoringSchemeViewSet, "scoring-scheme"),
]
