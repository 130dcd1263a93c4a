"""Commissions (回款提成): plans, monthly statements, clawback, approval and the payroll
export. (The approval callbacks below are registered in apps.py.)"""

from __future__ import annotations

from typing import Any


def approval_title(statement: Any) -> str:
    return str(statement)


def can_submit_statement(user: Any, statement: Any) -> bool:
    raise NotImplementedError


def on_statement_submitted(statement: Any, request: Any) -> None:
    raise NotImplementedError


def on_statement_approved(statement: Any, request: Any) -> None:
    raise NotImplementedError


def on_statement_returned(statement: Any, request: Any) -> None:
    raise NotImplementedError
