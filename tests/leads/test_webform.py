"""The public web form (issue 4 "Leads": rate-limited, honeypot, no login)."""

from __future__ import annotations

import pytest

from apps.leads.choices import LeadSource, LeadStatus
from apps.leads.models import Lead, LeadTouch

URL = "/leads/form/"


def submit(client, *, ip: str = "203.0.113.7", query: str = "", **data):
    data = {"company_name": "上海星辰科技有限公司", "contact_name": "王磊",
            "phone": "13800138000", "email": "", "region": "上海", "message": "想了解报价",
            "website": "", **data}  # fmt: skip
    return client.post(URL + query, data, REMOTE_ADDR=ip)


def test_form_page_is_public(client, db):
    # when an anonymous visitor opens the form
    response = client.get(URL)
    # then it is shown, with the honeypot field
    assert response.status_code == 200
    assert 'name="website"' in response.content.decode()


def test_submission_creates_an_assigned_web_lead_with_its_channel(client, territories, org):
    # when
    response = submit(client, query="?utm_source=baidu")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/leads/form/thanks/"
    lead = Lead.objects.get()
    assert (lead.company_name, lead.source, lead.channel) == (
        "上海星辰科技有限公司",
        LeadSource.WEB_FORM,
        "baidu",
    )
    assert lead.notes == "想了解报价"
    assert (lead.status, lead.team) == (LeadStatus.ASSIGNED, org.team1)


def test_channel_parameter_wins_over_utm_source(client, territories):
    submit(client, query="?channel=expo2026&utm_source=baidu")
    assert Lead.objects.get().channel == "expo2026"


def test_bot_filling_the_honeypot_is_thanked_and_nothing_is_created(client, territories):
    # when
    response = submit(client, website="http://spam.example")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/leads/form/thanks/"
    assert Lead.objects.count() == 0
    assert LeadTouch.objects.count() == 0


def test_over_the_rate_limit_is_429_and_creates_nothing(client, territories, settings):
    # given a limit of 2 submissions per IP
    settings.LEAD_WEBFORM_RATE = "2/10m"
    submit(client, company_name="甲公司", phone="13800138001")
    submit(client, company_name="乙公司", phone="13800138002")
    # when the same IP sends a third
    response = submit(client, company_name="丙公司", phone="13800138003")
    # then
    assert response.status_code == 429
    assert set(Lead.objects.values_list("company_name", flat=True)) == {"甲公司", "乙公司"}


def test_rate_limit_is_per_ip(client, territories, settings):
    settings.LEAD_WEBFORM_RATE = "1/10m"
    submit(client, company_name="甲公司", phone="13800138001", ip="203.0.113.1")
    # when another visitor submits
    response = submit(client, company_name="乙公司", phone="13800138002", ip="203.0.113.2")
    # then
    assert response.status_code == 302
    assert Lead.objects.count() == 2


def test_duplicate_adds_a_touch_and_looks_the_same_to_the_visitor(client, territories):
    # given the company already sent the form
    first = submit(client)
    lead = Lead.objects.get()
    # when it sends it again, written differently
    second = submit(client, company_name="上海星辰科技股份有限公司", phone="+86 138 0013 8000")
    # then one lead with a touch, and the same thanks page
    assert second.status_code == first.status_code == 302
    assert second["Location"] == first["Location"]
    assert Lead.objects.count() == 1
    touch = LeadTouch.objects.get()
    assert (touch.lead_id, touch.source) == (lead.pk, LeadSource.WEB_FORM)


def test_invalid_phone_is_shown_on_the_phone_field(client, territories):
    # when
    response = submit(client, phone="12")
    # then
    assert response.status_code == 400
    assert response.context["form"].errors["phone"]
    assert 'id="field-phone"' in response.content.decode()
    assert Lead.objects.count() == 0


def test_without_phone_or_email_the_form_asks_for_one(client, territories):
    response = submit(client, phone="", email="")
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert Lead.objects.count() == 0


def test_thanks_page_is_public(client, db):
    assert client.get("/leads/form/thanks/").status_code == 200


@pytest.mark.parametrize(("text", "expected"), [("5/10m", (5, 600)), ("20/h", (20, 3600))])
def test_rate_setting_is_parsed(text, expected):
    from apps.leads.webform import parse_rate

    rate = parse_rate(text)
    assert (rate.count, rate.seconds) == expected
