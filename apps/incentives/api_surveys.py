"""`/api/v1/satisfaction-surveys/` (客户满意度, API.md "Resources"): read-only.

- list: filters `sent_from`, `sent_until` (days), `unit` (the owners' current unit and those
  below), `owner`, `customer`, `score`, `trigger`, `answered`, plus `updated_since` and the
  cursor; detail (never the link's token: only its hash is stored);
- `GET satisfaction-surveys/stats/`: the figures of the filtered set (average satisfaction,
  NPS, response rate), the same as the list page's.

Scope by the survey's owner: a rep their own, a head their subtree's, an admin all; a survey
outside it is a 404. Bad input is a 400 naming the field.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import OrgUnit
from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.views import ApiReadOnlyModelViewSet

from . import selectors_surveys as selectors
from .choices import SurveyStatus, SurveyTrigger
from .models import SatisfactionSurvey
from .serializers_surveys import SatisfactionSurveySerializer, SurveyStatsSerializer


class SurveyFilter(django_filters.FilterSet):
    sent_from = django_filters.DateFilter(
        method="filter_sent_from", help_text=_("Sent on or after this day.")
    )
    sent_until = django_filters.DateFilter(
        method="filter_sent_until", help_text=_("Sent on or before this day.")
    )
    unit = IdFilter(
        method="filter_unit",
        help_text=_("Surveys of the reps now in this org unit or a unit below it."),
    )
    owner = IdFilter(field_name="owner_id", help_text=_("Surveys of this rep."))
    customer = IdFilter(field_name="customer_id", help_text=_("Surveys of this customer."))
    score = django_filters.ChoiceFilter(
        choices=[(str(n), str(n)) for n in range(1, 6)], help_text=_("Satisfaction 1–5.")
    )
    trigger = django_filters.ChoiceFilter(choices=SurveyTrigger.choices)
    answered = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")], method="filter_answered",
        help_text=_("true: answered; false: not answered (yet)."),
    )  # fmt: skip

    class Meta:
        model = SatisfactionSurvey
        fields = ["sent_from", "sent_until", "unit", "owner", "customer", "score", "trigger",
                  "answered"]  # fmt: skip

    def filter_sent_from(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(sent_at__gte=selectors.day_start(value))

    def filter_sent_until(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(sent_at__lt=selectors.day_start(value + timedelta(days=1)))

    def filter_unit(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        unit = OrgUnit.objects.filter(pk=value).only("path").first()
        if unit is None:
            return queryset.none()
        return queryset.filter(owner__org_unit__path__startswith=unit.path)

    def filter_answered(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        answered = value == "true"
        return queryset.filter(status=SurveyStatus.ANSWERED if answered else SurveyStatus.SENT)


@extend_schema_view(
    list=extend_schema(summary=_("Satisfaction surveys you may see")),
    retrieve=extend_schema(summary=_("One satisfaction survey")),
)
class SatisfactionSurveyViewSet(ApiReadOnlyModelViewSet):
    """Customer satisfaction surveys (客户满意度) in your data scope."""

    serializer_class = SatisfactionSurveySerializer
    filterset_class = SurveyFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    queryset = SatisfactionSurvey.objects.none()  # the model, for the schema

    def get_queryset(self) -> QuerySet[SatisfactionSurvey]:
        if getattr(self, "swagger_fake_view", False):
            return SatisfactionSurvey.objects.none()
        return selectors.survey_list(user=self.request.user)

    def get_object(self) -> SatisfactionSurvey:
        survey = selectors.survey_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, survey)
        return survey

    @extend_schema(
        summary=_("The figures of the filtered surveys"),
        description=_(
            "The same filters as the list. NPS: of the answers with a likelihood to "
            "recommend, % promoters (9–10) − % detractors (0–6); null without such answers."
        ),
        responses=SurveyStatsSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def stats(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        qs = self.filter_queryset(self.get_queryset())
        return Response(SurveyStatsSerializer(selectors.survey_stats(qs)).data)


ROUTES = [("satisfaction-surveys", SatisfactionSurveyViewSet, "satisfaction-survey")]
