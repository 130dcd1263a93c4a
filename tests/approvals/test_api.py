"""`/api/v1/approvals/` and `/api/v1/delegations/`: the flow through the API, scope (404), the
approver's right (403), turn and state (409), validation (400), idempotency, query budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.approvals.choices import Decision, RequestStatus, TaskStatus
from apps.approvals.models import ApprovalDecision, ApprovalRequest, ApprovalTask, Delegation
from apps.approvals.services import approval_approve, approval_reject, approval_submit
from tests.api.conftest import assert_problem
from tests.testapp.models import Memo, memo_new

from ..factories import UserFactory
from .conftest import make_memo

APPROVALS = "/api/v1/approvals/"
INBOX = "/api/v1/approvals/inbox/"
DELEGATIONS = "/api/v1/delegations/"
NOTIFICATIONS = "/api/v1/notifications/"


def client_for(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def detail(request: ApprovalRequest) -> str:
    return f"{APPROVALS}{request.pk}/"


def post(client: APIClient, request: ApprovalRequest, transition: str, body=None, **extra):
    return client.post(f"{detail(request)}{transition}/", body or {}, format="json", **extra)


def submitted(owner, amount: str = "50000") -> ApprovalRequest:
    """A memo of `owner` submitted through the service (there is no submit endpoint for memos)."""
    return approval_submit(document=make_memo(owner, amount), by=owner)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- the flow ----------------------------------------------------------------------------


def test_inbox_lists_the_request_waiting_for_the_caller(org, policy):
    # given a rep's memo submitted to their supervisor
    request = submitted(org.rep1a)
    task = ApprovalTask.objects.get(request=request, approver=org.sup1)
    # when the supervisor opens "waiting for me"
    response = client_for(org.sup1).get(INBOX)
    # then the request is there with the task waiting for them
    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    assert row["id"] == request.pk
    assert row["task_id"] == task.pk
    assert row["step_name"] == "Supervisor review"
    assert row["title"] == request.title
    assert row["submitter"] == {"id": org.rep1a.pk, "display_name": org.rep1a.display_name}
    assert row["status"] == "pending"
    assert row["delegated_from"] is None
    assert row["waiting_since"]


def test_inbox_does_not_list_work_of_others_or_of_later_steps(org, policy):
    # given a memo waiting for the supervisor (the manager's step comes later)
    submitted(org.rep1a)
    # when the manager and another supervisor open their inboxes
    manager_rows = client_for(org.manager1).get(INBOX).json()["results"]
    other_rows = client_for(org.sup2).get(INBOX).json()["results"]
    # then neither sees it
    assert manager_rows == []
    assert other_rows == []


def test_supervisor_then_manager_approve_through_the_api(org, policy):
    # given a memo above the manager's threshold, submitted by the rep
    request = submitted(org.rep1a, "50000")
    # when the supervisor approves, then the manager
    first = post(client_for(org.sup1), request, "approve", {"comment": "Fine by me"})
    second = post(client_for(org.manager1), request, "approve")
    # then each answer is the updated request, and the last one approves it
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending"
    assert first.json()["current_step_name"] == "Manager approval"
    assert second.status_code == 200, second.content
    assert second.json()["status"] == "approved"
    assert second.json()["decided_at"] is not None
    assert Memo.objects.get(pk=request.object_id).status == "approved"


def test_detail_of_an_approved_request_shows_every_decision(org, policy):
    # given a memo approved through both steps over the API
    request = submitted(org.rep1a, "50000")
    post(client_for(org.sup1), request, "approve", {"comment": "Fine by me"})
    post(client_for(org.manager1), request, "approve")
    # when the submitter opens it
    body = client_for(org.rep1a).get(detail(request)).json()
    # then it is approved, with both steps' tasks and the three decisions of the round
    assert body["status"] == "approved"
    assert body["available_transitions"] == []
    [round_1] = body["rounds"]
    assert round_1["round"] == 1
    assert [(t["step_name"], t["approver"]["id"], t["status"]) for t in round_1["tasks"]] == [
        ("Supervisor review", org.sup1.pk, "approved"),
        ("Manager approval", org.manager1.pk, "approved"),
    ]
    assert [(d["decision"], d["actor"]["id"], d["comment"]) for d in round_1["decisions"]] == [
        ("submit", org.rep1a.pk, ""),
        ("approve", org.sup1.pk, "Fine by me"),
        ("approve", org.manager1.pk, ""),
    ]
    assert round_1["decisions"][1]["decision_display"] == "Approved"


def test_detail_shows_every_round_newest_first(org, policy, memo):
    # given a memo returned once and resubmitted
    request = approval_submit(document=memo, by=org.rep1a)
    approval_reject(request=request, by=org.sup1, comment="Add the quote")
    approval_submit(document=Memo.objects.get(pk=memo.pk), by=org.rep1a)
    # when the submitter opens the request
    body = client_for(org.rep1a).get(detail(request)).json()
    # then round 2 comes first and round 1 keeps its return comment
    assert body["round"] == 2
    assert [r["round"] for r in body["rounds"]] == [2, 1]
    assert [d["decision"] for d in body["rounds"][1]["decisions"]] == ["submit", "reject"]
    assert body["rounds"][1]["decisions"][1]["comment"] == "Add the quote"


# --- reject ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "   "}])
def test_reject_without_comment_is_400_naming_comment_and_changes_nothing(org, policy, body):
    # given a memo waiting for the supervisor
    request = submitted(org.rep1a)
    # when the supervisor returns it without a comment
    response = post(client_for(org.sup1), request, "reject", body)
    # then 400 naming the comment, and the request still waits for the supervisor
    problem = assert_problem(response, 400, "validation-error")
    assert problem["errors"][0]["field"] == "comment"
    assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING
    assert ApprovalTask.objects.get(request=request).status == TaskStatus.WAITING
    assert not ApprovalDecision.objects.filter(request=request, decision=Decision.REJECT).exists()


def test_reject_with_comment_returns_the_request(org, policy):
    # given a memo waiting for the supervisor
    request = submitted(org.rep1a)
    # when the supervisor returns it with a comment
    response = post(client_for(org.sup1), request, "reject", {"comment": "Add the quote"})
    # then the answer is the returned request, with the comment in its round
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "rejected"
    assert body["available_transitions"] == []
    assert body["rounds"][0]["decisions"][-1]["decision"] == "reject"
    assert body["rounds"][0]["decisions"][-1]["comment"] == "Add the quote"
    assert Memo.objects.get(pk=request.object_id).status == "draft"


def test_submitter_finds_the_return_comment_in_their_notifications(org, policy):
    # given a memo returned with a comment over the API
    request = submitted(org.rep1a)
    post(client_for(org.sup1), request, "reject", {"comment": "Add the quote"})
    # when the submitter lists their notifications
    response = client_for(org.rep1a).get(NOTIFICATIONS)
    # then the return is there, with the comment, by the supervisor
    assert response.status_code == 200, response.content
    [returned] = [n for n in response.json()["results"] if n["kind"] == "approval_rejected"]
    assert returned["body"] == "Add the quote"
    assert returned["title"] == f"Returned: {request.title}"
    assert returned["actor"]["id"] == org.sup1.pk
    assert returned["is_read"] is False


# --- who may decide ----------------------------------------------------------------------


def test_approve_out_of_turn_is_409(org, policy):
    # given a memo whose supervisor step waits (the manager approves later)
    request = submitted(org.rep1a, "50000")
    # when the manager approves now
    response = post(client_for(org.manager1), request, "approve")
    # then 409: not their turn, and nothing was decided
    assert_problem(response, 409, "conflict")
    assert ApprovalDecision.objects.filter(request=request).count() == 1  # the submission


@pytest.mark.parametrize(
    "viewer",
    [
        "manager1",  # heads the submitter's department; no manager step below 10,000
        "admin",  # scope: all
    ],
)
def test_approve_by_someone_who_sees_it_but_approves_no_step_is_403(org, policy, viewer):
    # given a small memo (only the supervisor approves it), which the viewer may see
    request = submitted(org.rep1a, "5000")
    # when the viewer approves it
    response = post(client_for(getattr(org, viewer)), request, "approve")
    # then 403, and the supervisor's task still waits
    assert_problem(response, 403, "permission-denied")
    assert ApprovalTask.objects.get(request=request).status == TaskStatus.WAITING


@pytest.mark.parametrize("outsider", ["rep2a", "rep3a", "sup2", "manager2"])
def test_approve_by_someone_who_cannot_see_it_is_404(org, policy, outsider):
    # given a pending memo of team 1
    request = submitted(org.rep1a)
    # when someone outside its scope approves it
    response = post(client_for(getattr(org, outsider)), request, "approve")
    # then 404, as if it did not exist
    assert_problem(response, 404, "not-found")
    assert ApprovalTask.objects.get(request=request).status == TaskStatus.WAITING


def test_approve_a_decided_request_is_409(org, policy):
    # given a memo the supervisor already approved (no other step applies)
    request = submitted(org.rep1a, "5000")
    approval_approve(request=request, by=org.sup1)
    # when the supervisor approves again
    response = post(client_for(org.sup1), request, "approve")
    # then 409: nothing is pending
    assert_problem(response, 409, "conflict")


def test_reject_out_of_turn_is_409(org, policy):
    # given a memo whose supervisor step waits
    request = submitted(org.rep1a, "50000")
    # when the manager returns it now
    response = post(client_for(org.manager1), request, "reject", {"comment": "No"})
    # then 409 and it is still pending
    assert_problem(response, 409, "conflict")
    assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING


# --- withdraw ----------------------------------------------------------------------------


def test_withdraw_by_submitter_ends_the_request(org, policy):
    # given a pending memo
    request = submitted(org.rep1a)
    # when its submitter withdraws it
    response = post(client_for(org.rep1a), request, "withdraw", {"comment": "Wrong figures"})
    # then it is withdrawn and nobody may do anything more with it
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    assert response.json()["available_transitions"] == []
    assert ApprovalTask.objects.get(request=request).status == TaskStatus.CANCELLED


@pytest.mark.parametrize("viewer", ["sup1", "admin"])
def test_withdraw_by_someone_else_who_sees_it_is_403(org, policy, viewer):
    # given a pending memo, seen by the supervisor and the administrator
    request = submitted(org.rep1a)
    # when one of them withdraws it
    response = post(client_for(getattr(org, viewer)), request, "withdraw")
    # then 403 and it is still pending
    assert_problem(response, 403, "permission-denied")
    assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING


def test_withdraw_by_someone_who_cannot_see_it_is_404(org, policy):
    # given a pending memo of team 1
    request = submitted(org.rep1a)
    # when a rep of another team withdraws it
    response = post(client_for(org.rep3a), request, "withdraw")
    # then 404
    assert_problem(response, 404, "not-found")


def test_withdraw_a_decided_request_is_409(org, policy):
    # given an approved memo
    request = submitted(org.rep1a, "5000")
    approval_approve(request=request, by=org.sup1)
    # when its submitter withdraws it
    response = post(client_for(org.rep1a), request, "withdraw")
    # then 409
    assert_problem(response, 409, "conflict")


# --- available transitions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "transitions"),
    [
        ("rep1a", ["withdraw"]),  # the submitter
        ("sup1", ["approve", "reject"]),  # the current step's approver
        ("manager1", []),  # approves later: not yet
        ("admin", []),  # sees all, approves nothing
    ],
)
def test_available_transitions_depend_on_the_caller(org, policy, viewer, transitions):
    # given a memo waiting for the supervisor, with a manager step after
    request = submitted(org.rep1a, "50000")
    # when the viewer opens it
    response = client_for(getattr(org, viewer)).get(detail(request))
    # then they are offered exactly what they may do
    assert response.status_code == 200, response.content
    assert response.json()["available_transitions"] == transitions


def test_available_transitions_follow_the_turn(org, policy):
    # given the supervisor approved, so the manager's step waits
    request = submitted(org.rep1a, "50000")
    approval_approve(request=request, by=org.sup1)
    # when the supervisor and the manager open it
    supervisor = client_for(org.sup1).get(detail(request)).json()
    manager = client_for(org.manager1).get(detail(request)).json()
    # then only the manager may decide now
    assert supervisor["available_transitions"] == []
    assert manager["available_transitions"] == ["approve", "reject"]


# --- idempotency -------------------------------------------------------------------------


def test_approve_retried_with_the_same_key_replays_and_decides_once(org, policy):
    # given a memo waiting for the supervisor
    request = submitted(org.rep1a, "50000")
    client = client_for(org.sup1)
    # when the supervisor's approval is sent twice with the same Idempotency-Key
    first = post(client, request, "approve", {"comment": "ok"}, HTTP_IDEMPOTENCY_KEY="appr-1")
    second = post(client, request, "approve", {"comment": "ok"}, HTTP_IDEMPOTENCY_KEY="appr-1")
    # then the second answer replays the first, and there is one approval only
    assert first.status_code == 200, first.content
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert ApprovalDecision.objects.filter(request=request, decision=Decision.APPROVE).count() == 1


# --- list, detail, scope -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("rep1a", True),  # submitter
        ("sup1", True),  # head of the submitter's team, and approver
        ("manager1", True),  # head of the department
        ("admin", True),
        ("erp", True),
        ("rep1b", False),  # same team, not the submitter
        ("rep3a", False),
        ("sup2", False),
        ("manager2", False),
        ("finance", False),  # approves above 100,000 only; the scope of own records otherwise
    ],
)
def test_list_is_scoped(org, policy, viewer, sees):
    # given a pending memo of rep1a
    request = submitted(org.rep1a)
    # when the viewer lists approvals
    response = client_for(getattr(org, viewer)).get(APPROVALS)
    # then they see it exactly when it is in their scope or they approve in it
    assert (request.pk in ids(response)) is sees


@pytest.mark.parametrize("viewer", ["rep1b", "rep3a", "sup2", "manager2", "finance"])
def test_detail_outside_scope_is_404(org, policy, viewer):
    # given a pending memo of rep1a
    request = submitted(org.rep1a)
    # when someone outside its scope opens it
    response = client_for(getattr(org, viewer)).get(detail(request))
    # then 404
    assert_problem(response, 404, "not-found")


def test_approver_sees_a_request_outside_their_data_scope(org, policy, second_finance):
    # given a memo above the finance threshold that reached the finance step
    request = submitted(org.rep1a, "200000")
    approval_approve(request=request, by=org.sup1)
    approval_approve(request=request, by=org.manager1)
    # when a finance user (whose own scope holds no memo of rep1a) lists and opens approvals
    client = client_for(org.finance)
    # then they see the request they approve in, and may decide it
    assert request.pk in ids(client.get(APPROVALS))
    assert client.get(detail(request)).json()["available_transitions"] == ["approve", "reject"]


def test_list_filters_by_status(org, policy):
    # given one approved and one pending request
    approved = submitted(org.rep1a, "5000")
    approval_approve(request=approved, by=org.sup1)
    pending = submitted(org.rep1a, "6000")
    client = client_for(org.rep1a)
    # when the submitter filters by status
    only_approved = ids(client.get(APPROVALS, {"status": "approved"}))
    only_pending = ids(client.get(APPROVALS, {"status": "pending"}))
    # then each filter keeps its own
    assert only_approved == {approved.pk}
    assert only_pending == {pending.pk}


def test_list_filters_by_document_type(org, policy):
    # given a request on a memo
    request = submitted(org.rep1a)
    client = client_for(org.rep1a)
    # when the list is filtered by document type
    memos = ids(client.get(APPROVALS, {"document_type": "testapp.memo"}))
    contracts = ids(client.get(APPROVALS, {"document_type": "contracts.contract"}))
    # then only that type is kept
    assert memos == {request.pk}
    assert contracts == set()


def test_list_searches_the_title(org, policy):
    # given two memos with different titles
    toner = memo_new(owner=org.rep1a, title="Printer toner")
    paper = memo_new(owner=org.rep1a, title="Copy paper")
    wanted = approval_submit(document=toner, by=org.rep1a)
    approval_submit(document=paper, by=org.rep1a)
    # when the submitter searches for part of one title
    found = ids(client_for(org.rep1a).get(APPROVALS, {"search": "TONER"}))
    # then only that one is found
    assert found == {wanted.pk}


def test_unknown_status_filter_is_400_naming_status(org, policy):
    # given / when the list is filtered by a status that does not exist
    response = client_for(org.rep1a).get(APPROVALS, {"status": "lost"})
    # then 400 naming the parameter
    problem = assert_problem(response, 400, "validation-error")
    assert problem["errors"][0]["field"] == "status"


@pytest.mark.parametrize("path", [APPROVALS, INBOX, DELEGATIONS])
def test_anonymous_caller_is_401(db, path):
    # given / when an anonymous client lists
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").get(path)
    # then 401
    assert_problem(response, 401, "not-authenticated")


# --- query budgets -----------------------------------------------------------------------


def _queries(viewer, path: str, expected_rows: int) -> int:
    # A fresh user object each time: the scope caches the units a user heads on the object.
    client = client_for(User.objects.get(pk=viewer.pk))
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, {"page_size": 100})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == expected_rows
    return len(captured)


def test_list_query_count_does_not_grow_with_rows(org, policy):
    # given a supervisor whose team submitted 3 requests
    for i in range(3):
        submitted(org.rep1a if i % 2 else org.rep1b, "5000")
    few = _queries(org.sup1, APPROVALS, 3)
    # when the team has submitted 30
    for i in range(27):
        submitted(org.rep1a if i % 2 else org.rep1b, "5000")
    many = _queries(org.sup1, APPROVALS, 30)
    # then listing them costs the same few queries
    assert many == few
    assert many <= 2  # the units the viewer heads (scope), the page


def test_inbox_query_count_does_not_grow_with_rows(org, policy):
    # given a supervisor with 3 tasks waiting
    for i in range(3):
        submitted(org.rep1a if i % 2 else org.rep1b, "5000")
    few = _queries(org.sup1, INBOX, 3)
    # when 30 are waiting
    for i in range(27):
        submitted(org.rep1a if i % 2 else org.rep1b, "5000")
    many = _queries(org.sup1, INBOX, 30)
    # then the inbox costs the same few queries
    assert many == few
    assert many == 1  # tasks joined to their requests, submitters and delegators


# --- delegations -------------------------------------------------------------------------


def _delegation_body(delegate, *, starts_in: int = 0, ends_in: int = 7, **extra) -> dict:
    today = timezone.localdate()
    return {
        "delegate": delegate.pk,
        "starts_on": (today + timedelta(days=starts_in)).isoformat(),
        "ends_on": (today + timedelta(days=ends_in)).isoformat(),
        **extra,
    }


def test_create_delegation(org):
    # given a supervisor going on leave
    client = client_for(org.sup1)
    # when they delegate to another supervisor
    response = client.post(
        DELEGATIONS, _delegation_body(org.sup2, reason="Annual leave"), format="json"
    )
    # then the delegation is theirs, to that delegate, current today
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["id"] == org.sup1.pk
    assert body["delegate"] == {"id": org.sup2.pk, "display_name": org.sup2.display_name}
    assert body["reason"] == "Annual leave"
    assert body["is_current"] is True
    assert Delegation.objects.filter(user=org.sup1, delegate=org.sup2).count() == 1


def test_delegate_finds_the_delegated_task_in_their_inbox(org, policy):
    # given the supervisor delegated over the API for this week
    client_for(org.sup1).post(DELEGATIONS, _delegation_body(org.sup2), format="json")
    # when a rep of the supervisor's team submits
    request = submitted(org.rep1a)
    # then the delegate's inbox has it, on behalf of the supervisor
    [row] = client_for(org.sup2).get(INBOX).json()["results"]
    assert row["id"] == request.pk
    assert row["delegated_from"]["id"] == org.sup1.pk


def test_delegation_ending_before_it_starts_is_400_naming_ends_on(org):
    # given / when a delegation ends before it starts
    response = client_for(org.sup1).post(
        DELEGATIONS, _delegation_body(org.sup2, starts_in=5, ends_in=1), format="json"
    )
    # then 400 naming ends_on, and nothing is created
    problem = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["ends_on"]
    assert not Delegation.objects.exists()


def test_delegation_to_oneself_is_400_naming_delegate(org):
    # given / when a supervisor delegates to themselves
    response = client_for(org.sup1).post(DELEGATIONS, _delegation_body(org.sup1), format="json")
    # then 400 naming the delegate
    problem = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["delegate"]
    assert not Delegation.objects.exists()


def test_delegation_to_an_inactive_user_is_400_naming_delegate(org):
    # given a user who left
    gone = UserFactory(username="gone", is_active=False, org_unit=org.team2)
    # when a supervisor delegates to them
    response = client_for(org.sup1).post(DELEGATIONS, _delegation_body(gone), format="json")
    # then 400 naming the delegate
    problem = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["delegate"]
    assert not Delegation.objects.exists()


def test_delegation_list_holds_only_the_callers_own(org):
    # given delegations of two supervisors
    mine = client_for(org.sup1).post(DELEGATIONS, _delegation_body(org.sup2), format="json")
    client_for(org.sup2).post(DELEGATIONS, _delegation_body(org.sup3), format="json")
    # when the first lists delegations
    listed = ids(client_for(org.sup1).get(DELEGATIONS))
    # then only theirs is there
    assert listed == {mine.json()["id"]}


def test_delete_own_delegation(org):
    # given a supervisor's delegation
    client = client_for(org.sup1)
    created = client.post(DELEGATIONS, _delegation_body(org.sup2), format="json").json()
    # when they cancel it
    response = client.delete(f"{DELEGATIONS}{created['id']}/")
    # then it is gone
    assert response.status_code == 204, response.content
    assert not Delegation.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize("caller", ["sup2", "admin"])
def test_delete_someone_elses_delegation_is_404(org, caller):
    # given the first supervisor's delegation
    created = (
        client_for(org.sup1).post(DELEGATIONS, _delegation_body(org.sup2), format="json").json()
    )
    # when someone else (the delegate, an administrator) deletes it
    response = client_for(getattr(org, caller)).delete(f"{DELEGATIONS}{created['id']}/")
    # then 404, and it is still there
    assert_problem(response, 404, "not-found")
    assert Delegation.objects.filter(pk=created["id"]).exists()
