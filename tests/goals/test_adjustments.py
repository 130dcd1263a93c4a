"""Target adjustment (执行困难报告单及修正单, seed 004 flow 1 steps 6–7): a rep or the unit's
head reports a difficulty and proposes a revised target; the manager approves; the target gets
a new version (who, why), its parents follow by the same difference; guards and scope."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError

from apps.approvals.services import approval_approve, approval_reject, approval_submit
from apps.core.errors import Conflict
from apps.goals.choices import TargetStatus
from apps.goals.models import Target, TargetAdjustment
from apps.goals.plans import (
    adjustment_create,
    adjustment_submit,
    adjustment_update,
    adjustment_withdraw,
)

from .test_plans import CA, approve_plan, client_for, fresh, live_target, make_plan

REPORT = "The largest customer postponed its Q2 order to Q4."


@pytest.fixture
def approved(org):
    """Team 1's approved Q2 2031 plan: team 100,000 = rep1a 60,000 + rep1b 40,000."""
    plan = make_plan(org)
    approve_plan(org, plan)
    return plan


@pytest.fixture
def rep_target(org, approved) -> Target:
    return live_target(CA, user=org.rep1a)


def adjust(org, target, *, by=None, amount="45000", report=REPORT) -> TargetAdjustment:
    return adjustment_create(
        by=by or org.rep1a, target=target, proposed_amount=amount, difficulty_report=report
    )


def test_rep_adjustment_end_to_end_keeps_every_version_and_the_parent_in_step(org, rep_target):
    # when rep1a reports the difficulty and proposes 45,000 instead of 60,000
    adjustment = adjust(org, rep_target)
    assert adjustment.status == "draft" and adjustment.current_amount == Decimal("60000")
    request = adjustment_submit(adjustment=adjustment, by=org.rep1a)
    assert fresh(adjustment).status == "pending"
    # and the manager approves
    approval_approve(request=request, by=org.manager1, comment="Agreed")
    # then the target is 45,000 in its version 2, by the manager, for the reported reason
    target = fresh(rep_target)
    assert (target.amount, target.version) == (Decimal("45000.00"), 2)
    v1, v2 = target.versions.order_by("version")
    assert (v1.version, v1.amount, v1.changed_by) == (1, Decimal("60000.00"), org.manager1)
    assert (v2.version, v2.amount, v2.changed_by) == (2, Decimal("45000.00"), org.manager1)
    assert v2.reason == REPORT and v2.adjustment_id == adjustment.pk
    # and the team's target went down by the same 15,000, with its own version citing it
    parent = fresh(target.parent)
    assert (parent.amount, parent.version) == (Decimal("85000.00"), 2)
    parent_v2 = parent.versions.get(version=2)
    assert parent_v2.adjustment_id == adjustment.pk and parent_v2.changed_by == org.manager1
    assert sum(c.amount for c in parent.children.all()) == parent.amount
    assert fresh(adjustment).status == "approved" and fresh(adjustment).approved_at


def test_the_head_of_the_unit_adjusts_a_reps_target(org, rep_target):
    adjustment = adjust(org, rep_target, by=org.sup1)
    request = adjustment_submit(adjustment=adjustment, by=org.sup1)
    approval_approve(request=request, by=org.manager1)
    assert fresh(rep_target).amount == Decimal("45000")


def test_a_split_target_cannot_be_adjusted(org, approved):
    team_target = live_target(CA, unit=org.team1)
    with pytest.raises(Conflict) as caught:
        adjust(org, team_target, by=org.sup1, amount="90000")
    assert caught.value.code == "target_has_children"


def test_a_target_split_after_the_draft_is_refused_at_submission(org, approved):
    # given a draft adjustment of rep1b's target
    target = live_target(CA, user=org.rep1b)
    adjustment = adjust(org, target, by=org.rep1b, amount="30000")
    # when the target is split afterwards (e.g. by month)
    Target.objects.create(metric=CA, period_kind="month", period_start=target.period_start,
                          period_end=target.period_end, scope_kind="rep", user=org.rep1b,
                          org_unit=org.team1, amount=target.amount, parent=target)  # fmt: skip
    # then the submission is refused, also through the generic approval submit
    with pytest.raises(Conflict):
        adjustment_submit(adjustment=adjustment, by=org.rep1b)
    with pytest.raises(Conflict):
        approval_submit(document=adjustment, by=org.rep1b)
    assert fresh(adjustment).status == "draft"


def test_a_second_open_adjustment_is_refused(org, rep_target):
    adjust(org, rep_target)
    with pytest.raises(Conflict) as caught:
        adjust(org, rep_target, by=org.sup1, amount="50000")
    assert caught.value.code == "adjustment_open"


def test_the_constraint_backs_the_one_open_adjustment_rule(org, rep_target):
    # the service's check is backed by the database: a racing insert cannot slip through
    adjust(org, rep_target)
    with pytest.raises(IntegrityError):
        TargetAdjustment.objects.create(owner=org.sup1, target=rep_target,
                                        difficulty_report="x", current_amount=1,
                                        proposed_amount=2)  # fmt: skip


def test_after_approval_a_new_adjustment_may_start(org, rep_target):
    adjustment = adjust(org, rep_target)
    approval_approve(request=adjustment_submit(adjustment=adjustment, by=org.rep1a),
                     by=org.manager1)  # fmt: skip
    second = adjust(org, fresh(rep_target), amount="40000")
    assert second.current_amount == Decimal("45000")


@pytest.mark.parametrize(
    ("amount", "report", "field"),
    [
        ("-1", REPORT, "proposed_amount"),
        ("", REPORT, "proposed_amount"),
        ("abc", REPORT, "proposed_amount"),
        ("60000", REPORT, "proposed_amount"),  # the current target
        ("45000", "   ", "difficulty_report"),
    ],
)
def test_bad_input_is_refused_naming_the_field(org, rep_target, amount, report, field):
    with pytest.raises(ValidationError) as caught:
        adjust(org, rep_target, amount=amount, report=report)
    assert field in caught.value.message_dict
    assert not TargetAdjustment.objects.exists()


def test_a_closed_target_cannot_be_adjusted(org, rep_target):
    Target.objects.filter(pk=rep_target.pk).update(status=TargetStatus.CLOSED)
    with pytest.raises(Conflict) as caught:
        adjust(org, fresh(rep_target))
    assert caught.value.code == "target_not_active"


def test_a_draft_plan_target_cannot_be_adjusted(org):
    plan = make_plan(org)
    draft = plan.targets.get(user=org.rep1a)
    with pytest.raises(Conflict):
        adjust(org, draft)


def test_another_rep_cannot_adjust_a_colleagues_target(org, rep_target):
    with pytest.raises(PermissionDenied):
        adjust(org, rep_target, by=org.rep1b)
    with pytest.raises(PermissionDenied):
        adjust(org, rep_target, by=org.sup2)


def test_a_return_brings_the_adjustment_back_with_the_comment(org, rep_target):
    adjustment = adjust(org, rep_target)
    request = adjustment_submit(adjustment=adjustment, by=org.rep1a)
    approval_reject(request=request, by=org.manager1, comment="Try 50,000")
    adjustment = fresh(adjustment)
    assert adjustment.status == "draft" and adjustment.return_comment == "Try 50,000"
    assert fresh(rep_target).amount == Decimal("60000")  # unchanged
    adjustment_update(adjustment=adjustment, by=org.rep1a, proposed_amount="50000",
                      difficulty_report=REPORT)  # fmt: skip
    approval_approve(request=adjustment_submit(adjustment=adjustment, by=org.rep1a),
                     by=org.manager1)  # fmt: skip
    assert fresh(rep_target).amount == Decimal("50000")


def test_the_applicant_withdraws_and_nobody_else(org, rep_target):
    adjustment = adjust(org, rep_target)
    adjustment_submit(adjustment=adjustment, by=org.rep1a)
    with pytest.raises(PermissionDenied):
        adjustment_withdraw(adjustment=adjustment, by=org.sup1)
    adjustment_withdraw(adjustment=adjustment, by=org.rep1a)
    assert fresh(adjustment).status == "draft"


def test_editing_is_refused_while_pending(org, rep_target):
    adjustment = adjust(org, rep_target)
    adjustment_submit(adjustment=adjustment, by=org.rep1a)
    with pytest.raises(Conflict):
        adjustment_update(adjustment=adjustment, by=org.rep1a, proposed_amount="1",
                          difficulty_report=REPORT)  # fmt: skip


# --- pages ----------------------------------------------------------------------------------


def test_the_adjust_page_shows_the_target_and_creates_and_submits(org, rep_target):
    client = client_for(org.rep1a)
    page = client.get(f"/goals/targets/{rep_target.pk}/adjust/")
    assert page.status_code == 200
    assert 'id="target-actual"' in page.content.decode()
    response = client.post(
        f"/goals/targets/{rep_target.pk}/adjust/",
        {"proposed_amount": "45000", "difficulty_report": REPORT, "action": "submit"},
    )
    adjustment = TargetAdjustment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/goals/adjustments/{adjustment.pk}/"
    assert adjustment.status == "pending"


def test_the_adjust_page_shows_the_field_errors(org, rep_target):
    response = client_for(org.rep1a).post(
        f"/goals/targets/{rep_target.pk}/adjust/",
        {"proposed_amount": "-5", "difficulty_report": ""},
    )
    assert response.status_code == 200 and not TargetAdjustment.objects.exists()
    html = response.content.decode()
    assert "is-invalid" in html


def test_the_detail_page_shows_the_versions_with_who_and_why(org, rep_target):
    adjustment = adjust(org, rep_target)
    approval_approve(request=adjustment_submit(adjustment=adjustment, by=org.rep1a),
                     by=org.manager1)  # fmt: skip
    response = client_for(org.rep1a).get(f"/goals/adjustments/{adjustment.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-version="1"' in html and 'data-version="2"' in html and REPORT in html


def test_another_teams_adjustment_and_target_are_404(org, rep_target):
    adjustment = adjust(org, rep_target)
    for user in (org.rep1b, org.rep2a, org.sup2, org.manager2):
        client = client_for(user)
        assert client.get(f"/goals/adjustments/{adjustment.pk}/").status_code == 404, user
        assert client.get(f"/goals/targets/{rep_target.pk}/adjust/").status_code == 404, user
    for user in (org.sup1, org.manager1, org.admin):
        assert client_for(user).get(f"/goals/adjustments/{adjustment.pk}/").status_code == 200


def test_adjustment_list_queries_stay_constant(org, approved, django_assert_max_num_queries):
    adjust(org, live_target(CA, user=org.rep1a))
    client = client_for(org.manager1)
    client.get("/goals/adjustments/")
    with django_assert_max_num_queries(12) as few:
        assert client.get("/goals/adjustments/").status_code == 200
    adjust(org, live_target(CA, user=org.rep1b), by=org.rep1b, amount="1")
    # more adjustments of other targets (rep targets of another metric)
    from apps.goals.plans import PlanLine

    for metric in ("visits", "effective_visits", "new_customers", "collected"):
        plan = make_plan(org, grid=[PlanLine(metric, Decimal("10"), org.rep1a.pk)])
        approve_plan(org, plan)
        adjust(org, plan.targets.get(), amount="5")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/goals/adjustments/")
    assert response.content.decode().count("data-adjustment=") == 6
