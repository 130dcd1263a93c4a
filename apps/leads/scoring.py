"""Lead scoring (线索评分): active rules → a 0–100 score → a grade A–D.

Pure functions over a lead's fields, so that the capture, the update service and the
rescoring job compute the same figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

from .choices import LeadGrade, ScoringOperator
from .models import ScoringRule

# The lead fields a rule may read (ScoringField values).
SCORED_FIELDS = ("industry", "company_size", "region", "intent", "budget",
                 "decision_time_frame", "source")  # fmt: skip


def active_rules() -> list[ScoringRule]:
    return list(ScoringRule.objects.filter(is_active=True))


def _text(value: Any) -> str:
    return str(value).strip().casefold()


def rule_matches(rule: ScoringRule, value: Any) -> bool:
    if value is None or value == "":
        return False
    if rule.operator == ScoringOperator.EQUALS:
        return _text(value) == _text(rule.value)
    if rule.operator == ScoringOperator.IN:
        return _text(value) in {_text(v) for v in (rule.values or [])}
    if rule.operator == ScoringOperator.RANGE:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return False
        if rule.min_value is not None and number < rule.min_value:
            return False
        return rule.max_value is None or number < rule.max_value
    return False


def grade_for(score: int) -> str:
    """The grade of a score by settings.LEAD_GRADE_THRESHOLDS (A ≥ 80, B ≥ 60, C ≥ 40, else D
    by default)."""
    thresholds = settings.LEAD_GRADE_THRESHOLDS
    for grade in (LeadGrade.A, LeadGrade.B, LeadGrade.C):
        if score >= int(thresholds[grade]):
            return grade
    return LeadGrade.D


def score_of(lead: Any, rules: Iterable[ScoringRule]) -> tuple[int, str]:
    """(score, grade) of a lead (or any object with the scored fields) under `rules`."""
    total = sum(
        rule.points for rule in rules if rule_matches(rule, getattr(lead, rule.field, None))
    )
    score = max(0, min(100, total))
    return score, grade_for(score)
