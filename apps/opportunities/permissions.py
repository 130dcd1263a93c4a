"""Who may work on an opportunity (商机). The services are the authority (they raise 403/409);
`available_transitions` reads the same rules to tell a page or an API client which moves to
offer."""

from __future__ import annotations

from apps.accounts.models import User
from apps.accounts.scope import Scope, scope_of, visible_users

from .choices import OPEN_STAGES
from .models import Opportunity, has_back_reason, has_lost_competitor, has_lost_reason

# The moves a user takes by name, in the order a page shows them.
TRANSITIONS = (
    "qualify",
    "analyse_needs",
    "propose",
    "negotiate",
    "win",
    "move_back",
    "lose",
)
# Forward moves: each goes from one open stage to the next (won after negotiation).
FORWARD = ("qualify", "analyse_needs", "propose", "negotiate", "win")
# Conditions the caller satisfies with the request itself (a reason, the lost reason and
# competitor): they never hide a move, the move asks for them.
INPUT_CONDITIONS = frozenset({has_back_reason, has_lost_reason, has_lost_competitor})


def can_work(user: User, opportunity: Opportunity) -> bool:
    """The owner, a head of a unit whose subtree contains the owner, or a company-wide
    account (admin, integration)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if opportunity.owner_id == user.pk:
        return True
    scope = scope_of(user)
    if scope is Scope.ALL:
        return True
    if scope is Scope.SUBTREE:
        return visible_users(user).filter(pk=opportunity.owner_id).exists()
    return False


def transition_open(opportunity: Opportunity, name: str) -> bool:
    """The opportunity's stage allows `name` (guards aside)."""
    meta = getattr(opportunity, name)._django_fsm
    return meta.has_transition(opportunity.stage)


def available_transitions(
    user: User, opportunity: Opportunity, *, workable: bool | None = None
) -> list[str]:
    """The moves `user` may start now: every move the stage allows. A move whose guard is not
    met yet is still listed (the page asks for the input or names what is missing)."""
    if opportunity.stage not in OPEN_STAGES:
        return []
    if workable is None:
        workable = can_work(user, opportunity)
    if not workable:
        return []
    return [name for name in TRANSITIONS if transition_open(opportunity, name)]
