"""Admin of receivables: read-only views of the money rows. Money moves only through the
services (record, allocate, reverse, write off), which lock, check and keep history; the admin
never adds, edits or deletes a payment, an allocation or an installment."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    Allocation,
    CollectionRecord,
    CollectionTask,
    Installment,
    Payment,
    PenaltyAccrual,
    WriteOff,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyAdmin):
    list_display = ["contract", "sequence", "customer", "owner", "due_date", "amount",
                    "paid_amount", "written_off_amount", "status"]  # fmt: skip
    list_filter = ["status", "kind"]
    list_select_related = ["contract", "customer", "owner"]
    search_fields = ["contract__number"]
    raw_id_fields = ["contract", "customer", "owner"]
    date_hierarchy = "due_date"
    show_full_result_count = False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["received_on", "customer", "amount", "allocated_amount", "method",
                    "bank_reference", "external_id", "status"]  # fmt: skip
    list_filter = ["status", "method"]
    list_select_related = ["customer"]
    search_fields = ["=bank_reference", "=external_id", "payer_name"]
    raw_id_fields = ["customer", "owner", "recorded_by"]
    date_hierarchy = "received_on"
    show_full_result_count = False


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["payment", "installment", "amount", "allocated_on", "reversed_at"]
    list_select_related = ["payment", "installment"]
    raw_id_fields = ["payment", "installment", "created_by", "reversed_by"]
    show_full_result_count = False


@admin.register(PenaltyAccrual)
class PenaltyAccrualAdmin(ReadOnlyAdmin):
    list_display = ["installment", "accrual_date", "principal", "rate_per_day", "amount"]
    raw_id_fields = ["installment"]
    show_full_result_count = False


@admin.register(WriteOff)
class WriteOffAdmin(ReadOnlyAdmin):
    list_display = ["installment", "owner", "amount", "status", "approved_at"]
    list_filter = ["status"]
    raw_id_fields = ["installment", "owner"]


@admin.register(CollectionTask)
class CollectionTaskAdmin(ReadOnlyAdmin):
    list_display = ["customer", "owner", "bucket", "status", "due_on"]
    list_filter = ["status", "bucket"]
    raw_id_fields = ["installment", "customer", "owner"]
    show_full_result_count = False


@admin.register(CollectionRecord)
class CollectionRecordAdmin(ReadOnlyAdmin):
    list_display = ["customer", "owner", "method", "promised_on", "promised_amount",
                    "promise_status", "created_at"]  # fmt: skip
    list_filter = ["method", "promise_status"]
    raw_id_fields = ["customer", "installment", "contact", "owner"]
    show_full_result_count = False
