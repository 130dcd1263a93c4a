"""`/api/v1/period-reviews/` (目标考核评估): list, detail, PATCH of the summary / corrections by
the unit's head while open, and the transitions submit (to the manager, through the approval
policy "goals.periodreview"; the manager approves or returns it with `/api/v1/approvals/`) and
publish (a manager above the unit or an admin, once approved).

Scope: a review outside the caller's scope is a 404; a caller without the right a 403; a review
in the wrong state a 409; bad input a 400 naming the field (API.md)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.filters import IdFilter, UpdatedSinceFilter
from apps.api.problems import PROBLEM_CONTENT_TYPE
from apps.api.schema import ProblemSerializer
from apps.api.serializers import OrgUnitRefSerializer, UserRefSerializer
from apps.api.views import ApiReadOnlyModelViewSet

from . import closing
from . import selectors_reviews as selectors
from .choices import PeriodKind, ReviewStatus
from .models import PeriodReview

TRANSITIONS = ["edit", "submit", "publish"]


class PeriodReviewSerializer(serializers.ModelSerializer):
    org_unit = OrgUnitRefSerializer(read_only=True)
    owner = UserRefSerializer(read_only=True, allow_null=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    figures = serializers.JSONField(
        read_only=True,
        help_text=_(
            "Attainment when the period closed, per metric: {metric: {unit: {target, actual, "
            "attainment, gap}, reps: [{user, name, target, actual, attainment, gap}]}}; amounts "
            "as decimal strings, attainment in percent (null without a target)."
        ),
    )
    available_transitions = serializers.SerializerMethodField(
        help_text=_("What you may do now: edit (PATCH), submit, publish.")
    )

    class Meta:
        model = PeriodReview
        fields = [
            "id", "org_unit", "period_kind", "period_start", "period_end", "status",
            "status_display", "figures", "owner", "summary", "corrections", "return_comment",
            "approved_at", "published_at", "available_transitions", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_available_transitions(self, review: PeriodReview) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        user = request.user
        result = []
        if closing.can_edit_review(user, review):
            result += ["edit", "submit"]
        if review.status == ReviewStatus.APPROVED and closing.can_publish_review(user, review):
            result.append("publish")
        return result


class PeriodReviewUpdateSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    corrections = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class SubmitSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class EmptySerializer(serializers.Serializer):
    pass


class PeriodReviewFilter(django_filters.FilterSet):
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices)
    status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)
    org_unit = IdFilter(field_name="org_unit_id", help_text=_("Reviews of this unit."))

    class Meta:
        model = PeriodReview
        fields = ["period_kind", "status", "org_unit"]


def _problem(code: int, description: str) -> tuple:
    return (
        (code, PROBLEM_CONTENT_TYPE),
        OpenApiResponse(ProblemSerializer, description=description),
    )


_ERRORS = dict(
    [
        _problem(400, _("A required field is missing (see errors, which name the field).")),
        _problem(403, _("You may not take this action on this review.")),
        _problem(404, _("No such review in your scope.")),
        _problem(409, _("The review's state does not allow it.")),
    ]
)


@extend_schema_view(
    list=extend_schema(summary=_("Period reviews you may see")),
    retrieve=extend_schema(summary=_("One period review, with what you may do now")),
)
class PeriodReviewViewSet(mixins.UpdateModelMixin, ApiReadOnlyModelViewSet):
    """Period reviews (目标考核评估): the heads' of their units and below; the published ones of
    your own unit and those above it; all for admins."""

    serializer_class = PeriodReviewSerializer
    filterset_class = PeriodReviewFilter
    filter_backends = [UpdatedSinceFilter, DjangoFilterBackend]
    lookup_value_converter = "int"
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[PeriodReview]:
        if getattr(self, "swagger_fake_view", False):
            return PeriodReview.objects.none()
        return selectors.review_list(user=self.request.user)

    def get_object(self) -> PeriodReview:
        review = selectors.review_get(user=self.request.user, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, review)
        return review

    def _detail(self, review: PeriodReview) -> Response:
        review = selectors.review_get(user=self.request.user, pk=review.pk)
        return Response(PeriodReviewSerializer(review, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("Write the summary (and, after a return, the corrections)"),
        description=_("Only the unit's head, only while the review is open (else 403 / 409)."),
        request=PeriodReviewUpdateSerializer,
        responses={200: PeriodReviewSerializer, **_ERRORS},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object()
        params = PeriodReviewUpdateSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        review = closing.review_update(
            review=review,
            by=request.user,
            summary=params.validated_data.get("summary"),
            corrections=params.validated_data.get("corrections"),
        )
        return self._detail(review)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        summary=_("Submit the review to the manager (open → pending)"),
        description=_(
            "The unit's head; the summary must be written, and after a return the corrections "
            "(400 naming them)."
        ),
        request=SubmitSerializer,
        responses={200: PeriodReviewSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object()
        params = SubmitSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        closing.review_submit(
            review=review, by=request.user, comment=params.validated_data["comment"]
        )
        return self._detail(review)

    @extend_schema(
        summary=_("Publish the approved review to the unit (approved → published)"),
        description=_("A manager above the unit or an admin; every member is notified."),
        request=EmptySerializer,
        responses={200: PeriodReviewSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def publish(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self.get_object()
        return self._detail(closing.review_publish(review=review, by=request.user))


ROUTES = [("period-reviews", PeriodReviewViewSet, "period-review")]
