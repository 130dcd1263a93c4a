"""Admin pages for API tokens (issue, list, revoke) and, read-only, idempotency keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, IdempotencyKey
from .services import token_issue, token_revoke


class ApiTokenAddForm(forms.ModelForm):
    days = forms.IntegerField(
        label=_("valid for (days)"),
        min_value=1,
        required=False,
        initial=settings.API_TOKEN_DEFAULT_DAYS,
        help_text=_("Leave empty for a token that never expires."),
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]


class UsableFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("usable", _("usable")), ("revoked", _("revoked")), ("expired", _("expired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        from django.db.models import Q
        from django.utils import timezone

        now = timezone.now()
        if self.value() == "usable":
            return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).filter(
                revoked_at__isnull=True
            )
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Issuing shows the raw token once, in the success message; tokens are never edited or
    deleted here, only revoked (the row stays as a record of who had access)."""

    list_display = (
        "prefix",
        "name",
        "user",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_filter = (UsableFilter,)
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username")
    autocomplete_fields = ("user",)
    actions = ["revoke_tokens"]
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "last_used_at",
    )
    ordering = ("-created_at",)

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, **kwargs: Any):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        return () if obj is None else self.readonly_fields

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        return ["user", "name", "days"] if obj is None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            return  # nothing is editable
        token, raw = token_issue(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            days=form.cleaned_data.get("days"),
            by=request.user,
        )
        # The admin goes on with `obj` (log entry, redirect): make it the issued token.
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        obj._state.db = token._state.db
        messages.success(
            request,
            _(
                "The new token is %(token)s — copy it now: it is shown only once and cannot be "
                "recovered."
            )
            % {"token": raw},
        )

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    @admin.action(description=_("Revoke selected tokens"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.select_related("user").filter(revoked_at__isnull=True))
        for token in tokens:
            token_revoke(token=token, by=request.user)
        messages.success(request, _("%(count)d token(s) revoked.") % {"count": len(tokens)})


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Read-only: what an integration sent with an Idempotency-Key, and what it was answered."""

    list_display = ("key", "user", "method", "path", "status_code", "created_at")
    list_select_related = ("user",)
    search_fields = ("key", "user__username", "path")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
