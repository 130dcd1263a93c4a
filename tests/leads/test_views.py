"""Lead pages: list (scope, search), detail (404 outside scope), transitions, manual entry."""

from __future__ import annotations

from apps.leads.models import Lead

from .conftest import valid_uscc


def test_list_shows_only_leads_in_scope_and_searches(client, org, territories, capture):
    capture(company_name="上海甲科技", region="上海")
    capture(company_name="北京乙贸易", region="北京")
    client.force_login(org.rep1a)
    html = client.get("/leads/").content.decode()
    assert "上海甲科技" in html
    assert "北京乙贸易" not in html
    client.force_login(org.admin)
    html = client.get("/leads/", {"q": "乙贸"}).content.decode()
    assert "北京乙贸易" in html
    assert "上海甲科技" not in html


def test_list_query_count_does_not_grow(
    client, org, territories, capture, django_assert_max_num_queries
):
    for _ in range(20):
        capture(region="上海")
    client.force_login(org.admin)
    with django_assert_max_num_queries(15):
        assert client.get("/leads/").status_code == 200


def test_detail_outside_scope_is_404(client, org, territories, capture):
    lead = capture(region="北京").lead
    client.force_login(org.rep1a)
    assert client.get(f"/leads/{lead.pk}/").status_code == 404
    assert client.post(f"/leads/{lead.pk}/contact/").status_code == 404


def test_transition_buttons_move_the_lead(client, org, territories, capture):
    lead = capture(region="上海", phone="13800138000").lead
    client.force_login(org.rep1a)
    assert 'data-transition="contact"' in client.get(f"/leads/{lead.pk}/").content.decode()
    for name in ("contact", "qualify", "convert"):
        assert client.post(f"/leads/{lead.pk}/{name}/").status_code == 302
    assert Lead.objects.get(pk=lead.pk).status == "converted"


def test_refused_transition_is_a_message_not_an_error(client, org, territories, capture):
    lead = capture(region="上海").lead
    client.force_login(org.rep1a)
    response = client.post(f"/leads/{lead.pk}/convert/", follow=True)
    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).status == "assigned"
    assert list(response.context["messages"])


def test_manual_entry_with_wrong_credit_code_shows_the_field_error(client, org):
    client.force_login(org.rep1a)
    response = client.post(
        "/leads/new/", {"company_name": "甲公司", "credit_code": valid_uscc()[:17] + "0"}
    )
    assert response.status_code == 200
    assert 'id="field-credit_code"' in response.content.decode()
    assert response.context["form"].errors["credit_code"]
    assert Lead.objects.count() == 0


def test_manual_entry_creates_the_reps_lead(client, org):
    client.force_login(org.rep1a)
    response = client.post("/leads/new/", {"company_name": "甲公司", "phone": "13800138000"})
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert (lead.owner, lead.source) == (org.rep1a, "manual")
