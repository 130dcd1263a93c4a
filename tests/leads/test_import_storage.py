"""Where an upload waits between the preview and the confirmation (issue 10 "Scaling out": web
nodes are stateless): in the database (`PendingImport`), never on a web machine's disk, so
that the preview, the confirmation and the purge job may each run on a different machine."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test import Client
from django.utils import timezone

from apps.leads import importing
from apps.leads.models import Lead, LeadTouch, PendingImport

HEADER = "公司名称,联系人,电话,地区"


def csv_file(*lines: str, name: str = "leads.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "\n".join([HEADER, *lines]).encode("utf-8-sig"))


def upload(client: Client, file: SimpleUploadedFile) -> str:
    response = client.post("/leads/import/", {"file": file, "channel": "展会"})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


def token_of(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture
def sup(client, org):
    client.force_login(org.sup1)
    return org.sup1


def test_preview_and_confirmation_on_different_machines_import_the_file(
    client, sup, territories, settings, tmp_path
):
    # given a file uploaded on machine A (its own MEDIA_ROOT)
    settings.MEDIA_ROOT = tmp_path / "machine-a"
    file = csv_file("甲公司,张三,13800138001,上海", "乙公司,李四,13800138002,北京")
    location = upload(client, file)
    # when machine B, whose disk has never seen the file, shows the preview and confirms it
    settings.MEDIA_ROOT = tmp_path / "machine-b"
    (tmp_path / "machine-b").mkdir()
    machine_b = Client()
    machine_b.force_login(sup)
    preview = machine_b.get(location)
    confirm = machine_b.post(location)
    # then the preview counted the rows and the import created the leads
    assert preview.status_code == 200
    assert preview.context["plan"].new_count == 2
    assert confirm.status_code == 302
    assert set(Lead.objects.values_list("company_name", flat=True)) == {"甲公司", "乙公司"}
    # and neither machine wrote the upload to its disk
    assert not (tmp_path / "machine-a").exists()
    assert list((tmp_path / "machine-b").iterdir()) == []


def test_another_users_upload_is_404_and_stays_pending(client, sup, org, territories):
    # given a supervisor's upload
    location = upload(client, csv_file("甲公司,张三,13800138001,上海"))
    # when a manager, who may import too, opens or confirms it
    other = Client()
    other.force_login(org.manager1)
    # then it does not exist for them, and it is neither imported nor discarded
    assert other.get(location).status_code == 404
    assert other.post(location).status_code == 404
    assert Lead.objects.count() == 0
    assert client.get(location).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "A" * 32, str(uuid.UUID(int=1)), "0" * 31, "0" * 33],
)
def test_malformed_token_is_404(client, sup, token):
    assert client.get(f"/leads/import/{token}/").status_code == 404


def test_unknown_token_is_404(client, sup):
    assert client.get(f"/leads/import/{uuid.uuid4().hex}/").status_code == 404


def test_confirmed_upload_is_gone_and_a_second_confirmation_is_404(client, sup, territories):
    # given
    location = upload(client, csv_file("甲公司,张三,13800138001,上海"))
    # when the import is confirmed, then confirmed again (a second tab, the back button)
    first = client.post(location)
    second = client.post(location)
    # then the file was imported once and no longer waits
    assert (first.status_code, second.status_code) == (302, 404)
    assert (Lead.objects.count(), LeadTouch.objects.count()) == (1, 0)
    assert not PendingImport.objects.exists()


def test_failed_import_keeps_the_upload_for_another_look(client, sup, territories):
    # given a file with an invalid phone
    location = upload(client, csv_file("甲公司,张三,12,上海"))
    # when the import is confirmed anyway
    response = client.post(location)
    # then nothing is imported and the upload still previews
    assert response.status_code == 400
    assert Lead.objects.count() == 0
    assert client.get(location).status_code == 200


def test_file_over_the_size_limit_is_refused_with_a_form_error(client, sup, settings):
    # given a limit of 1 MB
    settings.LEAD_IMPORT_MAX_BYTES = 1024 * 1024
    big = csv_file("甲公司,张三,13800138001,上海" + " " * (1024 * 1024))
    # when
    response = client.post("/leads/import/", {"file": big})
    # then the upload form says so on its file field, and nothing is kept
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()["file"]] == ["file_size"]
    assert not PendingImport.objects.exists()


def test_store_refuses_a_file_over_the_size_limit_outside_the_form(org, settings):
    # given a caller that skips the upload form (a shell, a future API)
    settings.LEAD_IMPORT_MAX_BYTES = 1024 * 1024
    big = csv_file("x" * (1024 * 1024 + 1))
    # when / then
    with pytest.raises(ValidationError) as refused:
        importing.import_store(upload=big, by=org.sup1)
    assert [e.code for e in refused.value.error_dict["file"]] == ["file_size"]
    assert not PendingImport.objects.exists()


def test_purge_removes_only_the_stale_uploads(client, sup):
    # given an upload abandoned 25 hours ago and one made now (default TTL: 24 hours)
    stale = upload(client, csv_file("甲公司,张三,13800138001,上海"))
    fresh = upload(client, csv_file("乙公司,李四,13800138002,北京"))
    PendingImport.objects.filter(pk=uuid.UUID(hex=token_of(stale))).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    # when the purge runs (on a worker machine)
    removed = importing.import_purge_stale()
    # then only the stale one is gone
    assert removed == 1
    assert client.get(stale).status_code == 404
    assert client.get(fresh).status_code == 200
    assert importing.import_purge_stale() == 0


def run_at_once(*actions) -> list[object]:
    """Run the actions in threads that start together; return each one's result or error."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int, action) -> None:
        try:
            barrier.wait()
            results[i] = action()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_confirmations_import_the_file_once(org, territories):
    # given an upload previewed in two tabs (each holds the pending upload it read)
    stored = importing.import_store(
        upload=csv_file("甲公司,张三,13800138001,上海", "乙公司,李四,13800138002,北京"),
        by=org.sup1,
    )
    tabs = [importing.import_get(token=stored.token, by=org.sup1) for _ in range(2)]
    # when both confirm at once
    results = run_at_once(
        *(lambda tab=tab: importing.lead_import(stored=tab, by=org.sup1) for tab in tabs)
    )
    # then one imports the file, the other finds it already gone
    imported = [r for r in results if isinstance(r, importing.ImportResult)]
    refused = [r for r in results if not isinstance(r, importing.ImportResult)]
    assert [type(r) for r in refused] == [Http404], results
    assert imported[0].created == 2
    assert (Lead.objects.count(), LeadTouch.objects.count()) == (2, 0)
    assert not PendingImport.objects.exists()
