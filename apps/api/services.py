"""Writes of the API app: issuing and revoking tokens, purging idempotency keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ApiToken, IdempotencyKey

if TYPE_CHECKING:
    from apps.accounts.models import User

TOKEN_PREFIX = "sct_"
PREFIX_LENGTH = 8  # characters of the raw token shown to humans ("sct_AbCd")
# last_used_at is a hint for humans ("is this token still in use?"), not an audit trail:
# writing it at most once a minute keeps authentication a read for busy integrations.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_hash(raw: str) -> str:
    """The stored form of a raw token: SHA-256 hex. A token is 240 random bits, so a fast hash
    is enough (there is nothing to brute-force, unlike a password)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _can_manage_tokens_of(by: User | None, user: User) -> bool:
    # `by` None: the system (management command, a job).
    return by is None or by.pk == user.pk or by.is_admin_role


@transaction.atomic
def token_issue(
    *, user: User, name: str, days: int | None, by: User | None = None
) -> tuple[ApiToken, str]:
    """Issue a bearer token for `user`; return it with the raw secret, which is shown once and
    never stored (only its hash is).

    `days` None means the token never expires. A user may issue tokens for themselves; only an
    administrator issues tokens for someone else (e.g. an ERP integration user).
    """
    if not _can_manage_tokens_of(by, user):
        raise PermissionDenied(_("Only an administrator can issue a token for another user."))
    if not user.is_active:
        raise ValidationError(
            {"user": ValidationError(_("This user is inactive."), code="inactive")}
        )
    if days is not None and days < 1:
        raise ValidationError(
            {"days": ValidationError(_("Ensure this value is at least 1."), code="min_value")}
        )
    raw = f"{TOKEN_PREFIX}{secrets.token_urlsafe(30)}"
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=token_hash(raw),
        prefix=raw[:PREFIX_LENGTH],
        created_by=by,
        expires_at=timezone.now() + timedelta(days=days) if days is not None else None,
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User | None) -> ApiToken:
    """Revoke `token` now: it stops authenticating at once.

    The owner or an administrator may revoke. Revoking a revoked token keeps the first
    revocation (who and when) and is not an error: the caller wants the token dead, and it is.
    """
    if not _can_manage_tokens_of(by, token.user):
        raise PermissionDenied(_("Only an administrator can revoke another user's token."))
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by
    )
    token.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return token


def token_touch(*, token: ApiToken) -> None:
    """Record that `token` was just used, at most once per minute.

    The UPDATE is conditional, so concurrent requests with the same token write once and
    never move `last_used_at` backwards.
    """
    now = timezone.now()
    threshold = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > threshold:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=threshold), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


def idempotency_keys_purge() -> int:
    """Delete the idempotency keys older than `IDEMPOTENCY_KEY_TTL_HOURS`, in one DELETE;
    return how many were deleted. Safe to run on several workers at once."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
