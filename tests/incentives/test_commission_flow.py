"""The commission statement's flow: the rep's supervisor submits a draft of an ended month (its
figures recomputed then), the manager returns it with a comment or approves it (the rep is
told); who may submit, in which state and month; "submit all drafts of my team"; the payroll
Excel of a month's approved statements, cell by cell, stamped exported at/by, for finance only.
Data: the June book of `test_commissions` (today 10 July 2026)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from apps.accounts.choices import Role
from apps.approvals.models import ApprovalTask
from apps.approvals.services import approval_approve, approval_reject, approval_request_for
from apps.core.errors import Conflict
from apps.incentives import commissions
from apps.incentives.models import CommissionAdjustment, CommissionStatement
from apps.notifications.choices import NotificationKind
from apps.notifications.models import Notification
from tests.factories import UserFactory

from .test_commissions import (  # noqa: F401 (fixtures)
    JULY,
    JUNE,
    MAY,
    Book,
    approve,
    commission_policy,
    june_book,
    pay,
    run,
    statement_of,
)

pytestmark = pytest.mark.django_db

D = Decimal


def reload(statement: CommissionStatement) -> CommissionStatement:
    return CommissionStatement.objects.get(pk=statement.pk)


@pytest.fixture
def docs(org, time_machine) -> Book:
    return june_book(org, time_machine)


@pytest.fixture
def june(org, docs: Book) -> CommissionStatement:
    """rep1a's June draft after the job (570.00)."""
    run()
    return statement_of(org.rep1a, JUNE)


# --- submit, return, approve -----------------------------------------------------------------


def test_statement_goes_from_submission_to_return_and_approval_and_the_rep_is_told(
    org, june, django_capture_on_commit_callbacks
):
    # given sup1 submits rep1a's June statement
    request = commissions.statement_submit(statement=june, by=org.sup1, comment="请审批")
    assert reload(june).status == "pending"
    assert ApprovalTask.objects.filter(request=request, approver=org.manager1).exists()
    assert request.amount == D("570.00")

    # when manager1 returns it with a comment
    approval_reject(request=request, by=org.manager1, comment="Check the May payment.")

    # then it is a draft again with the comment; sup1 resubmits and manager1 approves
    returned = reload(june)
    assert (returned.status, returned.return_comment) == ("draft", "Check the May payment.")
    commissions.statement_submit(statement=returned, by=org.sup1)
    with django_capture_on_commit_callbacks(execute=True):
        approval_approve(request=approval_request_for(june), by=org.manager1)

    approved = reload(june)
    assert approved.status == "approved" and approved.approved_at is not None
    told = Notification.objects.get(recipient=org.rep1a, kind=NotificationKind.ASSESSMENT)
    assert told.url == june.get_absolute_url() and "570.00" in told.title


def test_submission_recomputes_the_figures_first(org, june, docs):
    # given a June collection found after the night's job (2,000 more: 650.00, see
    # test_commissions)
    pay(org.finance, docs.b, date(2026, 6, 28), [(docs.i2, "2000.00")])

    request = commissions.statement_submit(statement=june, by=org.sup1)

    # then the manager approves the figures of the documents now
    pending = reload(june)
    assert (pending.collected, pending.earned, pending.lines.count()) == (
        D("30000.00"), D("650.00"), 3,
    )  # fmt: skip
    assert request.amount == D("650.00")


def test_manager_above_the_team_may_submit_to_their_own_head(org, june):
    # given a director heading the company (the head above manager1)
    director = UserFactory(username="director", role=Role.MANAGER, org_unit=org.company)
    org.company.head = director
    org.company.save()

    request = commissions.statement_submit(statement=june, by=org.manager1)

    assert reload(june).status == "pending"
    assert list(request.tasks.values_list("approver", flat=True)) == [director.pk]


@pytest.mark.parametrize("who", ["rep1a", "sup2", "manager2", "finance", "admin"])
def test_only_the_reps_supervisors_may_submit(org, june, who):
    with pytest.raises(PermissionDenied):
        commissions.statement_submit(statement=june, by=getattr(org, who))
    assert reload(june).status == "draft" and approval_request_for(june) is None


def test_a_month_not_ended_cannot_be_submitted(org, june):
    july = statement_of(org.rep1a, JULY)
    with pytest.raises(Conflict) as refused:
        commissions.statement_submit(statement=july, by=org.sup1)
    assert refused.value.code == "month_not_ended" and "2026-07" in str(refused.value)
    assert reload(july).status == "draft" and approval_request_for(july) is None


def test_a_pending_statement_cannot_be_submitted_again(org, june):
    commissions.statement_submit(statement=june, by=org.sup1)
    with pytest.raises(Conflict) as refused:
        commissions.statement_submit(statement=june, by=org.sup1)
    assert refused.value.code == "not_draft"


def test_team_submission_submits_every_draft_of_the_month_in_the_team(org, june):
    # when sup1 submits all of June for team 1
    result = commissions.statements_submit_team(by=org.sup1, month=JUNE)

    # then rep1a's and rep1b's June statements are pending, nobody else's
    assert {s.rep.username for s in result.submitted} == {"rep1a", "rep1b"}
    assert result.refused == []
    pending = set(
        CommissionStatement.objects.filter(status="pending").values_list("rep__username", "month")
    )
    assert pending == {("rep1a", JUNE), ("rep1b", JUNE)}


def test_team_submission_of_an_open_month_or_by_a_rep_is_refused(org, june):
    with pytest.raises(Conflict):
        commissions.statements_submit_team(by=org.sup1, month=JULY)
    with pytest.raises(PermissionDenied):
        commissions.statements_submit_team(by=org.rep1a, month=JUNE)
    assert not CommissionStatement.objects.filter(status="pending").exists()


# --- payroll -----------------------------------------------------------------------------------


def _approve_team1_june(org) -> tuple[CommissionStatement, CommissionStatement]:
    a = approve(statement_of(org.rep1a, JUNE), submitter=org.sup1, approver=org.manager1)
    b = approve(statement_of(org.rep1b, JUNE), submitter=org.sup1, approver=org.manager1)
    return a, b


def test_payroll_excel_has_the_approved_statements_lines_and_adjustments(org, june, docs):
    # given a May adjustment (−12.34) booked on rep1a's June draft, then team 1's June approved
    CommissionAdjustment.objects.create(
        statement=june, source_month=MAY, amount=D("-12.34"), reason="May reversal",
        detail={"allocations": [1]},
    )  # fmt: skip
    run()
    a, b = _approve_team1_june(org)
    assert a.payable == D("557.66")

    # when finance exports June
    export = commissions.statements_export_payroll(by=org.finance, month=JUNE)

    # then sheet 1 has a row per approved statement (rep2a's draft is not there) and totals
    assert (export.filename, export.count) == ("commissions-2026-06.xlsx", 2)
    book_ = load_workbook(BytesIO(export.content))
    assert book_.sheetnames == ["Payroll", "Lines", "Adjustments"]
    pay_sheet = book_["Payroll"]
    assert pay_sheet["A1"].value == "Commissions for payroll: 2026-06"
    assert [c.value for c in pay_sheet[3]] == [
        "Rep", "Login", "User ID", "Team", "Collected", "Commission base", "Collection target",
        "Tier commission", "Accelerator", "Adjustments", "Payable",
    ]  # fmt: skip
    assert [c.value for c in pay_sheet[4]] == [
        org.rep1a.display_name, "rep1a", org.rep1a.pk, "Team 1", 28000.0, 30500.0, 25000.0,
        515.0, 55.0, -12.34, 557.66,
    ]  # fmt: skip
    assert [c.value for c in pay_sheet[5]] == [
        org.rep1b.display_name, "rep1b", org.rep1b.pk, "Team 1", 0.0, 0.0, None, 0.0, 0.0,
        0.0, 0.0,
    ]  # fmt: skip
    assert pay_sheet["A6"].value == "Total"
    assert [c.value for c in pay_sheet[6]][4:] == [28000.0, 30500.0, 25000.0, 515.0, 55.0,
                                                   -12.34, 557.66]  # fmt: skip
    assert pay_sheet["K4"].number_format == "#,##0.00"
    assert pay_sheet.max_row == 6

    # sheet 2: the lines behind rep1a's statement, in date order
    lines = book_["Lines"]
    assert [c.value for c in lines[3]] == [
        "Rep", "Login", "User ID", "Received on", "Payment", "Allocation", "Contract",
        "Installment", "Collected", "Factor", "Commission base",
    ]  # fmt: skip
    assert [c.value for c in lines[4]] == [
        org.rep1a.display_name, "rep1a", org.rep1a.pk, "2026-06-05", docs.p1.pk, docs.a1.pk,
        docs.c1.number, docs.i1.pk, 8000.0, 1.3125, 10500.0,
    ]  # fmt: skip
    assert [c.value for c in lines[5]][3:] == [
        "2026-06-20", docs.p2.pk, docs.a2.pk, docs.c2.number, docs.i2.pk, 20000.0, 1.0,
        20000.0,
    ]  # fmt: skip
    assert lines["I6"].value == 28000.0 and lines["K6"].value == 30500.0

    # sheet 3: the adjustment with the month it adjusts
    adjustments = book_["Adjustments"]
    assert [c.value for c in adjustments[4]] == [
        org.rep1a.display_name, "rep1a", org.rep1a.pk, "2026-05", -12.34, "May reversal",
    ]  # fmt: skip

    # and both statements are stamped
    for statement in (a, b):
        stamped = reload(statement)
        assert stamped.exported_by == org.finance and stamped.exported_at is not None


def test_payroll_export_is_for_finance_and_needs_approved_statements(org, june):
    with pytest.raises(PermissionDenied):
        commissions.statements_export_payroll(by=org.sup1, month=JUNE)
    with pytest.raises(Conflict) as refused:
        commissions.statements_export_payroll(by=org.finance, month=JUNE)  # none approved
    assert refused.value.code == "nothing_to_export"
    assert not CommissionStatement.objects.filter(exported_at__isnull=False).exists()


# --- demo --------------------------------------------------------------------------------------


def test_demo_loads_a_plan_and_approves_last_month_once(org, time_machine):
    from apps.incentives import demo_commissions
    from apps.incentives.models import CommissionPlan

    # given no plan; today is 10 July 2026
    time_machine.move_to(datetime(2026, 7, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))

    # when the demo loads twice
    demo_commissions.load(None)
    first = sorted(CommissionStatement.objects.values_list("rep__username", "month", "status"))
    demo_commissions.load(None)

    # then one plan with the demo's rules, June approved through the engine, July drafts
    plan = CommissionPlan.objects.get()
    assert plan.name == demo_commissions.PLAN_NAME
    assert list(plan.tiers.values_list("from_amount", "rate")) == [
        (D("0.00"), D("0.0100")), (D("100000.00"), D("0.0150")), (D("300000.00"), D("0.0200")),
    ]  # fmt: skip
    assert list(plan.factors.values_list("kind", "value", "factor")) == [
        ("customer_tier", "A", D("1.2000"))
    ]
    assert plan.accelerator_rate == D("0.0100") and plan.clawback_on_write_off
    assert first == sorted(
        (rep, month, "approved" if month == JUNE else "draft")
        for rep in ("rep1a", "rep1b", "rep2a", "rep3a")
        for month in (JUNE, JULY)
    )
    assert approval_request_for(statement_of(org.rep1a, JUNE)).status == "approved"
    assert sorted(CommissionStatement.objects.values_list("rep__username", "month", "status")) == (
        first
    )
