"""Fixtures of the lead tests: territories for the `org` teams and a capture helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.customers.normalization import uscc_check_char
from apps.leads.choices import LeadSource
from apps.leads.models import ScoringRule, Territory
from apps.leads.services import CaptureResult, lead_capture
from tests.api.conftest import bearer  # noqa: F401 (the API tests' fixture)


def valid_uscc(first17: str = "91310000MA1FL5LX3") -> str:
    return first17 + uscc_check_char(first17)


@pytest.fixture
def territories(org) -> dict[str, Territory]:
    """上海 → team 1 (rep1a, rep1b); 北京 → team 2 (rep2a); 广州 → team 3 (rep3a)."""
    return {
        "上海": Territory.objects.create(region="上海", team=org.team1),
        "北京": Territory.objects.create(region="北京", team=org.team2),
        "广州": Territory.objects.create(region="广州", team=org.team3),
    }


@pytest.fixture
def no_rules(db) -> None:
    """Start without the default scoring rules (a test adds its own)."""
    ScoringRule.objects.all().delete()


@pytest.fixture
def capture(db) -> Callable[..., CaptureResult]:
    counter = iter(range(10_000))

    def make(source: str = LeadSource.API, by=None, **data: Any) -> CaptureResult:
        n = next(counter)
        data.setdefault("company_name", f"测试公司{n}")
        return lead_capture(data=data, source=source, channel="test", by=by)

    return make
