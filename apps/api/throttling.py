"""Rate limit per token (API.md "Limits"), answered 429 with `Retry-After`.

Counters live in the Redis cache (Django's default cache), so every web node shares them.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """One budget per bearer token; per user for a browser session; per client IP otherwise.

    The rate is REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]. It is read on each request
    (DRF's own throttles freeze it at import), so a changed setting takes effect at once.
    """

    scope = "token"

    def get_rate(self) -> str | None:
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(
                f"No throttle rate set for scope {self.scope!r} in DEFAULT_THROTTLE_RATES."
            ) from exc

    def get_cache_key(self, request: Request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
