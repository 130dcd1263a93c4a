"""API representations of approvals: requests (summary and detail with rounds), the inbox
rows (待我审批), transition bodies, and delegations. Read from the selectors' select_related /
prefetch_related columns: no query per row."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.models import User
from apps.api.serializers import UserRefSerializer

from .choices import RequestStatus
from .models import ApprovalDecision, ApprovalRequest, ApprovalTask, Delegation
from .permissions import TRANSITIONS, available_transitions
from .selectors import approval_rounds

# --- requests ----------------------------------------------------------------------------

_SUMMARY_FIELDS = [
    "id",
    "document_type",
    "title",
    "url",
    "submitter",
    "status",
    "status_display",
    "round",
    "current_step",
    "current_step_name",
    "amount",
    "percentage",
    "submitted_at",
    "decided_at",
    "updated_at",
]


class ApprovalSerializer(serializers.ModelSerializer):
    """An approval request (审批) as listed: the document it is about and where it stands."""

    document_type = serializers.CharField(
        read_only=True, help_text=_('The kind of document, e.g. "contracts.contract".')
    )
    title = serializers.CharField(read_only=True, help_text=_("The document, as submitted."))
    url = serializers.CharField(read_only=True, help_text=_("The document's page on the site."))
    submitter = UserRefSerializer(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    round = serializers.IntegerField(
        read_only=True, help_text=_("1 for the first submission, +1 for each resubmission.")
    )
    current_step = serializers.IntegerField(
        read_only=True, allow_null=True, help_text=_("The step waiting now; null once decided.")
    )

    class Meta:
        model = ApprovalRequest
        fields = _SUMMARY_FIELDS
        read_only_fields = fields


class ApprovalTaskSerializer(serializers.ModelSerializer):
    """One approver's part in one step of a round."""

    approver = UserRefSerializer(read_only=True)
    delegated_from = UserRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("The approver this task was delegated from, if any."),
    )

    class Meta:
        model = ApprovalTask
        fields = [
            "id",
            "step_order",
            "step_name",
            "mode",
            "approver",
            "delegated_from",
            "status",
            "created_at",
            "decided_at",
        ]
        read_only_fields = fields


class ApprovalDecisionSerializer(serializers.ModelSerializer):
    """What someone did in a round (submitted, approved, returned, withdrew), with the
    comment."""

    actor = UserRefSerializer(read_only=True)
    on_behalf_of = UserRefSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("The approver a delegate acted for, if any."),
    )
    decision_display = serializers.CharField(source="get_decision_display", read_only=True)

    class Meta:
        model = ApprovalDecision
        fields = [
            "step_name",
            "actor",
            "on_behalf_of",
            "decision",
            "decision_display",
            "comment",
            "created_at",
        ]
        read_only_fields = fields


class ApprovalRoundSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    tasks = ApprovalTaskSerializer(many=True)
    decisions = ApprovalDecisionSerializer(many=True)


class ApprovalDetailSerializer(ApprovalSerializer):
    """An approval request with every round (newest first) and what the caller may do now."""

    rounds = serializers.SerializerMethodField(help_text=_("Every round, newest first."))
    available_transitions = serializers.SerializerMethodField(
        help_text=_(
            "The transitions you may take now: approve and reject when the current step waits "
            "for you, withdraw when you submitted it and it is pending."
        )
    )

    class Meta(ApprovalSerializer.Meta):
        fields = [*_SUMMARY_FIELDS, "rounds", "available_transitions"]
        read_only_fields = fields

    @extend_schema_field(ApprovalRoundSerializer(many=True))
    def get_rounds(self, approval: ApprovalRequest) -> list[dict[str, Any]]:
        return ApprovalRoundSerializer(approval_rounds(approval), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=TRANSITIONS)))
    def get_available_transitions(self, approval: ApprovalRequest) -> list[str]:
        request = self.context.get("request")
        if request is None:
            return []
        return available_transitions(request.user, approval)


class ApprovalInboxSerializer(serializers.Serializer):
    """A row of "waiting for me" (待我审批): the request, and the task waiting for the caller."""

    id = serializers.IntegerField(
        source="request.id",
        help_text=_("The approval request: POST approvals/{id}/approve/ or reject/."),
    )
    document_type = serializers.CharField(source="request.document_type")
    title = serializers.CharField(source="request.title")
    url = serializers.CharField(source="request.url")
    submitter = UserRefSerializer(source="request.submitter")
    status = serializers.ChoiceField(source="request.status", choices=RequestStatus.choices)
    status_display = serializers.CharField(source="request.get_status_display")
    round = serializers.IntegerField(source="request.round")
    current_step = serializers.IntegerField(source="request.current_step", allow_null=True)
    current_step_name = serializers.CharField(source="request.current_step_name")
    amount = serializers.DecimalField(
        source="request.amount", max_digits=14, decimal_places=2, allow_null=True
    )
    percentage = serializers.DecimalField(
        source="request.percentage", max_digits=7, decimal_places=2, allow_null=True
    )
    submitted_at = serializers.DateTimeField(source="request.submitted_at")
    decided_at = serializers.DateTimeField(source="request.decided_at", allow_null=True)
    updated_at = serializers.DateTimeField(source="request.updated_at")
    task_id = serializers.IntegerField(source="id", help_text=_("The task waiting for you."))
    step_name = serializers.CharField(help_text=_("The step you are asked to approve."))
    waiting_since = serializers.DateTimeField(
        source="created_at", help_text=_("When the step reached you.")
    )
    delegated_from = UserRefSerializer(
        allow_null=True, help_text=_("The approver who delegated this task to you, if any.")
    )


# --- transition bodies -------------------------------------------------------------------


class ApprovalCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_("An optional comment.")
    )


_REJECT_COMMENT_MISSING = _("Say why the document is returned.")


class ApprovalRejectSerializer(serializers.Serializer):
    comment = serializers.CharField(
        help_text=_("Why the document is returned (required)."),
        error_messages={
            "required": _REJECT_COMMENT_MISSING,
            "blank": _REJECT_COMMENT_MISSING,
            "null": _REJECT_COMMENT_MISSING,
        },
    )


# --- delegations -------------------------------------------------------------------------


class DelegationSerializer(serializers.ModelSerializer):
    """A delegation (代理审批): `delegate` approves in the place of `user` from `starts_on`
    to `ends_on`."""

    user = UserRefSerializer(read_only=True, help_text=_("The approver who is away (you)."))
    delegate = UserRefSerializer(read_only=True)
    is_current = serializers.SerializerMethodField(
        help_text=_("Whether the delegation applies today.")
    )

    class Meta:
        model = Delegation
        fields = [
            "id",
            "user",
            "delegate",
            "starts_on",
            "ends_on",
            "reason",
            "is_current",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_is_current(self, delegation: Delegation) -> bool:
        return delegation.starts_on <= timezone.localdate() <= delegation.ends_on


class DelegationCreateSerializer(serializers.Serializer):
    delegate = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), help_text=_("The user who approves in your place.")
    )
    starts_on = serializers.DateField(help_text=_("The first day (included)."))
    ends_on = serializers.DateField(help_text=_("The last day (included)."))
    reason = serializers.CharField(
        max_length=300,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Why, e.g. annual leave."),
    )
