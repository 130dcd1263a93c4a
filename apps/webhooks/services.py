"""Webhook writes: subscriptions, raising an event, delivering it, redelivering.

A domain service raises an event inside its own transaction::

    webhook_emit(EventType.PAYMENT_ALLOCATED, data={...})

The event and one delivery per matching active subscription are written in that transaction, so
a rolled-back change raises nothing; the deliveries are queued with `transaction.on_commit`.

Each attempt POSTs the JSON body ``{"id", "type", "created_at", "data"}`` with the headers

- ``X-Salesctl-Event``: the event type; ``X-Salesctl-Event-Id``: the event's id (the same on
  every retry and redelivery: a receiver dedupes on it); ``X-Salesctl-Delivery``: the delivery;
- ``X-Salesctl-Timestamp``: Unix seconds of the attempt;
- ``X-Salesctl-Signature``: ``sha256=`` + hex HMAC-SHA256 with the subscription's secret over
  ``<timestamp>.<body>`` — the receiver recomputes it and rejects an old timestamp (replay).

A 2xx answer delivers it. Anything else (an error status, a timeout, a refused connection) is
retried after WEBHOOK_RETRY_BASE_SECONDS × 2^(attempt − 1) until WEBHOOK_MAX_ATTEMPTS, then the
delivery is failed; an administrator can redeliver it (a new delivery of the same event).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role

from .choices import DeliveryStatus, EventType
from .models import WebhookDelivery, WebhookEvent, WebhookSubscription

RESPONSE_KEPT = 2000
USER_AGENT = "salesctl-webhooks/1"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def can_manage(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.role in (Role.ADMIN, Role.INTEGRATION))
    )


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300
) -> bool:
    """What a receiver does (used by the example receiver and the tests): the signature
    matches and the timestamp is within `tolerance` seconds of now."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(time.time() - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature or "")


# --------------------------------------------------------------------------- subscriptions


def _clean(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = [_("Give the subscription a name.")]
        elif len(name) > 200:
            errors["name"] = [_("At most 200 characters.")]
        cleaned["name"] = name
    if "url" in data or not partial:
        url = str(data.get("url") or "").strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            errors["url"] = [_("Enter a valid http or https URL.")]
        if len(url) > 500:
            errors["url"] = [_("At most 500 characters.")]
        cleaned["url"] = url
    if "event_types" in data or not partial:
        events = data.get("event_types") or []
        if isinstance(events, str):
            events = [events]
        unknown = [e for e in events if e not in EventType.values]
        if not events:
            errors["event_types"] = [_("Choose at least one event.")]
        elif unknown:
            errors["event_types"] = [
                _("Unknown event: %(events)s.") % {"events": ", ".join(map(str, unknown))}
            ]
        cleaned["event_types"] = sorted(set(events))
    if "is_active" in data:
        cleaned["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationError(errors)
    return cleaned


def subscription_create(*, by: Any, data: Mapping[str, Any]) -> WebhookSubscription:
    if not can_manage(by):
        raise PermissionDenied(_("Only an administrator or an integration user manages webhooks."))
    cleaned = _clean(data)
    return WebhookSubscription.objects.create(**cleaned, secret=new_secret(), created_by=by)


@transaction.atomic
def subscription_update(
    *, subscription: WebhookSubscription, by: Any, data: Mapping[str, Any]
) -> WebhookSubscription:
    if not can_manage(by):
        raise PermissionDenied(_("Only an administrator or an integration user manages webhooks."))
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    for field, value in _clean(data, partial=True).items():
        setattr(subscription, field, value)
    subscription.save()
    return subscription


def subscription_rotate_secret(
    *, subscription: WebhookSubscription, by: Any
) -> WebhookSubscription:
    if not can_manage(by):
        raise PermissionDenied(_("Only an administrator or an integration user manages webhooks."))
    subscription.secret = new_secret()
    subscription.save(update_fields=["secret", "updated_at"])
    return subscription


def subscription_delete(*, subscription: WebhookSubscription, by: Any) -> None:
    if not can_manage(by):
        raise PermissionDenied(_("Only an administrator or an integration user manages webhooks."))
    subscription.delete()


# --------------------------------------------------------------------------- events


def _enqueue(delivery_ids: Iterable[int], *, countdown: float | None = None) -> None:
    from .tasks import deliver

    queue = _setting("WEBHOOK_QUEUE", None)
    for delivery_id in delivery_ids:
        options: dict[str, Any] = {"args": [delivery_id]}
        if queue:
            options["queue"] = queue
        if countdown:
            options["countdown"] = countdown
        deliver.apply_async(**options)


def webhook_emit(event_type: str, *, data: Mapping[str, Any]) -> WebhookEvent | None:
    """Raise `event_type` with `data` (JSON-serialisable; Decimals and dates become strings).
    Nothing is stored when no active subscription wants it."""
    subscriptions = list(
        WebhookSubscription.objects.filter(is_active=True, event_types__contains=[event_type])
        .values_list("pk", flat=True)
    )  # fmt: skip
    if not subscriptions:
        return None
    payload = json.loads(json.dumps(dict(data), cls=DjangoJSONEncoder))
    with transaction.atomic():
        event = WebhookEvent.objects.create(type=event_type, payload=payload)
        deliveries = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event=event, subscription_id=pk) for pk in subscriptions]
        )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return event


def webhook_emit_many(event_type: str, *, items: Iterable[Mapping[str, Any]]) -> int:
    """Raise one event per item (a job's set of overdue installments, say): one query for the
    subscriptions, bulk inserts. Returns the number of events."""
    subscriptions = list(
        WebhookSubscription.objects.filter(is_active=True, event_types__contains=[event_type])
        .values_list("pk", flat=True)
    )  # fmt: skip
    if not subscriptions:
        return 0
    events = [
        WebhookEvent(
            type=event_type, payload=json.loads(json.dumps(dict(d), cls=DjangoJSONEncoder))
        )
        for d in items
    ]
    if not events:
        return 0
    with transaction.atomic():
        WebhookEvent.objects.bulk_create(events, batch_size=1000)
        deliveries = WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event=e, subscription_id=pk) for e in events for pk in subscriptions],
            batch_size=1000,
        )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _enqueue(ids))
    return len(events)


def envelope(event: WebhookEvent) -> bytes:
    body = {
        "id": str(event.id),
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.payload,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --------------------------------------------------------------------------- delivery


def _claim(delivery_id: int) -> bool:
    """Take the delivery for one attempt, unless another worker holds it or it is done: the
    claim pushes next_attempt_at past the attempt's timeout (a lease), in one UPDATE."""
    lease = _setting("WEBHOOK_TIMEOUT_SECONDS", 10) + 30
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE webhooks_webhookdelivery
               SET attempts = attempts + 1, last_attempt_at = clock_timestamp(),
                   next_attempt_at = clock_timestamp() + make_interval(secs => %s),
                   updated_at = clock_timestamp()
             WHERE id = %s AND status = 'pending'
               AND (next_attempt_at IS NULL OR next_attempt_at <= clock_timestamp())
            """,
            [lease, delivery_id],
        )
        return cursor.rowcount == 1


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str]:
    """(status or None, response text, error)."""
    if not url.lower().startswith(("http://", "https://")):
        return None, "", "not an http(s) URL"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    timeout = _setting("WEBHOOK_TIMEOUT_SECONDS", 10)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(RESPONSE_KEPT).decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as exc:
        text = exc.read(RESPONSE_KEPT).decode("utf-8", "replace") if exc.fp else ""
        return exc.code, text, ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, "", str(reason)[:500]


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    base = float(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    return base * 2 ** max(0, attempts - 1)


def delivery_attempt(delivery_id: int) -> float | None:
    """One attempt of a delivery. Returns the seconds until the next attempt when it should be
    retried, else None (delivered, failed for good, or not ours to attempt now)."""
    if not _claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("event", "subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = envelope(delivery.event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Salesctl-Event": delivery.event.type,
        "X-Salesctl-Event-Id": str(delivery.event_id),
        "X-Salesctl-Delivery": str(delivery.pk),
        "X-Salesctl-Timestamp": str(timestamp),
        "X-Salesctl-Signature": sign(subscription.secret, timestamp, body),
    }
    started = time.monotonic()
    status, text, error = _post(subscription.url, body, headers)
    delivery.duration_ms = int((time.monotonic() - started) * 1000)
    delivery.response_status = status
    delivery.response_body = text
    delivery.error = error
    retry_in: float | None = None
    if status is not None and 200 <= status < 300:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.next_attempt_at = None
    elif delivery.attempts >= _setting("WEBHOOK_MAX_ATTEMPTS", 8) or not subscription.is_active:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        retry_in = retry_delay(delivery.attempts)
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=retry_in)
    delivery.save(
        update_fields=[
            "status", "next_attempt_at", "response_status", "response_body", "error",
            "duration_ms", "updated_at",
        ]
    )  # fmt: skip
    return retry_in


def deliveries_sweep(*, now=None) -> int:
    """Queue the pending deliveries whose next attempt is due (a message lost with a worker, a
    broker restart): the claim keeps an attempt from running twice."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )  # fmt: skip
    stale = now - timedelta(minutes=5)
    ids += list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__isnull=True, created_at__lte=stale
        ).values_list("pk", flat=True)[:1000]
    )
    _enqueue(ids)
    return len(ids)


def delivery_redeliver(*, delivery: WebhookDelivery, by: Any) -> WebhookDelivery:
    """Send the same event (same event id) to the same subscription again, as a new delivery
    in the log."""
    if not can_manage(by):
        raise PermissionDenied(_("Only an administrator or an integration user manages webhooks."))
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            event_id=delivery.event_id, subscription_id=delivery.subscription_id
        )
        transaction.on_commit(lambda: _enqueue([again.pk]))
    return again


def subscription_ping(*, subscription: WebhookSubscription, by: Any) -> WebhookDelivery:
    """A `ping` event to this subscription only, to test the receiver and its signature check."""
    if not can_manage(by):
        raise PermissionDenied(_("Only an administrator or an integration user manages webhooks."))
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            type=EventType.PING, payload={"subscription": subscription.pk}
        )
        delivery = WebhookDelivery.objects.create(event=event, subscription=subscription)
        transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery
