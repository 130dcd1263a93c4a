"""Status transitions as services: allowed path, each guard, wrong role/scope, wrong state."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.errors import Conflict
from apps.customers.models import Contact, Customer
from apps.leads import services
from apps.leads.choices import LeadStatus
from apps.leads.models import Lead
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity

from .conftest import valid_uscc


@pytest.fixture
def lead(capture, territories):
    """A lead of rep1a (team 1), assigned, with a phone."""
    return capture(region="上海", company_name="上海甲科技有限公司", contact_name="张三",
                   phone="13800138000", credit_code=valid_uscc()).lead  # fmt: skip


def _qualified(lead):
    lead = services.lead_contact(lead=lead, by=lead.owner)
    return services.lead_qualify(lead=lead, by=lead.owner)


def test_full_path_to_conversion_creates_customer_and_contact(lead, org):
    # when
    lead = services.lead_convert(lead=_qualified(lead), by=lead.owner)
    # then
    saved = Lead.objects.get(pk=lead.pk)
    customer = saved.converted_customer
    assert saved.status == LeadStatus.CONVERTED
    assert (customer.name, customer.owner, customer.credit_code) == (
        "上海甲科技有限公司",
        org.rep1a,
        valid_uscc(),
    )
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.phone_key, contact.is_primary) == ("张三", "+8613800138000", True)


def test_conversion_opens_an_opportunity_in_prospecting(lead, org):
    # when
    lead = services.lead_convert(lead=_qualified(lead), by=lead.owner)
    # then the pipeline starts: one opportunity for the owner, linked to lead and contact
    opportunity = Opportunity.objects.get(lead=lead)
    assert (opportunity.customer, opportunity.owner, opportunity.stage) == (
        lead.converted_customer,
        org.rep1a,
        Stage.PROSPECTING,
    )
    assert opportunity.contact.name == "张三"
    assert list(opportunity.stage_history.values_list("stage", "left_at")) == [
        (Stage.PROSPECTING, None)
    ]


def test_conversion_links_an_existing_customer_with_the_same_keys(lead, org):
    # given the company became a customer meanwhile (by its credit code)
    existing = Customer.objects.create(name="Other spelling", credit_code=valid_uscc(),
                                       owner=org.rep1a)  # fmt: skip
    # when
    lead = services.lead_convert(lead=_qualified(lead), by=lead.owner)
    # then
    assert lead.converted_customer == existing
    assert Customer.objects.count() == 1


def test_converting_twice_is_a_conflict(lead):
    lead = services.lead_convert(lead=_qualified(lead), by=lead.owner)
    with pytest.raises(Conflict) as error:
        services.lead_convert(lead=lead, by=lead.owner)
    assert error.value.code == "already_converted"


def test_convert_before_qualified_is_a_conflict(lead):
    lead = services.lead_contact(lead=lead, by=lead.owner)
    with pytest.raises(Conflict):
        services.lead_convert(lead=lead, by=lead.owner)
    assert Customer.objects.count() == 0


def test_qualify_needs_a_phone_or_email(capture, territories):
    lead = capture(region="上海").lead
    lead = services.lead_contact(lead=lead, by=lead.owner)
    with pytest.raises(Conflict) as error:
        services.lead_qualify(lead=lead, by=lead.owner)
    assert error.value.code == "no_contact_channel"


def test_qualify_needs_an_owner(capture, territories, org):
    # given a contacted lead whose owner was removed behind the services' back
    lead = services.lead_contact(lead=capture(region="上海", email="a@b.cn").lead, by=org.rep1a)
    Lead.objects.filter(pk=lead.pk).update(owner=None)
    # when / then (an admin sees every lead)
    with pytest.raises(Conflict) as error:
        services.lead_qualify(lead=lead, by=org.admin)
    assert error.value.code == "no_owner"


def test_qualify_a_new_lead_is_a_conflict(lead):
    with pytest.raises(Conflict) as error:
        services.lead_qualify(lead=lead, by=lead.owner)
    assert error.value.code == "invalid_state"


def test_contact_twice_is_a_conflict(lead):
    lead = services.lead_contact(lead=lead, by=lead.owner)
    with pytest.raises(Conflict):
        services.lead_contact(lead=lead, by=lead.owner)


def test_disqualify_keeps_the_reason(lead):
    lead = services.lead_disqualify(lead=lead, by=lead.owner, reason="No budget")
    saved = Lead.objects.get(pk=lead.pk)
    assert (saved.status, saved.disqualify_reason) == (LeadStatus.DISQUALIFIED, "No budget")


def test_disqualify_needs_a_reason(lead):
    with pytest.raises(ValidationError) as error:
        services.lead_disqualify(lead=lead, by=lead.owner, reason="")
    assert "reason" in error.value.message_dict
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.ASSIGNED


def test_disqualify_a_converted_lead_is_a_conflict(lead):
    lead = services.lead_convert(lead=_qualified(lead), by=lead.owner)
    with pytest.raises(Conflict):
        services.lead_disqualify(lead=lead, by=lead.owner, reason="x")


def test_nurture_then_contact_again(lead):
    lead = services.lead_nurture(lead=lead, by=lead.owner)
    assert lead.status == LeadStatus.NURTURING
    lead = services.lead_contact(lead=lead, by=lead.owner)
    assert lead.status == LeadStatus.CONTACTED


def test_nurture_a_new_lead_is_a_conflict(capture, territories, org):
    lead = capture(region="火星").lead
    with pytest.raises(Conflict):
        services.lead_nurture(lead=lead, by=org.admin)


@pytest.mark.parametrize("name", ["rep1b", "rep2a", "sup2", "manager2"])
def test_someone_outside_the_scope_cannot_act(lead, org, name):
    with pytest.raises(PermissionDenied):
        services.lead_contact(lead=lead, by=getattr(org, name))


@pytest.mark.parametrize("name", ["sup1", "manager1", "admin"])
def test_supervisor_manager_admin_in_scope_can_act(lead, org, name):
    assert services.lead_contact(lead=lead, by=getattr(org, name)).status == "contacted"


def test_another_rep_cannot_convert(lead, org):
    lead = _qualified(lead)
    with pytest.raises(PermissionDenied):
        services.lead_convert(lead=lead, by=org.rep1b)


def test_status_cannot_be_set_directly(lead):
    with pytest.raises(AttributeError):
        lead.status = LeadStatus.CONVERTED
