"""Admin of customers and credit.

The credit rating rules are the admin table of this app (thresholds, default limits, terms).
Customers and contacts are editable, except what has its own use case: the status (FSM), the
credit limit and term (only an approved limit request changes them), the credit hold (finance,
with a reason) and the pool fields (claim / release / the nightly job). Development
applications, investigations and limit requests are read-only here: they change through their
services and the approval engine, which an admin form would bypass.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import (
    Contact,
    CreditInvestigation,
    CreditLimitRequest,
    CreditRatingRule,
    Customer,
    DevelopmentApplication,
)


class InPoolFilter(admin.SimpleListFilter):
    title = _("public pool")
    parameter_name = "in_pool"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [("yes", _("In the public pool")), ("no", _("Owned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(owner__isnull=True)
        if self.value() == "no":
            return queryset.filter(owner__isnull=False)
        return queryset


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "title", "decision_role", "phone", "email", "is_primary"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable in the admin, changed only through the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "tier", "region", "owner", "credit_rating", "credit_limit",
                    "on_credit_hold", "last_follow_up_at", "updated_at"]  # fmt: skip
    list_filter = ["status", "tier", InPoolFilter, "on_credit_hold", "credit_rating", "size"]
    # `ilike_contains` is served by the trigram index; `icontains` would scan the table.
    search_fields = ["name__ilike_contains", "=credit_code"]
    autocomplete_fields = ["owner"]
    raw_id_fields = ["previous_owner"]
    readonly_fields = ["status", "credit_rating", "credit_limit", "payment_term_days",
                       "on_credit_hold", "credit_hold_reason", "last_follow_up_at", "claimed_at",
                       "pool_warning_at", "released_at", "previous_owner", "created_at",
                       "updated_at"]  # fmt: skip
    list_select_related = ["owner"]
    show_full_result_count = False  # no COUNT(*) over 200,000 customers
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "decision_role", "title", "phone", "is_primary"]
    list_filter = ["decision_role", "is_primary"]
    search_fields = ["name", "phone", "email"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    show_full_result_count = False


@admin.register(CreditRatingRule)
class CreditRatingRuleAdmin(admin.ModelAdmin):
    list_display = ["rating", "min_score", "default_credit_limit", "payment_term_days"]
    list_editable = ["min_score", "default_credit_limit", "payment_term_days"]
    ordering = ["-min_score"]


@admin.register(CreditInvestigation)
class CreditInvestigationAdmin(ReadOnlyAdmin):
    list_display = ["customer", "owner", "status", "total_score", "rating", "applied_at"]
    list_filter = ["status", "rating"]
    search_fields = ["customer__name__ilike_contains"]
    list_select_related = ["customer", "owner"]


@admin.register(CreditLimitRequest)
class CreditLimitRequestAdmin(ReadOnlyAdmin):
    list_display = ["customer", "owner", "status", "current_limit", "requested_limit",
                    "payment_term_days", "approved_at", "updated_at"]  # fmt: skip
    list_filter = ["status"]
    search_fields = ["customer__name__ilike_contains"]
    list_select_related = ["customer", "owner"]


@admin.register(DevelopmentApplication)
class DevelopmentApplicationAdmin(ReadOnlyAdmin):
    list_display = ["customer", "owner", "status", "approved_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["customer__name__ilike_contains"]
    list_select_related = ["customer", "owner"]
