"""Who approves a step, relative to the submitter (DESIGN.md "Approvals").

- direct supervisor: the head of the submitter's unit, or of the nearest unit above with a
  head other than the submitter;
- head of the unit above: the same, starting one unit higher;
- a role within the submitter's department: the active users with that role in the smallest
  unit around the submitter that has any (team, then department, then company: finance sits at
  the company);
- a named user.

Nobody approves their own submission: the submitter is dropped, and when nobody is left the
step goes to the head above the submitter. A delegation active today replaces an approver by
the delegate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from apps.accounts.models import OrgUnit, User
from apps.accounts.selectors import first_head, supervisor_of, supervisors_of, unit_chain

from .choices import ApproverKind
from .models import ApprovalStep, Delegation


@dataclass(frozen=True)
class Assignee:
    approver: User
    delegated_from: User | None = None


def _first_head(units: list[OrgUnit], submitter: User) -> list[User]:
    head = first_head(units, submitter)
    return [head] if head is not None else []


def head_above(submitter: User) -> list[User]:
    """The nearest head above the submitter who is not the submitter."""
    supervisor = supervisor_of(submitter)
    return [supervisor] if supervisor is not None else []


def heads_above(users: list[User]) -> dict[int, list[User]]:
    """`head_above` of each of `users` (with their `org_unit` loaded) — {user id: [head] or
    []} — from one query of the units on their paths, whatever their number."""
    return {pk: [head] if head is not None else [] for pk, head in supervisors_of(users).items()}


def resolve_step(step: ApprovalStep, submitter: User) -> list[User]:
    """The approvers of `step` for a document submitted by `submitter`, without the submitter
    (before delegation)."""
    chain = unit_chain(submitter.org_unit)
    kind = step.approver_kind
    if kind == ApproverKind.DIRECT_SUPERVISOR:
        found = _first_head(chain, submitter)
    elif kind == ApproverKind.UNIT_ABOVE_HEAD:
        # Above the unit the submitter belongs to; a head's own unit counts as theirs.
        found = _first_head(chain[1:], submitter)
    elif kind == ApproverKind.ROLE:
        found = []
        for unit in chain:
            found = list(
                User.objects.filter(
                    is_active=True, role=step.role, org_unit__path__startswith=unit.path
                )
                .exclude(pk=submitter.pk)
                .order_by("username")
            )
            if found:
                break
    else:
        found = [step.user] if step.user and step.user.is_active else []
    found = [u for u in found if u.pk != submitter.pk]
    return found or head_above(submitter)


def apply_delegation(approvers: list[User], *, submitter: User, on: date) -> list[Assignee]:
    """Replace approvers who delegated for date `on` by their delegates (one query)."""
    if not approvers:
        return []
    delegations = {
        d.user_id: d.delegate
        for d in Delegation.objects.filter(
            Q(user__in=approvers), starts_on__lte=on, ends_on__gte=on, delegate__is_active=True
        )
        .select_related("delegate")
        .order_by("-created_at")
    }
    result: list[Assignee] = []
    seen: set[int] = set()
    for approver in approvers:
        delegate = delegations.get(approver.pk)
        # A delegate who is the submitter would approve their own submission: keep the approver.
        if delegate is not None and delegate.pk != submitter.pk:
            assignee = Assignee(approver=delegate, delegated_from=approver)
        else:
            assignee = Assignee(approver=approver)
        if assignee.approver.pk not in seen:
            seen.add(assignee.approver.pk)
            result.append(assignee)
    return result
