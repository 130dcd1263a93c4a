"""Admin of the product catalogue and of quotes (imported by the app's admin.py).

Quotes are read here for support: their lines and status change through the services (the
quote editor, the approval chain), so the admin shows them read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Product, Quote, QuoteLine


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "unit", "list_price", "product_line", "is_active", "updated_at")
    list_filter = ("is_active", "product_line")
    search_fields = ("code", "name", "external_id")
    ordering = ("code",)
    show_full_result_count = False


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    fields = ("position", "product", "description", "quantity", "unit_price", "discount_pct",
              "amount")  # fmt: skip
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ("__str__", "opportunity", "version", "status", "total", "max_discount_pct",
                    "owner", "updated_at")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("opportunity__name", "opportunity__customer__name")
    list_select_related = ("opportunity", "owner")
    raw_id_fields = ("opportunity", "owner")
    readonly_fields = ("status", "list_amount", "total", "max_discount_pct", "approved_at",
                       "return_comment", "created_at", "updated_at")  # fmt: skip
    inlines = [QuoteLineInline]
    show_full_result_count = False
