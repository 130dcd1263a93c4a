"""The public web form (官网留资表单): a visitor leaves their company and a way to reach them,
without an account.

Abuse is kept out by a honeypot field (a bot that fills it is thanked and nothing is created)
and by a rate limit per client IP counted in the shared Redis cache (settings
LEAD_WEBFORM_RATE, e.g. "5/10m"). The capture itself is `services.lead_capture`, the one path
of every channel, so dedupe, scoring and assignment are the same as for the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .choices import LeadSource
from .models import Territory
from .services import CaptureResult, lead_capture

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    """At most `count` submissions per `seconds` (a fixed window)."""

    count: int
    seconds: int


def parse_rate(text: str) -> Rate:
    """ "5/10m" → 5 per 600 s; "20/h" → 20 per 3600 s."""
    match = _RATE.match(text or "")
    if not match:
        raise ValueError(f"Not a rate (like '5/10m'): {text!r}")
    count, amount, unit = match.groups()
    return Rate(count=int(count), seconds=int(amount or 1) * _UNIT_SECONDS[unit])


def client_ip(request: HttpRequest) -> str:
    """The visitor's address from settings.LEAD_WEBFORM_IP_HEADER: REMOTE_ADDR by default;
    behind a reverse proxy the header it sets (e.g. HTTP_X_REAL_IP). X-Forwarded-For is not
    read by default because a client can write anything into it."""
    value = request.META.get(settings.LEAD_WEBFORM_IP_HEADER) or request.META.get("REMOTE_ADDR", "")
    return value.split(",")[0].strip()[:64]


def rate_limit_exceeded(ip: str) -> bool:
    """Count one submission of `ip` and say whether it is over the limit.

    `add` (SET NX EX) starts the window with its expiry and `incr` (INCR) counts atomically,
    so concurrent submissions are all counted and the key always expires with its window."""
    rate = parse_rate(settings.LEAD_WEBFORM_RATE)
    key = f"leads:webform:{ip}"
    cache.add(key, 0, timeout=rate.seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.add(key, 1, timeout=rate.seconds)
        count = 1
    return count > rate.count


def channel_of(request: HttpRequest) -> str:
    """The campaign the visitor came from: ?channel=, else the utm_source of the link."""
    return (request.GET.get("channel") or request.GET.get("utm_source") or "").strip()[:100]


def webform_capture(*, data: dict[str, str], channel: str) -> CaptureResult:
    """Capture a web form submission (source "web_form"). Raises ValidationError with the
    lead's field names, like every capture."""
    return lead_capture(data=data, source=LeadSource.WEB_FORM, channel=channel)


def territory_regions() -> list[str]:
    """The regions offered as suggestions on the form (those that have a territory)."""
    return list(Territory.objects.filter(is_active=True).values_list("region", flat=True))
