"""Who may work on a contract (合同). The services are the authority (they raise 403/409);
`services.contract_actions` reads the same rule to tell a page or an API client which
actions to offer.

Working on a contract (edit a draft, sign, start, complete, terminate, amend) is for its
owner, a head of a unit whose subtree contains the owner, or a company-wide account (admin,
the ERP). Finance sees every contract (money documents) but works on them only through the
approvals and the receivables.
"""

from __future__ import annotations

from typing import Any

from apps.accounts.scope import Scope, scope_of, visible_users


def can_work_contract(user: Any, contract: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if contract.owner_id == user.pk:
        return True
    scope = scope_of(user)
    if scope is Scope.ALL:
        return True
    if scope is Scope.SUBTREE:
        return visible_users(user).filter(pk=contract.owner_id).exists()
    return False
