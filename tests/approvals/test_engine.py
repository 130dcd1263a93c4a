"""The approval engine: chains from the org tree, thresholds, returns and rounds, withdrawal,
self-approval, delegation, turn and role checks, and the edit lock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.approvals.choices import RequestStatus, TaskStatus
from apps.approvals.models import ApprovalDecision, ApprovalStep, ApprovalTask, Delegation
from apps.approvals.services import (
    approval_approve,
    approval_assert_editable,
    approval_reject,
    approval_submit,
    approval_withdraw,
)
from apps.core.errors import Conflict
from apps.notifications.models import Notification
from tests.testapp.models import Memo, memo_new

from .conftest import make_memo


def waiting(request) -> set[str]:
    return set(
        ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).values_list(
            "approver__username", flat=True
        )
    )


def fresh(memo: Memo) -> Memo:
    return Memo.objects.get(pk=memo.pk)


def test_chain_resolves_supervisor_then_manager_from_the_org_tree(org, policy):
    # given a rep's memo above the manager threshold
    memo = make_memo(org.rep1a, "50000")
    # when the rep submits it
    request = approval_submit(document=memo, by=org.rep1a)
    # then the team's supervisor is asked first, and the document is pending
    assert waiting(request) == {"sup1"}
    assert fresh(memo).status == "pending"
    assert Notification.objects.filter(recipient=org.sup1, kind="approval_requested").exists()
    # when the supervisor approves, the department's manager is asked
    approval_approve(request=request, by=org.sup1)
    assert waiting(request) == {"manager1"}
    # when the manager approves, the request and the document are approved
    request = approval_approve(request=request, by=org.manager1)
    assert request.status == RequestStatus.APPROVED
    assert fresh(memo).status == "approved"
    assert fresh(memo).approved_count == 1
    assert Notification.objects.filter(recipient=org.rep1a, kind="approval_approved").count() == 1


def test_threshold_skips_steps_below_it(org, policy):
    # given a small memo (5,000: under the manager's 10,000)
    memo = make_memo(org.rep2a, "5000")
    # when submitted and approved by the supervisor
    request = approval_submit(document=memo, by=org.rep2a)
    assert waiting(request) == {"sup2"}
    request = approval_approve(request=request, by=org.sup2)
    # then no manager step: approved
    assert request.status == RequestStatus.APPROVED


def test_flag_step_joins_the_chain_only_when_the_document_raises_the_flag(org, policy):
    # given a step that applies only to documents raising the "override" flag
    ApprovalStep.objects.create(
        policy=policy, order=4, name="Override", approver_kind="role", role="finance",
        condition_metric="flag", condition_flag="override",
    )  # fmt: skip
    plain = make_memo(org.rep1a, "5000")
    flagged = memo_new(owner=org.rep1a, title="Memo [override]", amount=Decimal("5000"))
    # when both are submitted and the supervisor approves both
    plain_request = approval_submit(document=plain, by=org.rep1a)
    flagged_request = approval_submit(document=flagged, by=org.rep1a)
    plain_request = approval_approve(request=plain_request, by=org.sup1)
    flagged_request = approval_approve(request=flagged_request, by=org.sup1)
    # then the plain memo is approved, the flagged one waits for finance
    assert plain_request.status == RequestStatus.APPROVED
    assert flagged_request.flags == ["override"]
    assert flagged_request.status == RequestStatus.PENDING
    assert waiting(flagged_request) == {"finance"}


def test_condition_max_limits_a_step_to_values_up_to_it(org, policy):
    # given the manager step applies only from 10,000 up to 20,000
    ApprovalStep.objects.filter(policy=policy, order=2).update(condition_max=20000)
    # when a 50,000 memo goes through
    request = approval_submit(document=make_memo(org.rep1a, "50000"), by=org.rep1a)
    request = approval_approve(request=request, by=org.sup1)
    # then the manager is skipped, and finance (above 100,000) too
    assert request.status == RequestStatus.APPROVED


def test_all_mode_step_needs_every_approver(org, policy, second_finance):
    # given a memo above the finance threshold
    request = approval_submit(document=make_memo(org.rep1a, "200000"), by=org.rep1a)
    approval_approve(request=request, by=org.sup1)
    approval_approve(request=request, by=org.manager1)
    # then both finance users are asked, and one approval is not enough
    assert waiting(request) == {"finance", "finance2"}
    request = approval_approve(request=request, by=org.finance)
    assert request.status == RequestStatus.PENDING
    assert waiting(request) == {"finance2"}
    request = approval_approve(request=request, by=second_finance)
    assert request.status == RequestStatus.APPROVED


def test_any_mode_step_is_done_by_the_first_approver(org, policy, second_finance):
    # given the finance step in any-one mode
    ApprovalStep.objects.filter(policy=policy, order=3).update(mode="any")
    request = approval_submit(document=make_memo(org.rep1a, "200000"), by=org.rep1a)
    approval_approve(request=request, by=org.sup1)
    approval_approve(request=request, by=org.manager1)
    # when one finance user approves
    request = approval_approve(request=request, by=second_finance)
    # then the request is approved and the other finance task is no longer needed
    assert request.status == RequestStatus.APPROVED
    other = ApprovalTask.objects.get(request=request, approver=org.finance)
    assert other.status == TaskStatus.SUPERSEDED


def test_reject_needs_a_comment_and_changes_nothing_without_it(org, policy, memo):
    request = approval_submit(document=memo, by=org.rep1a)
    with pytest.raises(ValidationError) as err:
        approval_reject(request=request, by=org.sup1, comment="  ")
    assert "comment" in err.value.message_dict
    assert waiting(request) == {"sup1"}
    assert fresh(memo).status == "pending"


def test_reject_returns_to_author_and_resubmit_opens_round_two(org, policy, memo):
    # given a submitted memo
    request = approval_submit(document=memo, by=org.rep1a)
    # when the supervisor returns it with a reason
    request = approval_reject(request=request, by=org.sup1, comment="Price list is outdated")
    # then it is back in draft, and the rep is told why
    assert request.status == RequestStatus.REJECTED
    assert fresh(memo).status == "draft"
    note = Notification.objects.get(recipient=org.rep1a, kind="approval_rejected")
    assert note.body == "Price list is outdated"
    # when the rep revises and resubmits
    request = approval_submit(document=fresh(memo), by=org.rep1a)
    # then round 2 waits for the supervisor, and round 1 stays readable
    assert request.round == 2
    assert waiting(request) == {"sup1"}
    rounds = sorted(
        ApprovalDecision.objects.filter(request=request).values_list("round", "decision")
    )
    assert rounds == [(1, "reject"), (1, "submit"), (2, "submit")]
    assert ApprovalTask.objects.get(request=request, round=1).status == TaskStatus.REJECTED


def test_withdraw_by_submitter_cancels_waiting_tasks(org, policy, memo):
    request = approval_submit(document=memo, by=org.rep1a)
    request = approval_withdraw(request=request, by=org.rep1a)
    assert request.status == RequestStatus.WITHDRAWN
    assert fresh(memo).status == "draft"
    assert waiting(request) == set()
    assert ApprovalTask.objects.get(request=request).status == TaskStatus.CANCELLED


def test_only_the_submitter_can_withdraw(org, policy, memo):
    request = approval_submit(document=memo, by=org.rep1a)
    with pytest.raises(PermissionDenied):
        approval_withdraw(request=request, by=org.sup1)
    assert waiting(request) == {"sup1"}


def test_an_approved_request_cannot_be_withdrawn_or_resubmitted(org, policy, memo):
    request = approval_submit(document=memo, by=org.rep1a)
    request = approval_approve(request=request, by=org.sup1)
    with pytest.raises(Conflict):
        approval_withdraw(request=request, by=org.rep1a)
    with pytest.raises(Conflict):
        approval_submit(document=fresh(memo), by=org.rep1a)


def test_a_pending_document_cannot_be_submitted_twice(org, policy, memo):
    approval_submit(document=memo, by=org.rep1a)
    with pytest.raises(Conflict):
        approval_submit(document=fresh(memo), by=org.rep1a)


def test_only_the_owner_submits(org, policy, memo):
    with pytest.raises(PermissionDenied):
        approval_submit(document=memo, by=org.rep1b)


def test_submitting_without_a_policy_is_a_conflict(org, memo):
    with pytest.raises(Conflict):
        approval_submit(document=memo, by=org.rep1a)
    assert fresh(memo).status == "draft"


def test_supervisor_cannot_approve_own_submission_it_goes_to_the_head_above(org, policy):
    # given a memo of the supervisor who heads team1 (the "direct supervisor" is himself)
    memo = make_memo(org.sup1, "50000")
    # when he submits it
    request = approval_submit(document=memo, by=org.sup1)
    # then the step goes to the head above: the manager
    assert waiting(request) == {"manager1"}
    with pytest.raises(PermissionDenied):
        approval_approve(request=request, by=org.sup1)
    # and the manager step is not asked twice of the same manager
    request = approval_approve(request=request, by=org.manager1)
    assert request.status == RequestStatus.APPROVED


def test_named_user_who_is_the_submitter_escalates_to_the_head_above(org, policy):
    # given a chain whose only step is a named user
    policy.steps.all().delete()
    ApprovalStep.objects.create(
        policy=policy, order=1, name="Named", approver_kind="named_user", user=org.rep1a
    )
    # when that very user submits
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    # then the step goes to the head above (the team's supervisor)
    assert waiting(request) == {"sup1"}


def test_head_of_unit_above_for_a_rep_is_the_department_manager(org, policy):
    policy.steps.all().delete()
    ApprovalStep.objects.create(
        policy=policy, order=1, name="Above", approver_kind="unit_above_head"
    )
    request = approval_submit(document=make_memo(org.rep3a), by=org.rep3a)
    assert waiting(request) == {"manager2"}


def test_no_approver_anywhere_is_a_clear_conflict(org, policy):
    # given a manager, above whom nobody heads anything, submits to a manager-only chain
    policy.steps.all().delete()
    ApprovalStep.objects.create(
        policy=policy, order=1, name="Manager", approver_kind="role", role="manager"
    )
    org.manager2.role = "rep"  # the only other manager is no longer one
    org.manager2.save()
    with pytest.raises(Conflict) as err:
        approval_submit(document=make_memo(org.manager1), by=org.manager1)
    assert err.value.code == "no_approver"


def test_approver_out_of_turn_gets_a_conflict_and_outsider_a_permission_error(org, policy):
    # given a memo waiting for the supervisor, with a manager step later
    request = approval_submit(document=make_memo(org.rep1a, "50000"), by=org.rep1a)
    # when the manager acts before his turn: a conflict (409), nothing changes
    with pytest.raises(Conflict) as err:
        approval_approve(request=request, by=org.manager1)
    assert err.value.code == "not_your_turn"
    # when someone with no part in it acts: permission denied (403)
    with pytest.raises(PermissionDenied):
        approval_approve(request=request, by=org.sup3)
    with pytest.raises(PermissionDenied):
        approval_reject(request=request, by=org.rep1b, comment="no")
    assert waiting(request) == {"sup1"}


def test_an_approver_cannot_decide_twice(org, policy):
    request = approval_submit(document=make_memo(org.rep1a, "50000"), by=org.rep1a)
    approval_approve(request=request, by=org.sup1)
    with pytest.raises(Conflict):
        approval_approve(request=request, by=org.sup1)
    assert ApprovalDecision.objects.filter(request=request, decision="approve").count() == 1


def test_delegate_receives_tasks_in_the_date_range_and_the_record_says_so(org, policy):
    # given sup1 delegates to rep1b for this week
    today = timezone.localdate()
    Delegation.objects.create(
        user=org.sup1, delegate=org.rep1b, starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=5), reason="Trade fair",
    )  # fmt: skip
    # when rep1a submits
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    # then the task is the delegate's, on behalf of sup1, and the decision records it
    task = ApprovalTask.objects.get(request=request)
    assert (task.approver, task.delegated_from) == (org.rep1b, org.sup1)
    request = approval_approve(request=request, by=org.rep1b, comment="ok")
    decision = ApprovalDecision.objects.get(request=request, decision="approve")
    assert (decision.actor, decision.on_behalf_of) == (org.rep1b, org.sup1)
    assert request.status == RequestStatus.APPROVED


def test_delegation_outside_its_dates_does_not_apply(org, policy):
    today = timezone.localdate()
    Delegation.objects.create(
        user=org.sup1, delegate=org.rep1b, starts_on=today + timedelta(days=1),
        ends_on=today + timedelta(days=5),
    )  # fmt: skip
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    assert waiting(request) == {"sup1"}


def test_delegation_to_the_submitter_is_ignored(org, policy):
    today = timezone.localdate()
    Delegation.objects.create(user=org.sup1, delegate=org.rep1a, starts_on=today, ends_on=today)
    request = approval_submit(document=make_memo(org.rep1a), by=org.rep1a)
    assert waiting(request) == {"sup1"}


def test_document_under_approval_cannot_be_edited(org, policy, memo):
    approval_assert_editable(memo)  # a draft is editable
    request = approval_submit(document=memo, by=org.rep1a)
    with pytest.raises(Conflict):
        approval_assert_editable(fresh(memo))
    approval_reject(request=request, by=org.sup1, comment="fix it")
    approval_assert_editable(fresh(memo))  # returned: editable again


def test_overlapping_delegations_are_refused(org):
    # given sup1 has a delegate for days 1–5
    from apps.approvals.delegations import delegation_create

    today = timezone.localdate()
    delegation_create(
        user=org.sup1, delegate=org.rep1b, starts_on=today, ends_on=today + timedelta(days=5)
    )
    # when another delegation overlaps day 5 / then it is refused on its dates, nothing added
    with pytest.raises(ValidationError) as err:
        delegation_create(
            user=org.sup1, delegate=org.rep1a, starts_on=today + timedelta(days=5),
            ends_on=today + timedelta(days=9),
        )  # fmt: skip
    assert "starts_on" in err.value.message_dict
    assert Delegation.objects.filter(user=org.sup1).count() == 1
    # and one right after the first is fine
    delegation_create(
        user=org.sup1, delegate=org.rep1a, starts_on=today + timedelta(days=6),
        ends_on=today + timedelta(days=9),
    )  # fmt: skip
