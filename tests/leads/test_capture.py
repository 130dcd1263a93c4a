"""Capture with dedupe against leads and customers (seed 003; issue 4 "Dedupe")."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.customers.models import Contact, Customer
from apps.leads.choices import LeadSource, LeadStatus
from apps.leads.models import Lead, LeadTouch
from apps.notifications.models import Notification

from .conftest import valid_uscc


def test_lead_keeps_normalized_identity_keys(capture, territories):
    # given / when
    result = capture(company_name="上海ＡＢＣ科技有限公司", phone="138-0013-8000",
                     email=" Li.Lei@Example.COM ", region="上海")  # fmt: skip
    # then
    lead = Lead.objects.get(pk=result.lead.pk)
    assert result.created
    assert (lead.name_key, lead.phone_key, lead.email_key) == (
        "上海abc科技",
        "+8613800138000",
        "li.lei@example.com",
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("上海ＡＢＣ科技有限公司", "上海ABC科技有限公司"),  # full-width vs half-width
        ("上海ABC科技有限公司", "上海ABC科技股份有限公司"),  # suffix variants
        ("Acme Trading Co., Ltd.", "ACME TRADING"),
    ],
)
def test_company_name_variants_are_one_lead(capture, territories, first, second):
    # given
    original = capture(company_name=first, region="上海").lead
    # when
    result = capture(company_name=second, region="北京")
    # then
    assert not result.created
    assert result.duplicate_of.pk == original.pk
    assert Lead.objects.count() == 1
    assert LeadTouch.objects.get().lead_id == original.pk


def test_phone_with_country_code_is_the_local_number(capture, territories):
    # given
    original = capture(company_name="甲公司", phone="13800138000", region="上海").lead
    # when
    result = capture(company_name="乙公司", phone="+86 138 0013 8000")
    # then
    assert result.duplicate_of == original
    assert Lead.objects.count() == 1


def test_email_differing_in_case_is_a_duplicate(capture, territories):
    # given
    original = capture(company_name="甲公司", email="Buyer@Example.com").lead
    # when
    result = capture(company_name="乙公司", email="buyer@EXAMPLE.COM")
    # then
    assert result.duplicate_of == original


def test_same_credit_code_is_a_duplicate(capture, territories):
    # given
    original = capture(company_name="甲公司", credit_code=valid_uscc()).lead
    # when
    result = capture(company_name="完全不同的名字", credit_code=valid_uscc().lower())
    # then
    assert result.duplicate_of == original


def test_wrong_credit_code_is_a_field_error_and_creates_nothing(capture, territories):
    # given a code whose check character is wrong
    wrong = valid_uscc()[:17] + "0"
    # when / then
    with pytest.raises(ValidationError) as error:
        capture(company_name="甲公司", credit_code=wrong)
    assert "credit_code" in error.value.message_dict
    assert Lead.objects.count() == 0
    assert LeadTouch.objects.count() == 0


def test_invalid_phone_is_a_field_error(capture, territories):
    # when / then
    with pytest.raises(ValidationError) as error:
        capture(company_name="甲公司", phone="12")
    assert "phone" in error.value.message_dict
    assert Lead.objects.count() == 0


def test_missing_company_name_is_a_field_error(capture):
    with pytest.raises(ValidationError) as error:
        capture(company_name="  ")
    assert "company_name" in error.value.message_dict


def test_duplicate_of_a_customer_touches_the_customer_and_notifies_its_owner(
    capture, territories, org
):
    # given an existing customer owned by rep2a
    customer = Customer.objects.create(name="深圳华为技术有限公司", owner=org.rep2a)
    # when the same company is captured again
    result = capture(company_name="深圳华为技术股份有限公司", source=LeadSource.EXHIBITION,
                     region="上海")  # fmt: skip
    # then it is a touch on the customer, no lead, and the owner is told
    assert not result.created
    assert result.duplicate_of == customer
    touch = LeadTouch.objects.get()
    assert (touch.customer_id, touch.lead_id, touch.source) == (customer.pk, None, "exhibition")
    assert touch.payload["company_name"] == "深圳华为技术股份有限公司"
    assert Lead.objects.count() == 0
    assert Notification.objects.filter(recipient=org.rep2a).count() == 1


def test_phone_of_a_customer_contact_is_a_duplicate_of_the_customer(capture, org):
    # given
    customer = Customer.objects.create(name="某客户", owner=org.rep1a)
    Contact.objects.create(customer=customer, name="王经理", phone="021-6000 1234")
    # when
    result = capture(company_name="另一个名字", phone="+86 21 60001234")
    # then
    assert result.duplicate_of == customer


def test_duplicate_of_a_lead_notifies_its_owner_once(capture, territories, org):
    # given a lead assigned to rep1a
    original = capture(company_name="甲公司", region="上海").lead
    Notification.objects.all().delete()
    # when
    capture(company_name="甲公司")
    # then
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [original.owner_id]


def test_converted_lead_is_not_matched_again(capture, territories, org):
    # given a converted lead: its customer carries the identity
    from apps.leads import services

    lead = capture(company_name="甲公司", phone="13800138000", region="上海").lead
    services.lead_contact(lead=lead, by=lead.owner)
    services.lead_qualify(lead=lead, by=lead.owner)
    lead = services.lead_convert(lead=lead, by=lead.owner)
    # when
    result = capture(company_name="甲公司")
    # then the touch goes to the customer
    assert result.duplicate_of == lead.converted_customer


def test_new_lead_is_scored_and_assigned(capture, territories, org):
    # when
    result = capture(company_name="甲公司", region="上海", intent="high", company_size="enterprise")
    # then
    lead = Lead.objects.get(pk=result.lead.pk)
    assert lead.score == 25 + 20 + 10  # default rules: intent, size, core region
    assert lead.grade == "C"
    assert lead.status == LeadStatus.ASSIGNED
    assert lead.owner == org.rep1a


def test_manual_entry_by_a_rep_stays_with_the_rep(capture, territories, org):
    # when rep2a enters a lead of another territory by hand
    result = capture(company_name="甲公司", region="上海", source=LeadSource.MANUAL, by=org.rep2a)
    # then
    lead = Lead.objects.get(pk=result.lead.pk)
    assert (lead.owner, lead.team, lead.status) == (org.rep2a, org.team2, LeadStatus.ASSIGNED)


def test_unknown_source_is_refused(db):
    from apps.leads.services import lead_capture

    with pytest.raises(ValidationError) as error:
        lead_capture(data={"company_name": "甲公司"}, source="carrier-pigeon")
    assert "source" in error.value.message_dict
