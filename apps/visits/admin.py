from django.contrib import admin

from .models import VisitPlan, VisitRecord, WeeklyReport


@admin.register(VisitPlan)
class VisitPlanAdmin(admin.ModelAdmin):
    list_display = ["planned_date", "route_order", "owner", "customer", "lead", "purpose", "status"]
    list_filter = ["status", "purpose", "planned_date"]
    search_fields = ["customer__name", "lead__company_name", "owner__username"]
    raw_id_fields = ["owner", "customer", "lead", "opportunity"]
    readonly_fields = ["status", "created_at", "updated_at"]
    date_hierarchy = "planned_date"


@admin.register(VisitRecord)
class VisitRecordAdmin(admin.ModelAdmin):
    list_display = ["started_at", "owner", "customer", "lead", "purpose", "order_amount",
                    "payment_collected", "is_effective"]  # fmt: skip
    list_filter = ["is_effective", "purpose"]
    search_fields = ["customer__name", "lead__company_name", "owner__username"]
    raw_id_fields = ["plan", "owner", "customer", "lead", "opportunity"]
    readonly_fields = ["is_effective", "created_at", "updated_at"]
    date_hierarchy = "started_at"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # visit records are never deleted


@admin.register(WeeklyReport)
class WeeklyReportAdmin(admin.ModelAdmin):
    list_display = ["week_start", "owner", "status", "due_at", "submitted_at"]
    list_filter = ["status", "week_start"]
    search_fields = ["owner__username"]
    raw_id_fields = ["owner", "reviewed_by"]
    readonly_fields = ["status", "created_at", "updated_at"]
