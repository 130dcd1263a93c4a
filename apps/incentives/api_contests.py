"""`/api/v1/contests/` (销售竞赛, API.md "Resources"):

- list: filters `state` (running, upcoming, ended) and `metric`, plus `updated_since` and the
  cursor; detail; `history/`;
- create (POST): an admin, or a manager for the units they head;
- PATCH: change a contest until it starts (else 409);
- `GET contests/{id}/leaderboard/`: the live ranking while it runs, the kept one once final.

Scope: a contest outside the caller's (participants, heads of its units or above, admins) is
a 404; a write the caller may not make a 403; bad input a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import UpdatedSinceFilter
from apps.api.history import HistoryMixin
from apps.api.views import ApiReadOnlyModelViewSet
from apps.goals.choices import Metric

from . import contests
from . import selectors_contests as selectors
from .models import Contest
from .serializers_contests import (
    STATE_CHOICES,
    ContestPatchSerializer,
    ContestSerializer,
    ContestWriteSerializer,
    LeaderboardSerializer,
)


class ContestFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=[(s, s) for s in STATE_CHOICES], method="filter_state",
        help_text=_("running, upcoming or ended (today in the business time zone)."),
    )  # fmt: skip
    metric = django_filters.ChoiceFilter(choices=Metric.choices)

    class Meta:
        model = Contest
        fields = ["state", "metric"]

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        today = timezone.localdate()
        if value == selectors.RUNNING:
            return queryset.filter(Q(starts_on__lte=today) & Q(ends_on__gte=today))
        if value == selectors.UPCOMING:
            return queryset.filter(starts_on__gt=today)
        return queryset.filter(ends_on__lt=today)


@extend_schema_view(
    list=extend_schema(summary=_("Sales contests you may see")),
    retrieve=extend_schema(summary=_("One sales contest")),
)
class ContestViewSet(HistoryMixin, ApiReadOnlyModelViewSet):
    """Sales contests (销售竞赛): yours as a participant, your units' as a head, all for
    admins."""

    serializer_class = ContestSerializer
    filterset_class = ContestFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    queryset = Contest.objects.none()  # the model, for the schema; get_queryset scopes
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Contest]:
        if getattr(self, "swagger_fake_view", False):
            return Contest.objects.none()
        return selectors.contest_list(user=self.request.user)

    def get_object(self) -> Contest:
        contest = selectors.contest_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, contest)
        return contest

    def _detail(self, pk: int, code: int = status.HTTP_200_OK) -> Response:
        contest = selectors.contest_get(user=self.request.user, pk=pk)
        return Response(ContestSerializer(contest, context=self.get_serializer_context()).data,
                        status=code)  # fmt: skip

    @extend_schema(
        summary=_("Set a sales contest"),
        description=_(
            "An admin for any units, a manager for the units they head (else 403; a unit "
            "outside them is a 400 naming units). ends_on may not be before starts_on."
        ),
        request=ContestWriteSerializer,
        responses={status.HTTP_201_CREATED: ContestSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = ContestWriteSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        contest = contests.contest_create(by=request.user, **params.validated_data)
        return self._detail(contest.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Change a contest that has not started"),
        description=_("Only the fields given change; 409 once the contest has started."),
        request=ContestPatchSerializer,
        responses=ContestSerializer,
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contest = self.get_object()
        params = ContestPatchSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        values = {
            "name": contest.name, "description": contest.description, "metric": contest.metric,
            "starts_on": contest.starts_on, "ends_on": contest.ends_on,
            "units": [unit.pk for unit in contest.units.all()],
        } | params.validated_data  # fmt: skip
        contests.contest_update(contest=contest, by=request.user, **values)
        return self._detail(contest.pk)

    @extend_schema(
        summary=_("The contest's leaderboard"),
        description=_(
            "While it runs (and until its final ranking is kept), computed from the documents "
            "from its first day to today; once final, the ranking kept when it ended. Equal "
            "values share a rank."
        ),
        responses=LeaderboardSerializer,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def leaderboard(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        board = selectors.leaderboard(self.get_object())
        return Response(LeaderboardSerializer(board).data)


ROUTES = [("contests", ContestViewSet, "contest")]
