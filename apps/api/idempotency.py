"""`Idempotency-Key` on POST (API.md "ERP integration").

The same key with the same request replays the first answer (same status, same body, plus
``Idempotent-Replayed: true``) without running the view again; the same key with another
request is a 422. `apps.api.views.ApiViewMixin` drives this for every API view:

1. after authentication, permissions and throttling, `IdempotentRequest.begin()` takes a
   Postgres advisory lock on (user, key), held on the request's connection across the view.
   A concurrent duplicate waits on it (at most `IDEMPOTENCY_LOCK_TIMEOUT_SECONDS`, then 409)
   and, once it has the lock, finds the stored answer and replays it: the work runs once;
2. the view then runs inside one transaction together with the write of its answer, so the
   work and the record of it commit together or not at all (a crash in between cannot make a
   retry do the work twice);
3. a 4xx answer rolls the work back and is stored on its own (a retry gets the same error);
   a 5xx answer or an unhandled exception stores nothing, so the client may retry.

Because the view runs inside `transaction.atomic()`, a service called from an API POST must not
open a `durable=True` block. The lock is session-level: behind a connection pooler, use session
pooling (PgBouncer's transaction pooling would hand the lock to another client).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from .exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
LOCK_NOT_AVAILABLE = "55P03"  # Postgres SQLSTATE raised when lock_timeout expires


class IdempotentReplay(Exception):  # a control-flow signal, not an error
    """Raised from `begin()` to answer with a stored response instead of running the view."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__()
        self.response = response


def _lock_timeout_seconds() -> int:
    return getattr(settings, "IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", 30)


def _ttl() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def request_fingerprint(request: Request) -> str:
    """SHA-256 of method, path (with query) and body. A JSON body is canonicalised first, so
    a client that re-serialises the same payload with other spacing or key order still
    retries rather than "reuses" its key."""
    body: bytes = request._request.body
    with contextlib.suppress(ValueError):  # not JSON: compare the bytes as sent
        body = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode("utf-8"), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def advisory_lock_id(user_id: int, key: str) -> int:
    """A signed 64-bit id for pg_advisory_lock, derived from (user, key). A collision between
    two different keys only makes those two requests wait for each other."""
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _acquire(lock_id: int) -> None:
    """Wait for the session-level advisory lock, at most the configured timeout.

    The wait runs in its own (sub)transaction with a transaction-local lock_timeout: on timeout
    only that savepoint is rolled back, so a surrounding transaction stays usable; the lock
    itself is session-level and outlives the block until `_release`.
    """
    timeout_ms = int(_lock_timeout_seconds() * 1000)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            (previous,) = cursor.fetchone()
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{timeout_ms}ms"])
            cursor.execute("SELECT pg_advisory_lock(%s)", [lock_id])
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise IdempotencyKeyInUse() from exc
        raise


def _release(lock_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(
        row.response_body.encode("utf-8"),
        status=row.status_code,
        content_type=row.response_content_type,
    )
    response[REPLAYED_HEADER] = "true"
    return response


def _parse_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key:
        raise ValidationError({HEADER: [_("The Idempotency-Key header must not be empty.")]})
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            {
                HEADER: [
                    _("The Idempotency-Key header must be at most %(max)d characters.")
                    % {"max": MAX_KEY_LENGTH}
                ]
            }
        )
    if not key.isascii() or not key.isprintable():
        raise ValidationError({HEADER: [_("The Idempotency-Key header must be printable ASCII.")]})
    return key


class IdempotentRequest:
    """One POST carrying an Idempotency-Key, from `begin()` to `finish()` or `abort()`."""

    def __init__(self, *, row: IdempotencyKey, lock_id: int, atomic: transaction.Atomic) -> None:
        self.row = row
        self.lock_id = lock_id
        self.atomic = atomic
        self.done = False

    @classmethod
    def begin(cls, request: Request) -> IdempotentRequest | None:
        """Start handling `request`: None when it is not an idempotent POST; raises
        `IdempotentReplay` when it was answered before, `IdempotencyKeyReused` (422) when the
        key belongs to another request. Otherwise the view runs next, inside the returned
        object's transaction and lock."""
        if request.method != "POST":
            return None
        key = _parse_key(request)
        user = request.user
        if key is None or not getattr(user, "is_authenticated", False):
            return None

        fingerprint = request_fingerprint(request)
        lock_id = advisory_lock_id(user.pk, key)
        _acquire(lock_id)
        try:
            row = IdempotencyKey.objects.filter(user_id=user.pk, key=key).first()
            if row is not None and row.created_at < timezone.now() - _ttl():
                row.delete()  # expired, not purged yet: the key is free again
                row = None
            if row is not None:
                if row.request_hash != fingerprint:
                    raise IdempotencyKeyReused()
                raise IdempotentReplay(_replay(row))

            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                row = IdempotencyKey.objects.create(
                    user_id=user.pk,
                    key=key,
                    method=request.method,
                    path=request.get_full_path(),
                    request_hash=fingerprint,
                    response_content_type="",
                )
            except BaseException as exc:
                atomic.__exit__(type(exc), exc, exc.__traceback__)
                raise
        except BaseException:
            _release(lock_id)
            raise
        return cls(row=row, lock_id=lock_id, atomic=atomic)

    def finish(self, response: HttpResponseBase) -> None:
        """Store the answer with the work (2xx/3xx), apart from it (4xx), or not at all (5xx),
        then commit and release the lock."""
        if self.done:
            return
        self.done = True
        try:
            try:
                if hasattr(response, "render") and callable(response.render):
                    response.render()
                body = _decode(getattr(response, "content", None))
                status = response.status_code
                if status >= 400:
                    # An error answer never leaves half-done work behind.
                    transaction.set_rollback(True)
                elif body is None:
                    self.row.delete()  # a streamed answer cannot be replayed: keep the work only
                else:
                    self._store(self.row, response, body)
            except BaseException as exc:
                self.atomic.__exit__(type(exc), exc, exc.__traceback__)
                raise
            self.atomic.__exit__(None, None, None)
            if 400 <= status < 500 and body is not None:
                row = IdempotencyKey(
                    user_id=self.row.user_id,
                    key=self.row.key,
                    method=self.row.method,
                    path=self.row.path,
                    request_hash=self.row.request_hash,
                )
                self._store(row, response, body)
        finally:
            _release(self.lock_id)

    def abort(self, exc: BaseException) -> None:
        """The view raised an exception DRF did not handle (a 500 follows): roll back, keep
        nothing, release the lock."""
        if self.done:
            return
        self.done = True
        try:
            self.atomic.__exit__(type(exc), exc, exc.__traceback__)
        finally:
            _release(self.lock_id)

    @staticmethod
    def _store(row: IdempotencyKey, response: HttpResponseBase, body: str) -> None:
        row.status_code = response.status_code
        row.response_body = body
        row.response_content_type = response.get("Content-Type", "")[:100]
        row.completed = True
        row.save()


def _decode(content: Any) -> str | None:
    if not isinstance(content, bytes):
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None
