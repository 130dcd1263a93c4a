"""API credentials and the memory of idempotent POSTs (API.md "Discovery and auth", "ERP
integration")."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    """A bearer token (API 令牌) with which an integration acts as `user`, with the user's role
    and data scope.

    Only the SHA-256 of the secret is stored (`key_hash`): the raw token is shown once, when it
    is issued, and cannot be recovered. `prefix` (the first characters of the raw token) lets a
    human tell tokens apart in lists. A token is usable while it is neither revoked nor expired
    and its user is active; `expires_at` empty means it never expires.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired()


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key` header, kept so that a retry
    with the same key replays it instead of doing the work twice.

    `request_hash` (SHA-256 of method, path and body) tells a genuine retry from a different
    request reusing the key (answered 422). The row is written in the same transaction as the
    work it answers for: `completed` is false only while that transaction runs, so a committed
    row always holds a complete answer. 5xx answers are never kept, so the client can retry.
    Rows older than `IDEMPOTENCY_KEY_TTL_HOURS` are purged by `apps.api.tasks`.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    key = models.CharField(_("key"), max_length=255)
    method = models.CharField(_("method"), max_length=10)
    path = models.TextField(_("path"))
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    response_content_type = models.CharField(_("response content type"), max_length=100)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    completed = models.BooleanField(_("completed"), default=False)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_user_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class Tombstone(models.Model):
    """A record that was deleted (墓碑), so that a system mirroring it through the API can delete
    it too: `GET /api/v1/tombstones/` (`apps.api.api_tombstones`).

    Written in the transaction of the delete, by the `post_delete` receivers of
    `apps.api.tombstones`, for the resources whose records the code (or the admin site) can
    delete: the resource's API name, the record's id and external id, and what the feed's scope
    needs, as they were at the deletion: the owner whose data scope covered the record and, for
    a record of an org unit (a unit's target), the unit. Neither is a foreign key that could
    cascade or block: a tombstone outlives what it names.
    """

    resource = models.CharField(_("resource"), max_length=40)
    object_id = models.BigIntegerField(_("object id"))
    external_id = models.CharField(_("external id"), max_length=100, blank=True, default="")
    deleted_at = models.DateTimeField(_("deleted at"), default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the feed reads by (resource, deleted_at): no index to keep up
        related_name="+",
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the feed reads by (resource, deleted_at): no index to keep up
        related_name="+",
    )

    class Meta:
        verbose_name = _("tombstone")
        verbose_name_plural = _("tombstones")
        ordering = ["deleted_at", "id"]
        indexes = [
            models.Index(fields=["deleted_at", "id"], name="tombstone_sync"),
            models.Index(fields=["resource", "deleted_at", "id"], name="tombstone_resource_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.object_id}"
