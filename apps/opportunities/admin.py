"""Admin of the pipeline: the stage settings (probability and expected days per stage, edited
in the list) and opportunities with their stage history, read-only (stages move through the
services, which check the guards and keep the history)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from . import admin_quotes  # noqa: F401  (products and quotes)
from .models import Opportunity, StageChange, StageSetting


@admin.register(StageSetting)
class StageSettingAdmin(admin.ModelAdmin):
    list_display = ("stage", "probability", "expected_days", "updated_at")
    list_editable = ("probability", "expected_days")
    readonly_fields = ("stage",)
    ordering = ("id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per stage, created by the migration

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class StageChangeInline(admin.TabularInline):
    model = StageChange
    fields = ("stage", "from_stage", "entered_at", "left_at", "entered_by", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("entered_at", "id")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "owner", "stage", "amount", "expected_close_date",
                    "updated_at")  # fmt: skip
    list_filter = ("stage",)
    search_fields = ("name", "customer__name")
    list_select_related = ("customer", "owner")
    raw_id_fields = ("customer", "contact", "lead", "owner")
    readonly_fields = ("stage", "stage_entered_at", "closed_at", "stuck_notified_at",
                       "stuck_escalated_at", "created_at", "updated_at")  # fmt: skip
    inlines = [StageChangeInline]
    show_full_result_count = False
    ordering = ("-updated_at",)
