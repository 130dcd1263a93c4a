"""Admin pages: approval policies with their steps (editable), requests and delegations
(readable; decisions are never edited by hand)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    ApprovalDecision,
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalStep,
    ApprovalTask,
    Delegation,
)


class ApprovalStepInline(admin.TabularInline):
    model = ApprovalStep
    extra = 0
    autocomplete_fields = ("user",)
    fields = (
        "order", "name", "approver_kind", "role", "user", "mode",
        "condition_metric", "condition_min", "condition_max", "condition_flag",
    )  # fmt: skip


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "document_type", "step_count", "remind_after_hours",
                    "escalate_after_hours", "is_active")  # fmt: skip
    list_filter = ("is_active",)
    search_fields = ("name", "document_type")
    inlines = [ApprovalStepInline]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_steps=Count("steps"))

    @admin.display(description=_("steps"), ordering="_steps")
    def step_count(self, obj) -> int:
        return obj._steps


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TaskInline(ReadOnlyInline):
    model = ApprovalTask
    fields = ("round", "step_order", "step_name", "approver", "delegated_from", "status",
              "created_at", "decided_at", "reminded_at", "escalated_at")  # fmt: skip
    readonly_fields = fields


class DecisionInline(ReadOnlyInline):
    model = ApprovalDecision
    fields = ("round", "step_name", "actor", "on_behalf_of", "decision", "comment", "created_at")
    readonly_fields = fields


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(admin.ModelAdmin):
    list_display = ("title", "document_type", "submitter", "status", "round",
                    "current_step_name", "submitted_at")  # fmt: skip
    list_filter = ("status", "document_type")
    search_fields = ("title", "submitter__username")
    list_select_related = ("submitter",)
    inlines = [TaskInline, DecisionInline]
    readonly_fields = [f.name for f in ApprovalRequest._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delegation)
class DelegationAdmin(admin.ModelAdmin):
    list_display = ("user", "delegate", "starts_on", "ends_on", "reason")
    search_fields = ("user__username", "delegate__username")
    autocomplete_fields = ("user", "delegate")
    list_select_related = ("user", "delegate")
