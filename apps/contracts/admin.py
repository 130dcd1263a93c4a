"""Admin of contracts: read-mostly views for support. Amounts, terms and states change only
through the services (pages, API), so the money fields are read-only here."""

from django.contrib import admin

from .models import Contract, ContractAmendment, ContractLine, ContractSequence, PaymentTerm


class ContractLineInline(admin.TabularInline):
    model = ContractLine
    extra = 0
    can_delete = False
    readonly_fields = ["position", "product", "description", "quantity", "unit_price",
                       "discount_pct", "amount"]  # fmt: skip

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class PaymentTermInline(admin.TabularInline):
    model = PaymentTerm
    extra = 0
    can_delete = False
    readonly_fields = ["sequence", "kind", "due_date", "percentage", "amount"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "customer", "owner", "status", "amount", "signed_on"]
    list_filter = ["status"]
    search_fields = ["number", "title", "customer__name", "external_id"]
    list_select_related = ["customer", "owner"]
    raw_id_fields = ["customer", "opportunity", "owner"]
    readonly_fields = ["number", "status", "amount", "credit_portion", "needs_credit_override",
                       "version", "approved_at", "signed_at", "completed_at", "terminated_at",
                       "created_at", "updated_at"]  # fmt: skip
    inlines = [ContractLineInline, PaymentTermInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # contracts are terminated with a reason, never deleted


@admin.register(ContractAmendment)
class ContractAmendmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "contract", "status", "amount", "approved_at"]
    list_filter = ["status"]
    search_fields = ["contract__number", "reason"]
    raw_id_fields = ["contract", "owner"]
    readonly_fields = ["status", "amount", "proposed", "previous", "approved_at", "created_at",
                       "updated_at"]  # fmt: skip

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ContractSequence)
class ContractSequenceAdmin(admin.ModelAdmin):
    list_display = ["year", "last_number"]
    readonly_fields = ["year", "last_number"]
