"""Test configuration shared by every test package.

Tests run against the real Postgres and Redis named by DATABASE_URL / REDIS_URL (the same
defaults as the app). A missing service fails the run: nothing here skips.
"""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the
# test itself (fixtures, assertions) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database per pytest process, so that two runs on one machine (two developers, or
    a developer and CI) never drop each other's database."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    base = db.get("TEST", {}).get("NAME") or f"test_{db['NAME']}"
    db.setdefault("TEST", {})["NAME"] = f"{base}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _isolated_cache(settings, worker_id):
    """Each xdist worker gets its own cache key prefix on the shared Redis, and starts empty.

    Only this prefix is emptied: `cache.clear()` would FLUSHDB the Redis database that is also
    the Celery broker, dropping the queued messages of a worker test running in parallel."""
    from django.core.cache import cache

    settings.CACHES = {
        **settings.CACHES,
        "default": {
            **settings.CACHES["default"],
            "KEY_PREFIX": f"salesctl-test-{worker_id}-{os.getpid()}",
        },
    }
    cache.delete_pattern("*")
    yield


@pytest.fixture
def org(db):
    from .org import build_org

    return build_org()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's chromium: Playwright cannot download its own browser here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN", "viewport": {"width": 1366, "height": 900}}
