"""Admin pages for the org tree and users (DESIGN.md: admin keeps the org tree, users and roles).

Foreign keys use autocomplete, so no select box loads a whole table.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import OrgUnit, User


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("indented_name", "code", "kind", "head", "member_count", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code")
    autocomplete_fields = ("parent", "head")
    readonly_fields = ("path", "created_at", "updated_at")
    ordering = ("path",)
    list_select_related = ("head",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("members"))

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj: OrgUnit) -> str:
        return "— " * obj.depth + obj.name

    @admin.display(description=_("members"), ordering="_members")
    def member_count(self, obj: OrgUnit) -> int:
        return obj._members


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "org_unit", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff", "org_unit__kind")
    search_fields = ("username", "first_name", "last_name", "email", "phone")
    autocomplete_fields = ("org_unit",)
    list_select_related = ("org_unit",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "phone", "language")}),
        (_("Role and organisation"), {"fields": ("role", "org_unit")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "password1", "password2", "role", "org_unit"),
            },
        ),
    )

    @admin.display(description=_("name"))
    def display_name(self, obj: User) -> str:
        return obj.get_full_name()
