"""The approval pages: the inbox (待我审批), "submitted by me", a request's detail, the approval
panel's actions (htmx and plain POST), the generic submit, delegations, the nav badge and the
home panel. Through Django's test client against the real database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.approvals.choices import RequestStatus, TaskStatus
from apps.approvals.models import ApprovalDecision, ApprovalRequest, ApprovalTask, Delegation
from apps.approvals.services import approval_approve, approval_reject, approval_submit
from tests.testapp.models import Memo

from .conftest import make_memo

HTMX = {"HTTP_HX_REQUEST": "true"}


def english(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def waiting(request: ApprovalRequest) -> set[str]:
    return set(
        ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).values_list(
            "approver__username", flat=True
        )
    )


def status(request: ApprovalRequest) -> str:
    # A protected FSM field cannot be refreshed in place: read it again.
    return ApprovalRequest.objects.get(pk=request.pk).status


def submit(owner, amount: str = "5000", title: str | None = None) -> ApprovalRequest:
    memo = make_memo(owner, amount)
    if title:
        memo.title = title
        memo.save()
    return approval_submit(document=memo, by=owner)


def submit_url(memo: Memo) -> str:
    ct = ContentType.objects.get_for_model(Memo)
    return f"/approvals/submit/{ct.pk}/{memo.pk}/"


# --- Inbox -----------------------------------------------------------------------------------


def test_inbox_shows_only_the_tasks_waiting_for_the_user(client, org, policy):
    # given a memo waiting for sup1 and one waiting for sup2
    mine = submit(org.rep1a, title="Memo for team 1")
    other = submit(org.rep2a, title="Memo for team 2")
    client.force_login(org.sup1)
    # when sup1 opens the inbox
    response = client.get("/approvals/")
    # then only their task is listed
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-request="{mine.pk}"' in html
    assert f'data-request="{other.pk}"' not in html


def test_inbox_leaves_out_tasks_already_decided(client, org, policy):
    # given a memo sup1 approved already
    request = submit(org.rep1a, "50000")
    approval_approve(request=request, by=org.sup1)
    client.force_login(org.sup1)
    # when
    html = client.get("/approvals/").content.decode()
    # then it is gone from sup1's inbox
    assert f'data-request="{request.pk}"' not in html


def test_inbox_search_on_title_narrows_the_list(client, org, policy):
    # given two memos waiting for sup1
    wanted = submit(org.rep1a, title="Trade show budget")
    unwanted = submit(org.rep1b, title="Printer toner")
    client.force_login(org.sup1)
    # when sup1 searches, as the search box does (htmx: only the results)
    response = client.get("/approvals/", {"q": "trade"}, **HTMX)
    # then
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="inbox-results"')
    assert f'data-request="{wanted.pk}"' in html
    assert f'data-request="{unwanted.pk}"' not in html


def test_inbox_filters_by_document_type(client, org, policy):
    # given a memo waiting for sup1
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    # when filtered by another type, then by the memo's
    other = client.get("/approvals/", {"type": "contracts.contract"}).content.decode()
    memos = client.get("/approvals/", {"type": "testapp.memo"}).content.decode()
    # then
    assert f'data-request="{request.pk}"' not in other
    assert f'data-request="{request.pk}"' in memos


def test_inbox_marks_tasks_waiting_longer_than_the_reminder_limit(client, org, policy):
    # given a task waiting 30 hours with a 24-hour reminder limit, and a fresh one
    old = submit(org.rep1a, title="Old memo")
    ApprovalTask.objects.filter(request=old).update(created_at=timezone.now() - timedelta(hours=30))
    fresh = submit(org.rep1b, title="Fresh memo")
    client.force_login(org.sup1)
    # when
    html = client.get("/approvals/").content.decode()
    # then only the old one is flagged late
    old_row = html.split(f'id="inbox-task-{old.pk}"')[1].split("</tbody>")[0]
    fresh_row = html.split(f'id="inbox-task-{fresh.pk}"')[1].split("</tbody>")[0]
    assert 'data-late="1"' in old_row
    assert 'data-late="1"' not in fresh_row


def test_inbox_notes_a_task_delegated_from_another_approver(client, org, policy):
    # given sup1 delegated to sup2 for today, then rep1a submits
    today = timezone.localdate()
    Delegation.objects.create(user=org.sup1, delegate=org.sup2, starts_on=today, ends_on=today)
    request = submit(org.rep1a)
    client.force_login(org.sup2)
    english(client)
    # when the delegate opens the inbox
    html = client.get("/approvals/").content.decode()
    # then the task says on whose behalf
    row = html.split(f'id="inbox-task-{request.pk}"')[1].split("</tbody>")[0]
    assert f"on behalf of {org.sup1.display_name}" in row


def _inbox_queries(client, user) -> int:
    client.force_login(user)
    client.get("/approvals/")  # warm the session and the content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/approvals/")
    assert response.status_code == 200
    return len(queries)


def test_inbox_queries_do_not_grow_with_the_number_of_tasks(client, org, policy):
    # given 3 tasks waiting for sup1
    for _ in range(3):
        submit(org.rep1a)
    few = _inbox_queries(client, org.sup1)
    # when 27 more arrive, from two submitters, some delegated
    for _ in range(14):
        submit(org.rep1b)
    today = timezone.localdate()
    Delegation.objects.create(user=org.sup2, delegate=org.sup1, starts_on=today, ends_on=today)
    for _ in range(13):
        submit(org.rep2a)
    assert ApprovalTask.objects.filter(approver=org.sup1, status="waiting").count() == 30
    many = _inbox_queries(client, org.sup1)
    # then the page costs the same number of queries
    assert many == few


# --- Actions: approve, return, withdraw -----------------------------------------------------


def test_approve_through_the_panel_moves_the_chain_to_the_next_step(client, org, policy):
    # given a 50,000 memo waiting for sup1 (then the manager)
    request = submit(org.rep1a, "50000")
    client.force_login(org.sup1)
    english(client)
    # when sup1 approves with htmx, as the panel's button does
    response = client.post(f"/approvals/{request.pk}/approve/", {"comment": "Fine"}, **HTMX)
    # then the panel comes back showing the manager's step, and the chain moved on
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<section class="card panel approval-panel"')
    assert "You approved this document." in html
    assert 'data-step-state="current"' in html
    assert response["HX-Trigger"] == "approvals-changed"
    assert waiting(request) == {"manager1"}
    decision = ApprovalDecision.objects.get(request=request, decision="approve")
    assert (decision.actor, decision.comment) == (org.sup1, "Fine")


def test_approve_without_javascript_redirects_back_with_a_message(client, org, policy):
    # given
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    english(client)
    # when a plain form POST (no htmx) comes from the memo page
    response = client.post(
        f"/approvals/{request.pk}/approve/", {"next": f"/test/memos/{request.object_id}/"}
    )
    # then it redirects back and the next page shows the message
    assert response.status_code == 302
    assert response["Location"] == f"/test/memos/{request.object_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "You approved this document." in page
    assert Memo.objects.get(pk=request.object_id).status == "approved"


def test_approve_ignores_a_next_address_on_another_site(client, org, policy):
    # given
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    # when
    response = client.post(f"/approvals/{request.pk}/approve/", {"next": "https://evil.example/"})
    # then it goes to the request's own page
    assert response["Location"] == f"/approvals/{request.pk}/"


def test_return_without_a_comment_shows_the_field_error_and_changes_nothing(client, org, policy):
    # given a memo waiting for sup1
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    english(client)
    # when sup1 presses Return with an empty comment
    response = client.post(f"/approvals/{request.pk}/return/", {"comment": "  "}, **HTMX)
    # then the panel shows the error on the comment field
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="approval-comment-error"' in html
    assert "Say why the document is returned." in html
    # and nothing changed
    assert status(request) == RequestStatus.PENDING
    assert waiting(request) == {"sup1"}
    assert not ApprovalDecision.objects.filter(request=request, decision="reject").exists()


def test_return_with_a_comment_sends_the_document_back_to_its_author(client, org, policy):
    # given
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    english(client)
    # when
    response = client.post(f"/approvals/{request.pk}/return/", {"comment": "Add the quote"}, **HTMX)
    # then the panel shows the return and its reason
    html = response.content.decode()
    assert 'data-approval-status="rejected"' in html
    assert "Add the quote" in html
    assert status(request) == RequestStatus.REJECTED
    assert Memo.objects.get(pk=request.object_id).status == "draft"


def test_return_from_the_inbox_without_a_comment_reopens_the_row_form_with_the_error(
    client, org, policy
):
    # given
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    english(client)
    # when the inbox row's return form is posted empty
    response = client.post(
        f"/approvals/{request.pk}/return/", {"comment": "", "from": "inbox"}, **HTMX
    )
    # then the row comes back with its return form open and the error, and nothing changed
    html = response.content.decode()
    assert html.startswith(f'<tbody id="inbox-task-{request.pk}"')
    assert 'class="inbox-return-row collapse show"' in html
    assert 'data-testid="inbox-comment-error"' in html
    assert waiting(request) == {"sup1"}


def test_approve_from_the_inbox_replaces_the_row_with_the_outcome(client, org, policy):
    # given
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    # when
    response = client.post(f"/approvals/{request.pk}/approve/", {"from": "inbox"}, **HTMX)
    # then
    assert 'data-outcome="approved"' in response.content.decode()
    assert response["HX-Trigger"] == "approvals-changed"
    assert status(request) == RequestStatus.APPROVED


def test_approving_out_of_turn_shows_an_error_and_changes_nothing(client, org, policy):
    # given a 50,000 memo still at the supervisor's step
    request = submit(org.rep1a, "50000")
    client.force_login(org.manager1)
    english(client)
    # when the manager (a later step) tries to approve now
    response = client.post(f"/approvals/{request.pk}/approve/", **HTMX)
    # then the panel says it is not their turn
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="approval-error"' in html
    assert "not waiting for your decision now" in html
    assert "HX-Trigger" not in response
    # and nothing changed
    assert waiting(request) == {"sup1"}
    assert not ApprovalDecision.objects.filter(request=request, decision="approve").exists()


def test_approving_out_of_turn_without_javascript_redirects_with_the_error(client, org, policy):
    # given
    request = submit(org.rep1a, "50000")
    client.force_login(org.manager1)
    english(client)
    # when
    response = client.post(f"/approvals/{request.pk}/approve/", follow=True)
    # then
    assert "not waiting for your decision now" in response.content.decode()
    assert waiting(request) == {"sup1"}


def test_approving_a_decided_request_again_is_refused(client, org, policy):
    # given sup1 approved the memo already (the request is approved)
    request = submit(org.rep1a)
    approval_approve(request=request, by=org.sup1)
    client.force_login(org.sup1)
    english(client)
    # when sup1 posts approve a second time (e.g. a stale page)
    response = client.post(f"/approvals/{request.pk}/approve/", **HTMX)
    # then
    assert "nothing is waiting for a decision" in response.content.decode()
    assert ApprovalDecision.objects.filter(request=request, decision="approve").count() == 1


def test_user_outside_the_scope_cannot_reach_the_request_to_approve_it(client, org, policy):
    # given a memo of team 1
    request = submit(org.rep1a)
    client.force_login(org.sup3)  # another department's supervisor
    # when
    response = client.post(f"/approvals/{request.pk}/approve/", **HTMX)
    # then it does not exist for them, and nothing changed
    assert response.status_code == 404
    assert waiting(request) == {"sup1"}


def test_user_who_sees_the_request_but_has_no_part_in_it_is_forbidden(client, org, policy):
    # given (the admin sees everything but approves nothing here)
    request = submit(org.rep1a)
    client.force_login(org.admin)
    # when
    response = client.post(f"/approvals/{request.pk}/approve/", **HTMX)
    # then
    assert response.status_code == 403
    assert waiting(request) == {"sup1"}


def test_submitter_withdraws_through_the_panel(client, org, policy):
    # given
    request = submit(org.rep1a)
    client.force_login(org.rep1a)
    # when
    response = client.post(f"/approvals/{request.pk}/withdraw/", **HTMX)
    # then
    assert 'data-approval-status="withdrawn"' in response.content.decode()
    assert status(request) == RequestStatus.WITHDRAWN
    assert waiting(request) == set()


def test_someone_else_cannot_withdraw_a_submission(client, org, policy):
    # given
    request = submit(org.rep1a)
    client.force_login(org.sup1)
    # when
    response = client.post(f"/approvals/{request.pk}/withdraw/", **HTMX)
    # then
    assert response.status_code == 403
    assert status(request) == RequestStatus.PENDING


# --- The panel on a document's page, and the generic submit ---------------------------------


def test_memo_page_offers_the_owner_to_submit_and_previews_the_chain(client, org, policy):
    # given a draft memo above the manager's threshold
    memo = make_memo(org.rep1a, "50000")
    client.force_login(org.rep1a)
    english(client)
    # when the owner opens it
    html = client.get(f"/test/memos/{memo.pk}/").content.decode()
    # then the panel offers Submit and shows who will approve
    assert 'data-approval-status="none"' in html
    assert 'data-testid="approval-submit"' in html
    assert 'data-approver="sup1"' in html
    assert 'data-approver="manager1"' in html


def test_memo_page_offers_no_submit_to_someone_who_cannot_submit_it(client, org, policy):
    # given rep1a's draft memo, seen by their supervisor
    memo = make_memo(org.rep1a)
    client.force_login(org.sup1)
    # when
    html = client.get(f"/test/memos/{memo.pk}/").content.decode()
    # then
    assert 'data-testid="approval-submit"' not in html


def test_submit_through_the_generic_view_starts_the_chain(client, org, policy):
    # given
    memo = make_memo(org.rep1a)
    client.force_login(org.rep1a)
    english(client)
    # when the panel's Submit button posts
    response = client.post(submit_url(memo), {"comment": "Please"}, **HTMX)
    # then the panel shows the request, waiting for the supervisor
    html = response.content.decode()
    assert 'data-approval-status="pending"' in html
    assert "Submitted for approval." in html
    request = ApprovalRequest.objects.get(object_id=memo.pk)
    assert waiting(request) == {"sup1"}


def test_submit_of_a_document_outside_the_scope_is_404(client, org, policy):
    # given rep1a's memo
    memo = make_memo(org.rep1a)
    client.force_login(org.rep1b)
    # when a teammate posts a submit for it
    response = client.post(submit_url(memo))
    # then it does not exist for them, and nothing was created
    assert response.status_code == 404
    assert not ApprovalRequest.objects.filter(object_id=memo.pk).exists()


def test_submit_of_a_visible_document_by_someone_who_may_not_submit_it_is_403(client, org, policy):
    # given rep1a's memo, seen by their supervisor
    memo = make_memo(org.rep1a)
    client.force_login(org.sup1)
    # when
    response = client.post(submit_url(memo))
    # then
    assert response.status_code == 403
    assert not ApprovalRequest.objects.filter(object_id=memo.pk).exists()


def test_submit_of_an_unregistered_model_is_404(client, org):
    # given a content type that is not an approval document (a user)
    ct = ContentType.objects.get(app_label="accounts", model="user")
    client.force_login(org.rep1a)
    # when
    response = client.post(f"/approvals/submit/{ct.pk}/{org.rep1a.pk}/")
    # then
    assert response.status_code == 404


def test_submitting_twice_shows_a_conflict_and_creates_nothing_more(client, org, policy):
    # given a memo already pending
    request = submit(org.rep1a)
    memo = Memo.objects.get(pk=request.object_id)
    client.force_login(org.rep1a)
    english(client)
    # when
    response = client.post(submit_url(memo), **HTMX)
    # then
    assert "already under approval" in response.content.decode()
    assert ApprovalDecision.objects.filter(request=request, decision="submit").count() == 1


def test_panel_shows_the_return_comment_and_the_earlier_round_after_a_resubmission(
    client, org, policy
):
    # given a memo returned once with a comment, then resubmitted
    request = submit(org.rep1a)
    approval_reject(request=request, by=org.sup1, comment="Attach the invoice")
    memo = Memo.objects.get(pk=request.object_id)
    approval_submit(document=memo, by=org.rep1a)
    client.force_login(org.rep1a)
    english(client)
    # when
    html = client.get(f"/test/memos/{memo.pk}/").content.decode()
    # then round 1 is kept below, with who returned it and why
    assert 'data-round="2"' in html
    assert '<details class="approval-round" data-round="1">' in html
    assert f"Returned by {org.sup1.display_name}" in html
    assert "Attach the invoice" in html


# --- Request detail, submitted by me ----------------------------------------------------------


def test_request_detail_shows_the_chain_to_the_approver(client, org, policy):
    # given
    request = submit(org.rep1a, "50000")
    client.force_login(org.sup1)
    # when
    response = client.get(f"/approvals/{request.pk}/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="approval-panel"' in html
    assert 'data-testid="approval-approve"' in html


def test_request_detail_outside_the_scope_is_404(client, org, policy):
    # given rep1a's request
    request = submit(org.rep1a)
    client.force_login(org.rep1b)
    # when a teammate opens it
    response = client.get(f"/approvals/{request.pk}/")
    # then
    assert response.status_code == 404


def test_submitted_page_lists_only_the_users_own_requests(client, org, policy):
    # given
    mine = submit(org.rep1a)
    other = submit(org.rep1b)
    client.force_login(org.rep1a)
    # when
    html = client.get("/approvals/submitted/").content.decode()
    # then
    assert f'data-request="{mine.pk}"' in html
    assert f'data-request="{other.pk}"' not in html


def test_submitted_page_filters_by_status(client, org, policy):
    # given one pending and one returned request
    pending = submit(org.rep1a)
    returned = submit(org.rep1a)
    approval_reject(request=returned, by=org.sup1, comment="No")
    client.force_login(org.rep1a)
    # when
    html = client.get("/approvals/submitted/", {"status": "rejected"}).content.decode()
    # then
    assert f'data-request="{returned.pk}"' in html
    assert f'data-request="{pending.pk}"' not in html


# --- Nav badge and home panel ------------------------------------------------------------------


def test_nav_badge_counts_the_tasks_waiting_for_the_user(client, org, policy):
    # given two tasks for sup1
    submit(org.rep1a)
    submit(org.rep1b)
    client.force_login(org.sup1)
    # when
    html = client.get("/approvals/waiting-count/").content.decode()
    # then
    assert 'data-waiting-count="2"' in html


def test_approvals_menu_entry_is_shown_to_reps_but_not_to_integration_accounts(client, org):
    # given / when
    client.force_login(org.rep1a)
    rep_page = client.get("/").content.decode()
    client.force_login(org.erp)
    erp_page = client.get("/").content.decode()
    # then
    assert 'data-nav="approvals"' in rep_page
    assert 'data-nav-badge="approvals"' in rep_page
    assert 'data-nav="approvals"' not in erp_page


def test_supervisor_home_lists_the_tasks_waiting_for_them(client, org, policy):
    # given
    request = submit(org.rep1a, title="Booth rental")
    client.force_login(org.sup1)
    # when
    html = client.get("/").content.decode()
    # then the panel is real: the task and a link to the inbox
    panel = html.split('data-panel="approvals-waiting"')[1].split("</section>")[0]
    assert "Booth rental" in panel
    assert f'data-request="{request.pk}"' in panel
    assert 'href="/approvals/"' in panel
    assert 'data-waiting-count="1"' in panel


def test_home_panel_shows_the_oldest_five_and_the_total(client, org, policy):
    # given 7 tasks for sup1
    for _ in range(7):
        submit(org.rep1a)
    client.force_login(org.sup1)
    # when
    html = client.get("/").content.decode()
    # then
    panel = html.split('data-panel="approvals-waiting"')[1].split("</section>")[0]
    assert panel.count("data-request=") == 5
    assert 'data-waiting-count="7"' in panel


# --- Delegations -----------------------------------------------------------------------------


def test_delegation_with_the_end_before_the_start_shows_the_error_on_the_end_date(client, org):
    # given
    client.force_login(org.sup1)
    english(client)
    # when
    response = client.post(
        "/approvals/delegations/",
        {"delegate": org.sup2.pk, "starts_on": "2026-05-10", "ends_on": "2026-05-01"},
    )
    # then the form comes back with the error under "Until", and nothing is saved
    html = response.content.decode()
    assert response.status_code == 200
    until = html.split('id="field-ends_on"')[1].split('id="field-reason"')[0]
    assert "The end date cannot be before the start date." in until
    assert not Delegation.objects.exists()


def test_delegation_with_no_delegate_shows_the_error_on_the_delegate(client, org):
    # given
    client.force_login(org.sup1)
    english(client)
    # when
    response = client.post(
        "/approvals/delegations/", {"starts_on": "2026-05-01", "ends_on": "2026-05-10"}
    )
    # then
    assert 'data-testid="delegate-error"' in response.content.decode()
    assert not Delegation.objects.exists()


def test_delegation_is_saved_and_listed(client, org):
    # given
    client.force_login(org.sup1)
    # when
    response = client.post(
        "/approvals/delegations/",
        {
            "delegate": org.sup2.pk,
            "starts_on": "2026-05-01",
            "ends_on": "2026-05-10",
            "reason": "Annual leave",
        },
        follow=True,
    )
    # then
    delegation = Delegation.objects.get()
    assert (delegation.user, delegation.delegate) == (org.sup1, org.sup2)
    assert (delegation.starts_on, delegation.ends_on) == (date(2026, 5, 1), date(2026, 5, 10))
    assert f'data-delegation="{delegation.pk}"' in response.content.decode()


def test_delegates_are_searched_across_the_company_without_self_or_integration(client, org):
    # given
    client.force_login(org.sup1)
    # when sup1 types "sup", then "erp"
    sups = client.get("/approvals/delegations/people/", {"delegate_search": "sup"})
    erp = client.get("/approvals/delegations/people/", {"delegate_search": "erp"})
    # then other teams' supervisors are found (outside sup1's scope), not sup1, not the ERP
    html = sups.content.decode()
    assert 'data-person="sup2"' in html
    assert 'data-person="sup3"' in html
    assert 'data-person="sup1"' not in html
    assert 'data-person="erp"' not in erp.content.decode()


def test_delegate_search_returns_at_most_twenty_people(client, org):
    # given 25 people named alike
    from tests.factories import UserFactory

    for n in range(25):
        UserFactory(username=f"zhang{n:02d}", org_unit=org.team1)
    client.force_login(org.sup1)
    # when
    html = client.get("/approvals/delegations/people/", {"delegate_search": "zhang"}).content
    # then
    assert html.decode().count("data-person=") == 20


def test_user_cancels_their_own_delegation(client, org):
    # given
    today = timezone.localdate()
    delegation = Delegation.objects.create(
        user=org.sup1, delegate=org.sup2, starts_on=today, ends_on=today
    )
    client.force_login(org.sup1)
    # when
    response = client.post(f"/approvals/delegations/{delegation.pk}/cancel/")
    # then
    assert response.status_code == 302
    assert not Delegation.objects.filter(pk=delegation.pk).exists()


def test_cancelling_someone_elses_delegation_is_404(client, org):
    # given sup2's delegation
    today = timezone.localdate()
    delegation = Delegation.objects.create(
        user=org.sup2, delegate=org.sup3, starts_on=today, ends_on=today
    )
    client.force_login(org.sup1)
    # when
    response = client.post(f"/approvals/delegations/{delegation.pk}/cancel/")
    # then
    assert response.status_code == 404
    assert Delegation.objects.filter(pk=delegation.pk).exists()


@pytest.mark.parametrize("url", ["/approvals/", "/approvals/submitted/", "/approvals/delegations/"])
def test_approval_pages_need_a_signed_in_user(client, url):
    # when
    response = client.get(url)
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_nav_badge_polled_after_the_session_ended_swaps_nothing(client):
    # when
    response = client.get("/approvals/waiting-count/", **HTMX)
    # then
    assert response.status_code == 204
