"""Who may do what with visit plans and records. The services are the authority (they raise
403/409); pages and the API read the same rules to decide which buttons to show.

- A rep plans and edits their own visits; a supervisor, manager or admin may also plan for a
  rep in their subtree (`apps.accounts.scope.can_see_user`).
- A visit record (拜访总结) is written by the rep who made the visit and stays editable by them
  for `RECORD_EDIT_DAYS` days; then it is read-only. Records are never deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.accounts.scope import can_see_user

from .models import VisitPlan, VisitRecord

RECORD_EDIT_DAYS = 7
PLANNER_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
VISITOR_ROLES = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER})


def can_plan_for(user: User, owner: User) -> bool:
    """`user` may plan visits of `owner`: their own (if they visit customers), or a rep's in
    their subtree when they head it (supervisor, manager) or run the company (admin)."""
    if not (user.is_authenticated and user.is_active and owner.is_active):
        return False
    if owner.pk == user.pk:
        return user.role in VISITOR_ROLES
    if owner.role not in VISITOR_ROLES:
        return False
    return (user.is_superuser or user.role in PLANNER_ROLES) and can_see_user(user, owner.pk)


def can_change_plan(user: User, plan: VisitPlan) -> bool:
    """Edit, move or cancel: whoever may plan for the plan's owner."""
    if plan.owner_id == user.pk:
        return can_plan_for(user, user)
    return can_plan_for(user, plan.owner)


def can_log_visit(user: User, plan: VisitPlan | None = None) -> bool:
    """The rep (or supervisor, manager) who made the visit logs it; a plan's record is logged
    by the plan's owner."""
    if not (user.is_authenticated and user.is_active and user.role in VISITOR_ROLES):
        return False
    return plan is None or plan.owner_id == user.pk


def record_editable_until(record: VisitRecord) -> datetime:
    return record.created_at + timedelta(days=RECORD_EDIT_DAYS)


def can_edit_record(user: User, record: VisitRecord, *, now: datetime | None = None) -> bool:
    """Its rep, within `RECORD_EDIT_DAYS` days of logging it."""
    now = now or timezone.now()
    return record.owner_id == user.pk and now < record_editable_until(record)
