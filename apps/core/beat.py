"""Exactly one Celery beat sends the schedule (issue 10, "Scaling out").

Two beats would send every job twice. Operators are told to run one (README "Running on
several machines"), and this scheduler makes a second one harmless: each tick first takes or
renews a lock in Redis (`SET NX PX`, renewed only by its holder, atomically in a Lua script).
A beat without the lock sends nothing and waits; when the holder stops it releases the lock,
and when it dies the lock expires after `BEAT_LOCK_TIMEOUT` seconds, and a waiting beat takes
over at its next tick.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# Take the lock if it is free, or renew it if it is ours: 1 when we hold it afterwards.
_ACQUIRE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
end
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""
# Delete the lock only if it is ours.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class BeatLock:
    """The lock one beat holds; `holder` names it (host and process) for the logs."""

    def __init__(self, url: str, key: str, timeout: float) -> None:
        self.client = redis.Redis.from_url(url)
        self.key = key
        self.timeout_ms = int(timeout * 1000)
        self.token = uuid.uuid4().hex
        self._acquire = self.client.register_script(_ACQUIRE)
        self._release = self.client.register_script(_RELEASE)

    def acquire(self) -> bool:
        return bool(self._acquire(keys=[self.key], args=[self.token, self.timeout_ms]))

    def release(self) -> bool:
        return bool(self._release(keys=[self.key], args=[self.token]))


def beat_lock_key() -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "salesctl")
    return getattr(settings, "BEAT_LOCK_KEY", "") or f"{prefix}:beat-lock"


class LockedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler, sending only while it holds the beat lock."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        timeout = float(getattr(settings, "BEAT_LOCK_TIMEOUT", 60))
        self.lock = BeatLock(
            kwargs.pop("lock_url", None) or settings.CELERY_BROKER_URL,
            kwargs.pop("lock_key", None) or beat_lock_key(),
            timeout,
        )
        self.holding = False
        # Renew well before the lock would expire.
        self.renew_every = max(timeout / 3, 0.1)
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if not self.lock.acquire():
            if self.holding:
                logger.warning("beat: lost the lock %s; sending nothing", self.lock.key)
            self.holding = False
            return self.renew_every
        if not self.holding:
            logger.info("beat: holding the lock %s; sending the schedule", self.lock.key)
            self.holding = True
        return min(super().tick(*args, **kwargs), self.renew_every)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.holding:
                self.lock.release()
                self.holding = False
