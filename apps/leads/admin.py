"""Admin of leads: scoring rules (a change rescores every lead after commit), territories,
and read-mostly leads and touches."""

from __future__ import annotations

from django.contrib import admin

from .models import Lead, LeadTouch, ScoringRule, Territory
from .services import scoring_rules_changed


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "field", "operator", "value", "points", "is_active"]
    list_filter = ["field", "is_active"]
    list_editable = ["points", "is_active"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        scoring_rules_changed()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        scoring_rules_changed()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        scoring_rules_changed()


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["region", "team", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["region"]
    autocomplete_fields = ["team"]


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["company_name", "status", "grade", "score", "owner", "source", "updated_at"]
    list_filter = ["status", "grade", "source"]
    search_fields = ["company_name"]
    raw_id_fields = ["owner", "team", "converted_customer"]
    readonly_fields = ["status", "score", "grade", "first_response_due_at",
                       "first_responded_at", "sla_breached_at", "converted_customer",
                       "converted_at"]  # fmt: skip
    show_full_result_count = False  # no COUNT(*) over a million rows


@admin.register(LeadTouch)
class LeadTouchAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source", "channel", "lead", "customer"]
    raw_id_fields = ["lead", "customer"]
