"""The import wizard (issue 4 "Leads": CSV/Excel, preview, per-row errors with row number and
field, all or nothing, 10k rows in one file)."""

from __future__ import annotations

import time
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from apps.customers.models import Customer
from apps.leads.choices import LeadSource, LeadStatus
from apps.leads.models import Lead, LeadTouch

from .conftest import valid_uscc

ZH = ["公司名称", "联系人", "电话", "邮箱", "统一社会信用代码", "地区", "行业"]
EN = ["company", "contact", "phone", "email", "credit_code", "region", "industry"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def csv_file(rows, header=ZH, name="leads.csv", encoding="utf-8-sig"):
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return SimpleUploadedFile(name, "\n".join(lines).encode(encoding), content_type="text/csv")


def xlsx_file(rows, header=EN, name="leads.xlsx"):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    buffer = BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def row(name, phone="", email="", code="", region="上海", contact="张三", industry="制造业"):
    return [name, contact, phone, email, code, region, industry]


def upload(client, file, channel="2026 工业展"):
    response = client.post("/leads/import/", {"file": file, "channel": channel})
    assert response.status_code == 302, response.content.decode()[:500]
    return response["Location"]


@pytest.fixture
def sup(client, org):
    client.force_login(org.sup1)
    return org.sup1


def test_preview_counts_new_duplicate_and_invalid_rows_with_row_and_field(client, sup, territories):
    # given an existing customer, and a file with: a new row, a duplicate of the customer,
    # a bad phone (row 4) and a wrong credit code (row 5)
    Customer.objects.create(name="北京老客户有限公司", owner=sup)
    file = csv_file([
        row("上海新公司有限公司", phone="13800138000"),
        row("北京老客户股份有限公司"),
        row("坏电话公司", phone="12"),
        row("坏代码公司", code=valid_uscc()[:17] + "0"),
    ])  # fmt: skip
    # when
    preview = client.get(upload(client, file))
    # then
    plan = preview.context["plan"]
    assert (plan.new_count, plan.duplicate_count, plan.invalid_count) == (1, 1, 2)
    assert [(e["row"], e["field"]) for e in preview.context["errors"]] == [
        (4, "phone"),
        (5, "credit_code"),
    ]
    html = preview.content.decode()
    assert 'data-row="4" data-field="phone"' in html
    assert 'id="import-confirm" disabled' in html
    assert Lead.objects.count() == 0


def test_file_with_one_bad_row_imports_nothing(client, sup, territories):
    # given
    location = upload(client, csv_file([row("甲公司", phone="13800138001"),
                                        row("乙公司", phone="12")]))  # fmt: skip
    # when the import is confirmed anyway
    response = client.post(location)
    # then nothing was written
    assert response.status_code == 400
    assert Lead.objects.count() == 0
    assert LeadTouch.objects.count() == 0


def test_csv_import_creates_scored_assigned_leads(client, sup, territories, org):
    # given
    location = upload(
        client,
        csv_file(
            [
                row("甲公司", phone="13800138001", region="上海"),
                row("乙公司", phone="13800138002", region="北京"),
            ]
        ),
    )
    # when
    response = client.post(location)
    # then
    assert response.status_code == 302
    leads = {lead.company_name: lead for lead in Lead.objects.all()}
    assert set(leads) == {"甲公司", "乙公司"}
    assert (leads["甲公司"].owner.org_unit, leads["乙公司"].owner) == (org.team1, org.rep2a)
    assert {lead.source for lead in leads.values()} == {LeadSource.IMPORT}
    assert leads["甲公司"].channel == "2026 工业展"
    assert all(lead.status == LeadStatus.ASSIGNED for lead in leads.values())
    assert all(lead.first_response_due_at for lead in leads.values())


def test_xlsx_with_english_headers_imports(client, sup, territories):
    # given
    location = upload(client, xlsx_file([row("Acme Trading Co., Ltd.", phone="13800138001",
                                              code=valid_uscc())]))  # fmt: skip
    # when
    client.post(location)
    # then
    lead = Lead.objects.get()
    assert (lead.company_name, lead.phone_key, lead.credit_code) == (
        "Acme Trading Co., Ltd.", "+8613800138001", valid_uscc(),
    )  # fmt: skip


def test_second_row_of_the_same_company_is_a_touch_on_the_first(client, sup, territories):
    # given two rows of one company, written differently
    file = csv_file([row("上海ＡＢＣ科技有限公司", phone="13800138001"),
                     row("上海ABC科技股份有限公司", phone="13900139000")])  # fmt: skip
    location = upload(client, file)
    assert client.get(location).context["plan"].duplicate_count == 1
    # when
    client.post(location)
    # then
    lead = Lead.objects.get()
    touch = LeadTouch.objects.get()
    assert (touch.lead_id, touch.source) == (lead.pk, LeadSource.IMPORT)
    assert touch.payload["phone"] == "13900139000"


def test_row_of_an_existing_lead_is_a_touch(client, sup, territories, capture):
    # given
    existing = capture(company_name="甲公司", phone="13800138001", region="上海").lead
    # when
    client.post(upload(client, csv_file([row("另一个名字", phone="+86 138 0013 8001")])))
    # then
    assert Lead.objects.count() == 1
    assert LeadTouch.objects.get().lead_id == existing.pk


def test_rep_cannot_import(client, org):
    client.force_login(org.rep1a)
    assert client.get("/leads/import/").status_code == 403
    assert client.get("/leads/import/template.xlsx").status_code == 403
    file = csv_file([row("甲公司")])
    assert client.post("/leads/import/", {"file": file}).status_code == 403


def test_another_users_upload_is_404(client, sup, org):
    location = upload(client, csv_file([row("甲公司")]))
    client.force_login(org.manager1)
    assert client.get(location).status_code == 404


def test_template_has_the_headers_that_the_import_reads(client, sup, territories):
    # when
    response = client.get("/leads/import/template.xlsx")
    # then
    sheet = load_workbook(BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    assert headers[:2] == ["公司名称", "联系人"]
    sheet.append(["甲公司", "张三", "13800138001"])
    buffer = BytesIO()
    sheet.parent.save(buffer)
    client.post(upload(client, SimpleUploadedFile("t.xlsx", buffer.getvalue())))
    assert Lead.objects.get().phone_key == "+8613800138001"


def test_gbk_csv_is_read(client, sup, territories):
    location = upload(client, csv_file([row("甲公司", phone="13800138001")], encoding="gb18030"))
    client.post(location)
    assert Lead.objects.get().company_name == "甲公司"


def test_a_thousand_rows_import_at_once_and_fairly(client, sup, territories, org):
    # given 1,000 rows for 上海 (team 1: rep1a and rep1b)
    rows = [row(f"测试{n:04d}贸易有限公司", phone=f"1380000{n:04d}") for n in range(1000)]
    location = upload(client, xlsx_file(rows, header=ZH))
    # when
    started = time.monotonic()
    response = client.post(location)
    elapsed = time.monotonic() - started
    # then
    assert response.status_code == 302
    assert Lead.objects.count() == 1000
    assert Lead.objects.filter(owner=org.rep1a).count() == 500
    assert Lead.objects.filter(owner=org.rep1b).count() == 500
    assert elapsed < 20


def test_lead_list_offers_the_import_to_supervisors_only(client, org):
    client.force_login(org.sup1)
    assert b"/leads/import/" in client.get("/leads/").content
    client.force_login(org.rep1a)
    assert b"/leads/import/" not in client.get("/leads/").content
