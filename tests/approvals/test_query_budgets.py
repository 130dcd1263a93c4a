"""Query budgets of the approval lists (issue 10): the inbox, "submitted by me" and
delegations pages, and the approvals, inbox and delegations of the API, cost the same number
of queries with 2 rows as with 10 from other submitters, at other steps, delegated or not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.utils import timezone

from apps.approvals.models import ApprovalRequest, Delegation
from apps.approvals.services import approval_approve, approval_submit
from tests.budgets import ListCase, Marker
from tests.factories import UserFactory
from tests.testapp.models import memo_new

_numbers = count(1)


def _submit(owner, amount: str) -> ApprovalRequest:
    memo = memo_new(owner=owner, title=f"Budget memo {next(_numbers)}", amount=Decimal(amount))
    return approval_submit(document=memo, by=owner)


def _waiting_for_sup1(org, n: int) -> list[ApprovalRequest]:
    """n requests waiting for sup1: from rep1a and rep1b, and from rep2a while sup2 has
    delegated to sup1 (the task says on whose behalf)."""
    today = timezone.localdate()
    Delegation.objects.get_or_create(
        user=org.sup2, delegate=org.sup1, starts_on=today, ends_on=today
    )
    reps = (org.rep1a, org.rep1b, org.rep2a)
    return [_submit(reps[i % 3], ("5000", "50000")[i % 2]) for i in range(n)]


def _submitted_by_rep1a(org, n: int) -> list[ApprovalRequest]:
    """n requests of rep1a: every other one past sup1's step, waiting for the manager."""
    requests = []
    for i in range(n):
        request = _submit(org.rep1a, ("5000", "50000")[i % 2])
        if i % 2:
            request = approval_approve(request=request, by=org.sup1)
        requests.append(request)
    return requests


def _delegations(org, n: int) -> list[Delegation]:
    """n delegations of sup1, each to another new delegate, over other weeks."""
    today = timezone.localdate()
    rows = []
    for _ in range(n):
        k = next(_numbers)
        delegate = UserFactory(
            username=f"budget-delegate-{k}", role="supervisor", org_unit=org.team1
        )
        start = today + timedelta(weeks=k)
        rows.append(
            Delegation.objects.create(
                user=org.sup1, delegate=delegate, starts_on=start, ends_on=start + timedelta(days=3)
            )
        )
    return rows


def add_inbox_page(org, n: int) -> list[Marker]:
    return [f"/approvals/{r.pk}/" for r in _waiting_for_sup1(org, n)]


def add_submitted_page(org, n: int) -> list[Marker]:
    return [f"/approvals/{r.pk}/" for r in _submitted_by_rep1a(org, n)]


def add_delegation_page(org, n: int) -> list[Marker]:
    return [f'data-delegation="{d.pk}"' for d in _delegations(org, n)]


def add_approvals(org, n: int) -> list[Marker]:
    return [r.pk for r in _waiting_for_sup1(org, n)]


def add_delegations(org, n: int) -> list[Marker]:
    return [d.pk for d in _delegations(org, n)]


LISTS = {
    "approvals:inbox": ListCase("/approvals/", "sup1", add_inbox_page, budget=4),
    "approvals:submitted": ListCase("/approvals/submitted/", "rep1a", add_submitted_page, budget=5),
    "approvals:delegations": ListCase(
        "/approvals/delegations/", "sup1", add_delegation_page, budget=3
    ),
    "api:approval-list": ListCase("/api/v1/approvals/", "sup1", add_approvals, budget=3),
    "api:approval-inbox": ListCase(  # a row per waiting task, its id the request's
        "/api/v1/approvals/inbox/", "sup1", add_approvals, budget=2
    ),
    "api:delegation-list": ListCase("/api/v1/delegations/", "sup1", add_delegations, budget=2),
}


@pytest.mark.parametrize("name", LISTS)
def test_approval_list_queries_do_not_grow_with_rows(org, policy, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
