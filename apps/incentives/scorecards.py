"""KPI scorecards (绩效考核): computing, assessing, approving and publishing. (Owned by the
scorecards work; the approval callbacks below are registered in apps.py.)"""

from __future__ import annotations

from typing import Any


def approval_title(scorecard: Any) -> str:
    return str(scorecard)


def can_submit_scorecard(user: Any, scorecard: Any) -> bool:
    raise NotImplementedError


def on_scorecard_submitted(scorecard: Any, request: Any) -> None:
    raise NotImplementedError


def on_scorecard_approved(scorecard: Any, request: Any) -> None:
    raise NotImplementedError


def on_scorecard_returned(scorecard: Any, request: Any) -> None:
    raise NotImplementedError
