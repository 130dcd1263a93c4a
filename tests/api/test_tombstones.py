"""Tombstones: what a mirror must delete (API.md "ERP integration"; `apps.api.tombstones`).

A deleted record leaves a tombstone, written in the transaction of the delete, which the feed
`/api/v1/tombstones/` serves to whoever could see the record."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from apps.api.models import Tombstone
from apps.approvals.delegations import delegation_create, delegation_delete
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_approve
from apps.contracts.services import amendment_create, amendment_submit, contract_sign
from apps.customers.models import Contact
from apps.goals.choices import Metric
from apps.goals.models import Target
from apps.goals.plans import PlanLine, plan_create, plan_update
from apps.receivables.models import Installment
from apps.webhooks.services import subscription_create, subscription_delete
from tests.contracts.conftest import approved, customer, line, policies, product  # noqa: F401

from .conftest import assert_problem

FEED = "/api/v1/tombstones/"
EVERYTHING = "1970-01-01T00:00:00Z"


def _feed(client, **params) -> list[tuple[str, int]]:
    """(resource, object_id) of every tombstone the client may see, following `next`."""
    rows, url, query = [], FEED, params
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
        page = response.json()
        rows += [(t["resource"], t["object_id"]) for t in page["results"]]
        url, query = page["next"], None
    return rows


def _team1_plan(org):
    """A draft sales plan of team 1: the unit's contract target and both reps' under it."""
    return plan_create(
        by=org.sup1, org_unit=org.team1, period_kind="quarter", day=date(2031, 5, 10),
        data={"problems": "Too few new customers"},
        lines=[PlanLine(Metric.CONTRACT_AMOUNT, Decimal("100000")),
               PlanLine(Metric.CONTRACT_AMOUNT, Decimal("60000"), org.rep1a.pk),
               PlanLine(Metric.CONTRACT_AMOUNT, Decimal("40000"), org.rep1b.pk)],
    )  # fmt: skip


@pytest.fixture
def replaced_targets(org) -> dict[str, int]:
    """Team 1's draft targets, replaced by a revision of the plan: {unit, rep1a, rep1b: id}."""
    plan = _team1_plan(org)
    drafts = {(t.user_id or "unit"): t.pk for t in plan.targets.all()}
    plan_update(plan=plan, by=org.sup1, lines=[PlanLine(Metric.VISITS, Decimal("80"))])
    return {"unit": drafts["unit"], "rep1a": drafts[org.rep1a.pk], "rep1b": drafts[org.rep1b.pk]}


def test_a_revised_plans_deleted_drafts_are_in_the_feed(org, bearer, settings, replaced_targets):
    # given team 1's draft targets deleted by a revision of the plan (one QuerySet.delete()
    # and its cascade to the reps' targets under the unit's)
    settings.API_SYNC_SETTLE_SECONDS = 0
    assert not Target.objects.filter(pk__in=replaced_targets.values()).exists()
    # when the supervisor syncs the targets' tombstones
    rows = _feed(bearer(org.sup1), resource="targets", updated_since=EVERYTHING)
    # then each deleted target is there, once
    assert sorted(rows) == sorted(("targets", pk) for pk in replaced_targets.values())


def test_scope_a_rep_sees_their_own_and_their_units_not_a_colleagues(org, bearer, replaced_targets):
    # given team 1's replaced drafts: the unit's, rep1a's and rep1b's
    # when each reads the feed
    seen = {who: {pk for _r, pk in _feed(bearer(getattr(org, who)))}
            for who in ("rep1a", "rep2a", "sup1", "manager2", "erp")}  # fmt: skip
    # then rep1a sees the unit's and their own, not rep1b's; another team sees none; the
    # supervisor and the company-wide ERP see all three
    ids = replaced_targets
    assert seen["rep1a"] == {ids["unit"], ids["rep1a"]}
    assert seen["rep2a"] == set() and seen["manager2"] == set()
    assert seen["sup1"] == seen["erp"] == set(ids.values())


def test_a_rolled_back_delete_leaves_no_tombstone(org, bearer):
    # given a delegation
    delegation = delegation_create(
        user=org.manager1, delegate=org.sup1, starts_on=date(2031, 1, 1), ends_on=date(2031, 1, 9)
    )
    # when its deletion is rolled back
    with pytest.raises(RuntimeError), transaction.atomic():
        delegation_delete(delegation=delegation, by=org.manager1)
        raise RuntimeError("the rest of the work failed")
    # then no tombstone exists, and the feed is empty
    assert not Tombstone.objects.exists()
    assert _feed(bearer(org.manager1)) == []


def test_the_feed_filters_by_resource(org, bearer):
    # given a cancelled delegation and a deleted webhook subscription
    delegation = delegation_create(
        user=org.admin, delegate=org.manager1, starts_on=date(2031, 1, 1), ends_on=date(2031, 1, 9)
    )
    delegation_delete(delegation=delegation, by=org.admin)
    subscription = subscription_create(
        by=org.admin, data={"name": "ERP", "url": "https://erp.example.com/hook",
                            "event_types": ["contract.signed"]},
    )  # fmt: skip
    subscription_id = subscription.pk  # the delete clears it on the instance
    subscription_delete(subscription=subscription, by=org.admin)
    client = bearer(org.admin)
    # when the admin asks for one resource, then for both
    only = _feed(client, resource="webhooks")
    both = _feed(client, resource="webhooks,delegations")
    # then each answer holds what was asked
    assert only == [("webhooks", subscription_id)]
    assert sorted(both) == sorted([("webhooks", subscription_id), ("delegations", delegation.pk)])


def test_a_delegation_and_a_webhook_are_seen_only_by_their_own_audience(org, bearer):
    # given manager1's cancelled delegation and a deleted webhook subscription
    delegation = delegation_create(
        user=org.manager1, delegate=org.sup1, starts_on=date(2031, 1, 1), ends_on=date(2031, 1, 9)
    )
    delegation_delete(delegation=delegation, by=org.manager1)
    subscription = subscription_create(
        by=org.erp, data={"name": "ERP", "url": "https://erp.example.com/hook",
                          "event_types": ["contract.signed"]},
    )  # fmt: skip
    subscription_id = subscription.pk  # the delete clears it on the instance
    subscription_delete(subscription=subscription, by=org.erp)
    # when each reads the feed
    seen = {who: _feed(bearer(getattr(org, who))) for who in ("manager1", "sup1", "erp")}
    # then the delegation is its approver's only (the delegations list shows only one's own),
    # the webhook is for those who manage webhooks only
    assert seen["manager1"] == [("delegations", delegation.pk)]
    assert seen["sup1"] == []
    assert seen["erp"] == [("webhooks", subscription_id)]


def test_an_unknown_resource_is_a_400_naming_it(org, bearer):
    # given / when the feed is asked for a resource that has no tombstones
    response = bearer(org.admin).get(FEED, {"resource": "targets,payments"})
    # then 400 on `resource`, naming the wrong one and the right ones
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "resource"
    assert "payments" in body["errors"][0]["message"]
    assert "installments" in body["errors"][0]["message"]


@pytest.mark.usefixtures("policies")
def test_installments_an_amendment_replaces_are_in_their_owners_feed(
    org,
    bearer,
    customer,  # noqa: F811
    product,  # noqa: F811
):
    # given a signed contract of rep1a with its prepayment paid
    with time_machine.travel("2026-11-20 10:00 +0800", tick=False):
        contract = contract_sign(
            contract=approved(customer, product, org), by=org.rep1a, signed_on=date(2026, 11, 20)
        )
        Installment.objects.filter(contract=contract, sequence=1).update(
            status="paid", paid_amount=Decimal("30000.00"))  # fmt: skip
        unpaid = Installment.objects.get(contract=contract, sequence=2)
        # when an amendment replacing the unpaid installment is approved
        amendment = amendment_create(
            contract=contract, by=org.rep1a, reason="more machines",
            lines=[line(product, "12")],
            terms=[{"kind": "prepayment", "due_date": "2026-12-01", "amount": "30000.00"},
                   {"kind": "on_delivery", "due_date": "2027-03-01", "amount": "90000.00"}],
        )  # fmt: skip
        amendment_submit(amendment=amendment, by=org.rep1a)
        request = ApprovalRequest.objects.get(
            object_id=amendment.pk, document_type="contracts.contractamendment"
        )
        approval_approve(request=request, by=org.sup1)
    # then the replaced installment is in the feed of its owner and of finance, not of a rep
    # of another team
    assert not Installment.objects.filter(pk=unpaid.pk).exists()
    assert _feed(bearer(org.rep1a), resource="installments") == [("installments", unpaid.pk)]
    assert _feed(bearer(org.finance), resource="installments") == [("installments", unpaid.pk)]
    assert _feed(bearer(org.rep2a), resource="installments") == []


def test_a_contact_deleted_in_the_admin_keeps_its_external_id(org, bearer, customer):  # noqa: F811
    # given a contact of rep1a's customer, known to the ERP by its external id
    contact = Contact.objects.create(customer=customer, name="王经理", external_id="ERP-C-7")
    # when it is deleted (as the admin site does)
    Contact.objects.filter(pk=contact.pk).delete()
    # then the feed tells rep1a which one, by the ERP's key too
    page = bearer(org.rep1a).get(FEED, {"resource": "contacts"}).json()
    assert [(t["object_id"], t["external_id"]) for t in page["results"]] == [
        (contact.pk, "ERP-C-7")
    ]
    assert _feed(bearer(org.rep2a), resource="contacts") == []


def test_the_feed_documents_every_resource_and_the_voids(db):
    # given / when the schema of the feed is generated
    from drf_spectacular.generators import SchemaGenerator

    from apps.api.tombstones import RESOURCES

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][FEED]["get"]
    # then its description names each resource that leaves tombstones, and says where the
    # voided records are (a status, not a tombstone)
    for name in RESOURCES:
        assert name in operation["description"], name
    assert "reversed payment" in operation["description"]
    resource = next(p for p in operation["parameters"] if p["name"] == "resource")
    for name in RESOURCES:
        assert name in resource["description"], name
