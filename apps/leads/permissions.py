"""Who may do what with a lead. The services are the authority (they raise 403/409); the
`available_transitions` of a lead's detail read the same rules to tell a client which buttons
to show."""

from __future__ import annotations

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.accounts.scope import Scope, scope_of, visible_users

from .models import Lead, has_reason

# Transitions a user takes by name (`assign` happens through assignment/reassignment).
TRANSITIONS = ("contact", "qualify", "disqualify", "nurture", "convert")
REASSIGN_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})


def can_work(user: User, lead: Lead) -> bool:
    """The owner, or someone whose data scope covers the lead (supervisor, manager, admin)."""
    from .selectors import lead_list

    if lead.owner_id is not None and lead.owner_id == user.pk:
        return True
    return lead_list(user=user).filter(pk=lead.pk).exists()


def may_reassign(user: User) -> bool:
    """The role that reassigns leads (改派): supervisors, managers and admins."""
    return bool(user.is_authenticated and (user.is_superuser or user.role in REASSIGN_ROLES))


def can_receive_lead(user: User, to: User) -> bool:
    """`to` may be given leads by `user`: an active person (not an integration account) in
    `user`'s data scope."""
    if not to.is_active or to.role == Role.INTEGRATION:
        return False
    return visible_users(user).filter(pk=to.pk).exists()


def can_reassign(user: User, lead: Lead, to: User) -> bool:
    """A supervisor, manager or admin whose scope covers both the lead and the new owner."""
    return may_reassign(user) and can_receive_lead(user, to) and can_work(user, lead)


def can_view_team_sla(user: User) -> bool:
    """The response-SLA report is for those who oversee others' leads: heads of units
    (supervisors, managers) and the company-wide scope (admins, integrations)."""
    return scope_of(user) in (Scope.SUBTREE, Scope.ALL)


def transition_possible(lead: Lead, name: str) -> bool:
    """The lead's state allows `name` and its guards hold (a reason is asked for later)."""
    meta = getattr(lead, name)._django_fsm
    if not meta.has_transition(lead.status):
        return False
    transition = meta.get_transition(lead.status)
    return all(c(lead) for c in (transition.conditions or []) if c is not has_reason)


def available_transitions(user: User, lead: Lead, *, workable: bool | None = None) -> list[str]:
    if workable is None:
        workable = can_work(user, lead)
    if not workable:
        return []
    return [name for name in TRANSITIONS if transition_possible(lead, name)]
