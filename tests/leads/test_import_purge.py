"""Abandoned import uploads (`PendingImport` rows) are deleted once older than the TTL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.leads import tasks
from apps.leads.importing import import_purge_stale
from apps.leads.models import PendingImport


@pytest.fixture
def upload(org):
    """An upload as the wizard stores it, `hours_old` old."""

    def make(*, hours_old: float) -> PendingImport:
        return PendingImport.objects.create(
            user=org.sup1,
            name="leads.csv",
            suffix=".csv",
            content=b"company\n",
            size=8,
            created_at=timezone.now() - timedelta(hours=hours_old),
        )

    return make


def pending() -> set:
    return set(PendingImport.objects.values_list("pk", flat=True))


def test_uploads_older_than_the_ttl_are_removed(upload):
    # given an upload 25 hours old and the default TTL (24 hours)
    upload(hours_old=25)
    # when
    removed = import_purge_stale()
    # then
    assert removed == 1
    assert pending() == set()


def test_uploads_newer_than_the_ttl_are_kept(upload):
    recent = upload(hours_old=23)
    assert import_purge_stale() == 0
    assert pending() == {recent.pk}


def test_ttl_comes_from_the_setting(upload, settings):
    # given a TTL of 2 hours
    settings.LEAD_IMPORT_UPLOAD_TTL_HOURS = 2
    upload(hours_old=3)
    recent = upload(hours_old=1)
    # when
    assert import_purge_stale() == 1
    # then
    assert pending() == {recent.pk}


def test_purge_is_idempotent(upload):
    upload(hours_old=48)
    kept = upload(hours_old=1)
    assert (import_purge_stale(), import_purge_stale()) == (1, 0)
    assert pending() == {kept.pk}


def test_purge_is_one_delete_that_never_reads_the_contents(upload, django_assert_num_queries):
    # given many stale uploads (the contents may be megabytes each)
    for _ in range(5):
        upload(hours_old=30)
    # when / then one set-based DELETE, no SELECT of the rows first
    with django_assert_num_queries(1) as captured:
        assert import_purge_stale() == 5
    assert captured.captured_queries[0]["sql"].startswith("DELETE")


def test_purge_without_uploads_does_nothing(db):
    assert import_purge_stale() == 0


def test_task_purges_the_stale_uploads(upload):
    upload(hours_old=30)
    assert tasks.purge_import_uploads() == 1
    assert pending() == set()


def test_purge_is_scheduled_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["leads-purge-import-uploads"]
    assert (entry["task"], entry["schedule"]) == ("apps.leads.tasks.purge_import_uploads", 3600.0)
