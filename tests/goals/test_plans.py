"""Sales plan (销售计划书, seed 004 flow 1 steps 1–3): written by the unit's head with its target
grid, submitted, approved by the manager (its targets become active, version 1) or returned
with a comment; rep lines add up to the unit line; a live target takes the plan's amount as a
new version; scope of the pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from apps.approvals.models import ApprovalTask
from apps.approvals.services import (
    approval_approve,
    approval_reject,
    approval_request_for,
    approval_submit,
)
from apps.core.errors import Conflict
from apps.goals import plans
from apps.goals.choices import Metric, ScopeKind, SplitMethod, TargetStatus
from apps.goals.models import SalesPlan, Target, TargetVersion
from apps.goals.plans import PlanLine, plan_create, plan_submit, plan_update, plan_withdraw

DAY = date(2031, 5, 10)  # Q2 2031
CA = Metric.CONTRACT_AMOUNT
VISITS = Metric.VISITS


def lines(org, unit=Decimal("100000"), a=Decimal("60000"), b=Decimal("40000")) -> list[PlanLine]:
    """Team 1's signed-contract targets: the unit's line and both reps'."""
    return [
        PlanLine(CA, unit),
        PlanLine(CA, a, org.rep1a.pk),
        PlanLine(CA, b, org.rep1b.pk),
    ]


def make_plan(org, *, by=None, unit=None, grid=None, **data) -> SalesPlan:
    return plan_create(
        by=by or org.sup1,
        org_unit=unit or org.team1,
        period_kind="quarter",
        day=DAY,
        data={"problems": "Too few new customers in the east", **data},
        lines=lines(org) if grid is None else grid,
    )


def approve_plan(org, plan: SalesPlan, by=None):
    request = plan_submit(plan=plan, by=plan.owner)
    approval_approve(request=request, by=by or org.manager1)
    return request


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def live_target(metric, *, unit=None, user=None) -> Target:
    qs = Target.objects.exclude(status=TargetStatus.DRAFT).filter(
        metric=metric, period_kind="quarter", period_start=date(2031, 4, 1)
    )
    if user is not None:
        return qs.get(scope_kind=ScopeKind.REP, user=user)
    return qs.get(scope_kind=ScopeKind.UNIT, org_unit=unit)


def make_live(org, metric, amount, *, unit=None, user=None, parent=None) -> Target:
    """An active target set outside any plan (e.g. by the decomposition of a parent)."""
    target = Target.objects.create(
        metric=metric,
        period_kind="quarter",
        period_start=date(2031, 4, 1),
        period_end=date(2031, 6, 30),
        scope_kind=ScopeKind.REP if user else ScopeKind.UNIT,
        org_unit=unit or (user.org_unit if user else None),
        user=user,
        amount=amount,
        parent=parent,
        created_by=org.manager1,
    )
    TargetVersion.objects.create(target=target, version=1, amount=amount, changed_by=org.manager1)
    return target


# --- writing a plan -------------------------------------------------------------------------


def test_a_supervisor_writes_a_draft_plan_with_its_target_lines(org):
    # when sup1 writes team 1's plan for Q2 2031
    plan = make_plan(org, expense_budget="12000", collection_plan="Call every overdue account")
    # then the plan covers the quarter, is a draft, and has a default title
    assert (plan.period_start, plan.period_end) == (date(2031, 4, 1), date(2031, 6, 30))
    assert plan.status == "draft" and plan.owner == org.sup1
    assert "Team 1" in plan.title and "2031 Q2" in plan.title
    assert plan.expense_budget == Decimal("12000.00")
    # and its targets are drafts: the unit's line with the reps' lines as its children
    unit_line = plan.targets.get(scope_kind=ScopeKind.UNIT)
    assert unit_line.status == TargetStatus.DRAFT and unit_line.amount == Decimal("100000")
    children = unit_line.children.order_by("user__username")
    assert [(c.user.username, c.amount) for c in children] == [
        ("rep1a", Decimal("60000.00")),
        ("rep1b", Decimal("40000.00")),
    ]
    assert {c.split_method for c in children} == {SplitMethod.MANUAL}


def test_rep_lines_that_do_not_add_up_are_refused_naming_the_metric(org):
    # when the reps' lines add up to 95,000 under a unit line of 100,000
    with pytest.raises(ValidationError) as caught:
        make_plan(org, grid=lines(org, b=Decimal("35000")))
    # then the error names the metric and the difference, and nothing is saved
    message = " ".join(caught.value.message_dict["targets"])
    assert str(Metric.CONTRACT_AMOUNT.label) in message and "5,000" in message
    assert not SalesPlan.objects.exists() and not Target.objects.exists()


def test_only_rep_lines_without_a_unit_line_are_standalone(org):
    plan = make_plan(org, grid=[PlanLine(VISITS, Decimal("30"), org.rep1a.pk)])
    target = plan.targets.get()
    assert target.parent_id is None and target.scope_kind == ScopeKind.REP


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (PlanLine(CA, Decimal("-1")), "negative"),
        (PlanLine(VISITS, Decimal("2.5")), "whole number"),
    ],
)
def test_bad_target_lines_are_refused_naming_the_metric(org, line, fragment):
    with pytest.raises(ValidationError) as caught:
        make_plan(org, grid=[line])
    message = " ".join(caught.value.message_dict["targets"])
    assert fragment in message and str(Metric(line.metric).label) in message


def test_a_line_for_someone_outside_the_unit_is_refused(org):
    with pytest.raises(ValidationError) as caught:
        make_plan(org, grid=[PlanLine(CA, Decimal("10"), org.rep2a.pk)])
    assert "targets" in caught.value.message_dict


def test_a_negative_expense_budget_is_refused_naming_the_field(org):
    with pytest.raises(ValidationError) as caught:
        make_plan(org, expense_budget="-5")
    assert "expense_budget" in caught.value.message_dict


def test_a_rep_cannot_write_a_plan(org):
    with pytest.raises(PermissionDenied):
        make_plan(org, by=org.rep1a)


def test_a_supervisor_cannot_write_another_teams_plan(org):
    with pytest.raises(PermissionDenied):
        make_plan(org, by=org.sup2, grid=[PlanLine(CA, Decimal("10"))])


def test_a_manager_writes_the_plan_of_a_team_below(org):
    plan = make_plan(org, by=org.manager1)
    assert plan.owner == org.manager1


def test_update_replaces_the_grid_and_moves_the_period(org):
    plan = make_plan(org)
    plan_update(plan=plan, by=org.sup1, period_kind="month", day=date(2031, 7, 3),
                lines=[PlanLine(VISITS, Decimal("80"))])  # fmt: skip
    plan = fresh(plan)
    assert (plan.period_start, plan.period_end) == (date(2031, 7, 1), date(2031, 7, 31))
    target = plan.targets.get()
    assert (target.metric, target.amount, target.period_start) == (
        VISITS,
        Decimal("80.00"),
        date(2031, 7, 1),
    )


def test_only_the_author_edits_the_plan(org):
    plan = make_plan(org)
    with pytest.raises(PermissionDenied):
        plan_update(plan=plan, by=org.manager1, data={"problems": "x"})


# --- approval -------------------------------------------------------------------------------


def test_the_manager_approves_and_the_targets_become_active_with_version_1(org):
    plan = make_plan(org)
    # when sup1 submits: the manager of the department is asked
    request = plan_submit(plan=plan, by=org.sup1)
    assert fresh(plan).status == "pending"
    assert set(
        ApprovalTask.objects.filter(request=request, status="waiting").values_list(
            "approver__username", flat=True
        )
    ) == {"manager1"}
    # when the manager approves
    approval_approve(request=request, by=org.manager1, comment="OK")
    # then the plan is approved and its targets are active, each with version 1 by the manager
    plan = fresh(plan)
    assert plan.status == "approved" and plan.approved_at is not None
    targets = list(plan.targets.all())
    assert len(targets) == 3 and {t.status for t in targets} == {TargetStatus.ACTIVE}
    for target in targets:
        version = target.versions.get()
        assert (version.version, version.amount) == (1, target.amount)
        assert version.changed_by == org.manager1 and plan.title in version.reason
    unit_line = live_target(CA, unit=org.team1)
    assert unit_line.children.count() == 2


def test_editing_is_refused_while_under_approval_and_after(org):
    plan = make_plan(org)
    request = plan_submit(plan=plan, by=org.sup1)
    with pytest.raises(Conflict):
        plan_update(plan=plan, by=org.sup1, data={"problems": "changed"})
    approval_approve(request=request, by=org.manager1)
    with pytest.raises(Conflict):
        plan_update(plan=plan, by=org.sup1, data={"problems": "changed"})


def test_a_return_brings_the_plan_back_to_draft_with_the_comment_and_resubmits(org):
    plan = make_plan(org)
    request = plan_submit(plan=plan, by=org.sup1)
    # when the manager returns it
    approval_reject(request=request, by=org.manager1, comment="Collection plan is too thin")
    # then it is a draft with the comment, its targets still drafts
    plan = fresh(plan)
    assert plan.status == "draft" and plan.return_comment == "Collection plan is too thin"
    assert set(plan.targets.values_list("status", flat=True)) == {TargetStatus.DRAFT}
    # and sup1 revises and resubmits; the comment is cleared on resubmission
    plan_update(plan=plan, by=org.sup1, data={"collection_plan": "Weekly calls"})
    plan_submit(plan=plan, by=org.sup1)
    plan = fresh(plan)
    assert plan.status == "pending" and plan.return_comment == ""
    approval_approve(request=approval_request_for(plan), by=org.manager1)
    assert fresh(plan).status == "approved"


def test_a_plan_without_targets_cannot_be_submitted(org):
    plan = make_plan(org, grid=[])
    with pytest.raises(Conflict):
        plan_submit(plan=plan, by=org.sup1)
    # the generic approval submit (the panel's button) enforces it too
    with pytest.raises(Conflict):
        approval_submit(document=plan, by=org.sup1)
    assert fresh(plan).status == "draft"


def test_the_author_withdraws_a_pending_plan(org):
    plan = make_plan(org)
    plan_submit(plan=plan, by=org.sup1)
    plan_withdraw(plan=plan, by=org.sup1, comment="Numbers to check")
    assert fresh(plan).status == "draft"
    # and nobody else may withdraw it
    plan_submit(plan=plan, by=org.sup1)
    with pytest.raises(PermissionDenied):
        plan_withdraw(plan=plan, by=org.manager1)


def test_approval_over_a_live_target_adds_a_version_instead_of_a_duplicate(org):
    # given a live team target and rep target set earlier
    unit_live = make_live(org, CA, Decimal("90000"), unit=org.team1)
    rep_live = make_live(org, CA, Decimal("50000"), user=org.rep1a, parent=unit_live)
    make_live(org, CA, Decimal("40000"), user=org.rep1b, parent=unit_live)
    plan = make_plan(org)  # unit 100,000 = 60,000 + 40,000
    # when the plan is approved
    approve_plan(org, plan)
    # then there is still one live target per scope; the changed ones have a version 2
    assert Target.objects.filter(metric=CA).count() == 3
    unit_live, rep_live = fresh(unit_live), fresh(rep_live)
    assert (unit_live.amount, unit_live.version) == (Decimal("100000.00"), 2)
    assert (rep_live.amount, rep_live.version) == (Decimal("60000.00"), 2)
    assert list(unit_live.versions.values_list("version", "changed_by__username")) == [
        (1, "manager1"),
        (2, "manager1"),
    ]
    rep1b = live_target(CA, user=org.rep1b)
    assert rep1b.version == 1  # same amount: no new version
    # and the children still add up to their parent
    assert sum(c.amount for c in unit_live.children.all()) == unit_live.amount
    assert fresh(plan).targets.count() == 3


def test_approval_that_would_break_an_existing_split_is_refused(org):
    # given a live team target split between both reps
    unit_live = make_live(org, CA, Decimal("90000"), unit=org.team1)
    make_live(org, CA, Decimal("50000"), user=org.rep1a, parent=unit_live)
    make_live(org, CA, Decimal("40000"), user=org.rep1b, parent=unit_live)
    # when a plan sets only the team's line, below its parts, and the manager approves
    plan = make_plan(org, grid=[PlanLine(CA, Decimal("80000"))])
    request = plan_submit(plan=plan, by=org.sup1)
    with pytest.raises(Conflict) as caught:
        approval_approve(request=request, by=org.manager1)
    # then the approval is refused naming the metric, and nothing changed
    assert str(Metric.CONTRACT_AMOUNT.label) in caught.value.message
    assert fresh(unit_live).amount == Decimal("90000") and fresh(plan).status == "pending"


def test_approval_raising_a_split_target_leaves_the_rest_to_allocate(org):
    unit_live = make_live(org, CA, Decimal("90000"), unit=org.team1)
    make_live(org, CA, Decimal("50000"), user=org.rep1a, parent=unit_live)
    make_live(org, CA, Decimal("40000"), user=org.rep1b, parent=unit_live)
    approve_plan(org, make_plan(org, grid=[PlanLine(CA, Decimal("100000"))]))
    assert fresh(unit_live).amount == Decimal("100000")


def test_approval_over_a_closed_target_is_refused(org):
    closed = make_live(org, CA, Decimal("90000"), unit=org.team1)
    Target.objects.filter(pk=closed.pk).update(status=TargetStatus.CLOSED)
    plan = make_plan(org, grid=[PlanLine(CA, Decimal("100000"))])
    request = plan_submit(plan=plan, by=org.sup1)
    with pytest.raises(Conflict):
        approval_approve(request=request, by=org.manager1)


def test_two_approved_plans_of_one_scope_leave_one_live_target(org):
    first = make_plan(org, grid=[PlanLine(VISITS, Decimal("100"))])
    second = make_plan(org, grid=[PlanLine(VISITS, Decimal("120"))])
    approve_plan(org, first)
    approve_plan(org, second)
    live = Target.objects.exclude(status=TargetStatus.DRAFT).get(metric=VISITS)
    assert (live.amount, live.version, live.plan_id) == (Decimal("120.00"), 2, second.pk)
    assert not Target.objects.filter(status=TargetStatus.DRAFT).exists()


# --- pages ----------------------------------------------------------------------------------


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_plan_pages_render_for_the_author_and_the_manager(org):
    plan = make_plan(org)
    for user in (org.sup1, org.manager1, org.admin):
        response = client_for(user).get(f"/goals/plans/{plan.pk}/")
        assert response.status_code == 200
        assert plan.title in response.content.decode()
    listing = client_for(org.sup1).get("/goals/plans/")
    assert listing.status_code == 200 and plan.title in listing.content.decode()


def test_another_teams_plan_is_404(org):
    plan = make_plan(org)
    for user in (org.sup2, org.manager2, org.rep2a, org.rep1a, org.finance):
        assert client_for(user).get(f"/goals/plans/{plan.pk}/").status_code == 404, user
    assert plan.title not in client_for(org.sup2).get("/goals/plans/").content.decode()


def test_the_units_reps_read_the_approved_plan_only(org):
    plan = make_plan(org)
    assert client_for(org.rep1a).get(f"/goals/plans/{plan.pk}/").status_code == 404
    approve_plan(org, plan)
    response = client_for(org.rep1a).get(f"/goals/plans/{plan.pk}/")
    assert response.status_code == 200
    assert client_for(org.rep1a).get(f"/goals/plans/{plan.pk}/edit/").status_code == 403


def test_a_rep_cannot_open_the_plan_editor(org):
    assert client_for(org.rep1a).get("/goals/plans/new/").status_code == 403


def test_the_editor_creates_a_plan_from_the_grid(org):
    client = client_for(org.sup1)
    assert client.get("/goals/plans/new/").status_code == 200
    response = client.post(
        "/goals/plans/new/",
        {
            "org_unit": org.team1.pk,
            "period_kind": "quarter",
            "day": "2031-05-10",
            "problems": "Slow collections",
            f"t-unit-{CA}": "1000",
            f"t-{org.rep1a.pk}-{CA}": "600",
            f"t-{org.rep1b.pk}-{CA}": "400",
        },
    )
    plan = SalesPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/goals/plans/{plan.pk}/"
    assert plan.targets.count() == 3


def test_the_editor_shows_the_sum_error_naming_the_metric(org):
    response = client_for(org.sup1).post(
        "/goals/plans/new/",
        {
            "org_unit": org.team1.pk,
            "period_kind": "quarter",
            "day": "2031-05-10",
            f"t-unit-{CA}": "1000",
            f"t-{org.rep1a.pk}-{CA}": "600",
        },
    )
    assert response.status_code == 200
    assert str(Metric.CONTRACT_AMOUNT.label) in response.content.decode()
    assert not SalesPlan.objects.exists()


def test_the_editor_reloads_the_grid_for_another_unit(org):
    response = client_for(org.manager1).get(
        f"/goals/plans/new/?org_unit={org.team2.pk}", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="plan-grid"' in html
    assert f"t-{org.rep2a.pk}-{CA}" in html and f"t-{org.rep1a.pk}-{CA}" not in html


def test_the_edit_page_saves_a_returned_plan(org):
    plan = make_plan(org)
    request = plan_submit(plan=plan, by=org.sup1)
    approval_reject(request=request, by=org.manager1, comment="Lower the target")
    client = client_for(org.sup1)
    page = client.get(f"/goals/plans/{plan.pk}/edit/")
    assert page.status_code == 200 and "Lower the target" in page.content.decode()
    response = client.post(
        f"/goals/plans/{plan.pk}/edit/",
        {"period_kind": "quarter", "day": "2031-05-10", f"t-unit-{CA}": "900"},
    )
    assert response.status_code == 302
    assert plans.plan_lines(fresh(plan)) == [PlanLine(CA, Decimal("900.00"))]


def test_plan_list_queries_stay_constant(org, django_assert_max_num_queries):
    for _ in range(3):
        make_plan(org)
    client = client_for(org.manager1)
    client.get("/goals/plans/")  # warm the session and caches
    with django_assert_max_num_queries(14) as few:
        assert client.get("/goals/plans/").status_code == 200
    for _ in range(12):
        make_plan(org)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/goals/plans/")
    assert response.content.decode().count("data-plan=") == 15
