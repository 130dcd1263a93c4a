"""Abandoned import uploads (MEDIA_ROOT/imports) are deleted once older than the TTL."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from apps.leads import tasks
from apps.leads.importing import import_purge_stale

HOUR = 3600


@pytest.fixture
def imports(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    folder = tmp_path / "imports"
    folder.mkdir()
    return folder


def upload(folder: Path, token: str, *, hours_old: float) -> list[Path]:
    """An upload as the wizard stores it (the file and its JSON sidecar), `hours_old` old."""
    paths = [folder / f"{token}.csv", folder / f"{token}.json"]
    moment = time.time() - hours_old * HOUR
    for path in paths:
        path.write_text("x")
        os.utime(path, (moment, moment))
    return paths


def test_uploads_older_than_the_ttl_are_removed(imports, settings):
    # given an upload 25 hours old and the default TTL (24 hours)
    old = upload(imports, "a" * 32, hours_old=25)
    # when
    removed = import_purge_stale()
    # then the file and its sidecar are gone
    assert removed == 1
    assert not any(path.exists() for path in old)


def test_uploads_newer_than_the_ttl_are_kept(imports):
    recent = upload(imports, "b" * 32, hours_old=23)
    assert import_purge_stale() == 0
    assert all(path.exists() for path in recent)


def test_ttl_comes_from_the_setting(imports, settings):
    # given a TTL of 2 hours
    settings.LEAD_IMPORT_UPLOAD_TTL_HOURS = 2
    old = upload(imports, "c" * 32, hours_old=3)
    recent = upload(imports, "d" * 32, hours_old=1)
    # when
    assert import_purge_stale() == 1
    # then
    assert not any(path.exists() for path in old)
    assert all(path.exists() for path in recent)


def test_purge_is_idempotent(imports):
    upload(imports, "e" * 32, hours_old=48)
    kept = upload(imports, "f" * 32, hours_old=1)
    assert (import_purge_stale(), import_purge_stale()) == (1, 0)
    assert all(path.exists() for path in kept)


def test_purge_without_an_imports_folder_does_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    assert import_purge_stale() == 0


def test_task_purges_the_stale_uploads(imports):
    old = upload(imports, "0" * 32, hours_old=30)
    assert tasks.purge_import_uploads() == 1
    assert not any(path.exists() for path in old)


def test_purge_is_scheduled_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["leads-purge-import-uploads"]
    assert (entry["task"], entry["schedule"]) == ("apps.leads.tasks.purge_import_uploads", 3600.0)
