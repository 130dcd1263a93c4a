"""Reads of API tokens, restricted to what the caller may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from .models import ApiToken
from .services import TOKEN_PREFIX, token_hash

if TYPE_CHECKING:
    from apps.accounts.models import User


def token_for_secret(raw: str) -> ApiToken | None:
    """The token whose secret is `raw` (any state: the caller tells expired from revoked)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    try:
        return ApiToken.objects.select_related("user").get(key_hash=token_hash(raw))
    except ApiToken.DoesNotExist:
        return None


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """Tokens `user` may see: their own; every token for an administrator."""
    qs = ApiToken.objects.select_related("user")
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin_role:
        return qs
    return qs.filter(user_id=user.pk)


def token_get(*, user: User, pk: int) -> ApiToken:
    """One token within `user`'s sight, else 404."""
    return get_object_or_404(token_list(user=user), pk=pk)
