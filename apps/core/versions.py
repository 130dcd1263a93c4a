"""A record's version for optimistic concurrency (API.md "ERP integration"): its `updated_at`
in microseconds since the epoch. Every write moves it (`auto_now`, and the jobs set it in their
set-based updates), so no column of its own is needed."""

from __future__ import annotations

from django.db import models


def version_of(instance: models.Model) -> int:
    return int(instance.updated_at.timestamp() * 1_000_000)


class StaleVersion(Exception):
    """The writer read an older version of `instance` than the one stored now."""

    def __init__(self, instance: models.Model) -> None:
        super().__init__(f"{type(instance).__name__} {instance.pk} changed since it was read")
        self.instance = instance


def check_version(instance: models.Model, expected: int | None) -> None:
    """Raise StaleVersion unless `expected` (None: the writer did not say) is the stored one."""
    if expected is not None and expected != version_of(instance):
        raise StaleVersion(instance)
