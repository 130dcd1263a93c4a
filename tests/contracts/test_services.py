"""Contract use cases: draft (numbering, lines, terms), submission with the credit check,
the approval callbacks, signing (installments, customer active, opportunity won), the other
transitions, amendments, scope and roles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_approve, approval_reject
from apps.contracts.models import Contract, ContractAmendment
from apps.contracts.services import (
    amendment_create,
    amendment_submit,
    contract_complete,
    contract_create,
    contract_sign,
    contract_start_execution,
    contract_submit,
    contract_terminate,
    contract_update,
)
from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity
from apps.receivables.models import Installment

from .conftest import TERMS_30_70, approve_all, approved, draft, line, waiting_steps

pytestmark = pytest.mark.usefixtures("policies")
TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-11-20 10:00 +0800", tick=False):
        yield


def test_draft_takes_the_next_number_and_computes_amounts(org, customer, product):
    # when
    first = draft(customer, product)
    second = draft(customer, product, quantity="3")
    # then consecutive numbers of this year; amount Σ lines; terms 30/70; credit portion 70 %
    assert (first.number, second.number) == ("HT-2026-000001", "HT-2026-000002")
    assert first.owner == org.rep1a and first.status == "draft"
    assert first.amount == Decimal("100000.00")
    assert [t.amount for t in first.terms.all()] == [Decimal("30000.00"), Decimal("70000.00")]
    assert first.credit_portion == Decimal("70000.00")
    assert second.amount == Decimal("30000.00")


def test_draft_from_opportunity_copies_approved_quote_lines(org, customer, product):
    from apps.opportunities.quotes import quote_create
    from apps.opportunities.services import opportunity_create

    opp = opportunity_create(customer=customer, owner=org.rep1a, by=org.rep1a, name="机床项目",
                             amount=Decimal("50000"), expected_close_date=None)  # fmt: skip
    quote = quote_create(opportunity=opp, by=org.rep1a, lines=[line(product, "5")])
    from apps.opportunities.models import Quote

    Quote.objects.filter(pk=quote.pk).update(status="approved")
    contract = contract_create(by=org.rep1a, opportunity=opp)
    assert contract.title == "机床项目" and contract.customer == customer
    assert contract.amount == Decimal("50000.00") and contract.lines.count() == 1


def test_rep_cannot_draft_for_another_teams_customer(org, customer, product):
    with pytest.raises(PermissionDenied):
        draft(customer, product, by=org.rep2a)


def test_update_replaces_lines_and_refollows_percentages(org, customer, product):
    contract = draft(customer, product)
    contract = contract_update(contract=contract, by=org.rep1a, lines=[line(product, "20")])
    assert contract.amount == Decimal("200000.00")
    assert [t.amount for t in contract.terms.all()] == [Decimal("60000.00"), Decimal("140000.00")]


def test_bad_line_names_line_and_field(org, customer, product):
    contract = draft(customer, product)
    with pytest.raises(ValidationError) as exc:
        contract_update(contract=contract, by=org.rep1a, lines=[line(product, "-1")])
    assert list(exc.value.message_dict) == ["lines[0].quantity"]


def test_submit_without_terms_names_it(org, customer, product):
    contract = draft(customer, product, terms=[])
    with pytest.raises(ValidationError) as exc:
        contract_submit(contract=contract, by=org.rep1a)
    assert "__all__" in exc.value.message_dict
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def test_submit_within_credit_goes_to_supervisor_only(org, customer, product):
    contract = draft(customer, product)
    contract = contract_submit(contract=contract, by=org.rep1a)
    assert contract.status == "pending" and not contract.needs_credit_override
    assert waiting_steps(contract) == ["销售主管审核"]


def test_submit_over_credit_raises_the_override_flag(org, customer, product):
    # given a limit of 50,000 and a credit portion of 70,000
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("50000.00"))
    contract = draft(customer, product)
    # when
    contract = contract_submit(contract=contract, by=org.rep1a)
    # then the override steps (manager, finance) join the chain after the supervisor
    assert contract.needs_credit_override
    request = ApprovalRequest.objects.get(object_id=contract.pk, document_type="contracts.contract")
    assert request.flags == ["credit_override"]
    approve_all(contract, org.sup1)
    assert waiting_steps(contract)[-1] == "信用超额审批（销售经理）"
    contract = approve_all(contract, org.manager1, org.finance)
    assert contract.status == "approved"


def test_pending_contracts_reserve_credit(org, customer, product):
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("100000.00"))
    first = contract_submit(contract=draft(customer, product), by=org.rep1a)
    second = contract_submit(contract=draft(customer, product), by=org.rep1a)
    assert not first.needs_credit_override and second.needs_credit_override


def test_submit_on_credit_hold_is_refused(org, customer, product):
    Customer.objects.filter(pk=customer.pk).update(on_credit_hold=True, credit_hold_reason="逾期")
    contract = draft(customer, product)
    with pytest.raises(Conflict) as exc:
        contract_submit(contract=contract, by=org.rep1a)
    assert exc.value.code == "credit_hold"
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def test_return_brings_it_back_to_draft_with_the_comment(org, customer, product):
    contract = contract_submit(contract=draft(customer, product), by=org.rep1a)
    request = ApprovalRequest.objects.get(object_id=contract.pk, document_type="contracts.contract")
    approval_reject(request=request, by=org.sup1, comment="价格太低")
    contract = Contract.objects.get(pk=contract.pk)
    assert contract.status == "draft" and contract.return_comment == "价格太低"


def test_pending_contract_cannot_be_edited(org, customer, product):
    contract = contract_submit(contract=draft(customer, product), by=org.rep1a)
    with pytest.raises(Conflict):
        contract_update(contract=contract, by=org.rep1a, data={"title": "x"})


def test_approved_contract_records_approval_time(org, customer, product):
    contract = approved(customer, product, org)
    assert contract.status == "approved" and contract.approved_at is not None


def test_signing_creates_installments_activates_customer_and_wins_deal(org, customer, product):
    from apps.opportunities.services import opportunity_create

    # given a prospect customer, a deal in negotiation, an approved contract from it
    opp = opportunity_create(customer=customer, owner=org.rep1a, by=org.rep1a, name="机床项目",
                             amount=Decimal("100000"), expected_close_date=None)  # fmt: skip
    Opportunity.objects.filter(pk=opp.pk).update(stage=Stage.NEGOTIATION)
    terms = [{"kind": "prepayment", "due_date": "2026-11-20", "percentage": "30"},
             {"kind": "on_delivery", "due_date": "2027-03-01", "percentage": "70"}]  # fmt: skip
    contract = contract_create(by=org.rep1a, opportunity=opp, lines=[line(product)], terms=terms)
    contract_submit(contract=contract, by=org.rep1a)
    contract = approve_all(contract, org.sup1)
    # when
    contract = contract_sign(contract=contract, by=org.rep1a, signed_on="2026-11-19")
    # then
    assert contract.status == "signed" and contract.signed_on == date(2026, 11, 19)
    rows = list(Installment.objects.filter(contract=contract).order_by("sequence").values_list(
        "sequence", "kind", "due_date", "amount", "status", "customer_id", "owner_id"))  # fmt: skip
    assert rows == [
        (1, "prepayment", date(2026, 11, 20), Decimal("30000.00"), "due", customer.pk,
         org.rep1a.pk),
        (2, "on_delivery", date(2027, 3, 1), Decimal("70000.00"), "scheduled", customer.pk,
         org.rep1a.pk),
    ]  # fmt: skip
    assert Customer.objects.get(pk=customer.pk).status == "active"
    assert Opportunity.objects.get(pk=opp.pk).stage == Stage.WON


def test_signing_applies_the_customers_credit_balance_to_the_new_installments(
    org, customer, product
):
    from apps.receivables.models import Payment

    # given 40,000.00 received before the contract and not allocated (预收款)
    Payment.objects.create(customer=customer, owner=org.rep1a, amount=Decimal("40000.00"),
                           received_on=date(2026, 11, 1), bank_reference="PRE-1")  # fmt: skip
    contract = approved(customer, product, org)  # 100,000.00: 30% prepayment, 70% on delivery
    # when
    contract_sign(contract=contract, by=org.rep1a, signed_on=TODAY)
    # then the prepayment is paid and the other 10,000.00 goes to the next installment
    rows = list(Installment.objects.filter(contract=contract).order_by("sequence")
                .values_list("paid_amount", "status"))  # fmt: skip
    assert rows == [(Decimal("30000.00"), "paid"), (Decimal("10000.00"), "partially_paid")]
    assert Payment.objects.get(bank_reference="PRE-1").allocated_amount == Decimal("40000.00")


def test_sign_needs_a_date(org, customer, product):
    contract = approved(customer, product, org)
    with pytest.raises(ValidationError) as exc:
        contract_sign(contract=contract, by=org.rep1a, signed_on=None)
    assert list(exc.value.message_dict) == ["signed_on"]


def test_sign_wrong_state_is_409(org, customer, product):
    with pytest.raises(Conflict):
        contract_sign(contract=draft(customer, product), by=org.rep1a, signed_on=TODAY)


def test_sign_by_peer_rep_is_forbidden_and_by_supervisor_allowed(org, customer, product):
    contract = approved(customer, product, org)
    with pytest.raises(PermissionDenied):
        contract_sign(contract=contract, by=org.rep1b, signed_on=TODAY)
    assert contract_sign(contract=contract, by=org.sup1, signed_on=TODAY).status == "signed"


def test_sign_on_credit_hold_is_refused(org, customer, product):
    contract = approved(customer, product, org)
    Customer.objects.filter(pk=customer.pk).update(on_credit_hold=True)
    with pytest.raises(Conflict):
        contract_sign(contract=contract, by=org.rep1a, signed_on=TODAY)
    assert not Installment.objects.filter(contract=contract).exists()


def test_sign_over_credit_without_override_is_refused(org, customer, product):
    contract = approved(customer, product, org)
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("60000.00"))
    with pytest.raises(Conflict) as exc:
        contract_sign(contract=contract, by=org.rep1a, signed_on=TODAY)
    assert exc.value.code == "over_credit"


def test_sign_over_credit_with_approved_override_passes(org, customer, product):
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("50000.00"))
    contract = contract_submit(contract=draft(customer, product), by=org.rep1a)
    contract = approve_all(contract, org.sup1, org.manager1, org.finance)
    assert contract_sign(contract=contract, by=org.rep1a, signed_on=TODAY).status == "signed"


def test_execution_complete_needs_every_installment_paid(org, customer, product):
    contract = approved(customer, product, org)
    contract = contract_sign(contract=contract, by=org.rep1a, signed_on=TODAY)
    contract = contract_start_execution(contract=contract, by=org.rep1a)
    assert contract.status == "executing"
    with pytest.raises(Conflict):
        contract_complete(contract=contract, by=org.rep1a)
    Installment.objects.filter(contract=contract).update(status="paid", paid_amount=models_f())
    assert contract_complete(contract=contract, by=org.rep1a).status == "completed"


def models_f():
    from django.db.models import F

    return F("amount")


def test_terminate_needs_a_reason_and_keeps_installments(org, customer, product):
    contract = contract_sign(contract=approved(customer, product, org), by=org.rep1a,
                             signed_on=TODAY)  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        contract_terminate(contract=contract, by=org.rep1a, reason=" ")
    assert list(exc.value.message_dict) == ["reason"]
    contract = contract_terminate(contract=contract, by=org.rep1a, reason="客户破产")
    assert contract.status == "terminated" and contract.termination_reason == "客户破产"
    assert Installment.objects.filter(contract=contract).count() == 2


def test_terminate_pending_or_completed_is_409(org, customer, product):
    contract = contract_submit(contract=draft(customer, product), by=org.rep1a)
    with pytest.raises(Conflict):
        contract_terminate(contract=contract, by=org.rep1a, reason="x")


def test_amendment_keeps_the_old_version_and_replaces_unpaid_installments(org, customer, product):
    # given a signed contract whose prepayment is paid
    contract = contract_sign(contract=approved(customer, product, org), by=org.rep1a,
                             signed_on=TODAY)  # fmt: skip
    Installment.objects.filter(contract=contract, sequence=1).update(
        status="paid", paid_amount=Decimal("30000.00"))  # fmt: skip
    new_terms = [{"kind": "prepayment", "due_date": "2026-12-01", "amount": "30000.00"},
                 {"kind": "on_delivery", "due_date": "2027-03-01", "amount": "60000.00"},
                 {"kind": "retention", "due_date": "2027-12-01", "amount": "30000.00"}]  # fmt: skip
    # when an amendment to 12 machines is approved
    amendment = amendment_create(contract=contract, by=org.rep1a, reason="增加两台",
                                 lines=[line(product, "12")], terms=new_terms)  # fmt: skip
    amendment = amendment_submit(amendment=amendment, by=org.rep1a)
    request = ApprovalRequest.objects.get(object_id=amendment.pk,
                                          document_type="contracts.contractamendment")  # fmt: skip
    approval_approve(request=request, by=org.sup1)
    # then the contract is version 2 with the new amount; the old version is kept
    contract = Contract.objects.get(pk=contract.pk)
    amendment = ContractAmendment.objects.get(pk=amendment.pk)
    assert amendment.status == "approved"
    assert contract.version == 2 and contract.amount == Decimal("120000.00")
    assert amendment.previous["amount"] == "100000.00" and amendment.previous["version"] == 1
    assert [t["amount"] for t in amendment.previous["terms"]] == ["30000.00", "70000.00"]
    rows = list(Installment.objects.filter(contract=contract).order_by("sequence")
                .values_list("sequence", "amount", "paid_amount"))  # fmt: skip
    assert rows == [(1, Decimal("30000.00"), Decimal("30000.00")),
                    (2, Decimal("60000.00"), Decimal("0.00")),
                    (3, Decimal("30000.00"), Decimal("0.00"))]  # fmt: skip


def test_amendment_cannot_change_a_paid_term(org, customer, product):
    contract = contract_sign(contract=approved(customer, product, org), by=org.rep1a,
                             signed_on=TODAY)  # fmt: skip
    Installment.objects.filter(contract=contract, sequence=1).update(
        status="partially_paid", paid_amount=Decimal("100.00"))  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        amendment_create(
            contract=contract,
            by=org.rep1a,
            reason="x",
            lines=[line(product)],
            terms=[{"kind": "other", "due_date": "2027-01-01", "percentage": "100"}],
        )
    assert list(exc.value.message_dict) == ["terms"]


def test_amendment_rejected_returns_to_draft(org, customer, product):
    contract = contract_sign(contract=approved(customer, product, org), by=org.rep1a,
                             signed_on=TODAY)  # fmt: skip
    amendment = amendment_create(contract=contract, by=org.rep1a, reason="x",
                                 lines=[line(product)], terms=TERMS_30_70)  # fmt: skip
    amendment_submit(amendment=amendment, by=org.rep1a)
    request = ApprovalRequest.objects.get(object_id=amendment.pk,
                                          document_type="contracts.contractamendment")  # fmt: skip
    approval_reject(request=request, by=org.sup1, comment="不同意")
    amendment = ContractAmendment.objects.get(pk=amendment.pk)
    assert amendment.status == "draft" and amendment.return_comment == "不同意"
    assert Contract.objects.get(pk=contract.pk).version == 1


def test_amendment_on_draft_contract_is_409(org, customer, product):
    with pytest.raises(Conflict):
        amendment_create(contract=draft(customer, product), by=org.rep1a, reason="x",
                         lines=[line(product)], terms=TERMS_30_70)  # fmt: skip
