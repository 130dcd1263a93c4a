"""The demo scorecards (seed_demo) load through the services, once; the nightly task calls the
job."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.goals.periods import period_of
from apps.incentives import demo_scorecards, tasks
from apps.incentives.choices import SchemeRole, ScorecardStatus
from apps.incentives.models import Scorecard, ScoringScheme

from .test_scorecards_flow import scorecard_policy  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("scorecard_policy")
def test_demo_makes_two_schemes_computes_last_month_and_runs_the_flow_once(org):
    # when the demo loads twice
    assert demo_scorecards.load() == 7  # 4 reps and 3 supervisors
    assert demo_scorecards.load() == 0
    # then a rep scheme and a supervisor scheme, both active
    roles = sorted(ScoringScheme.objects.filter(is_active=True).values_list("role", flat=True))
    assert roles == [SchemeRole.REP, SchemeRole.SUPERVISOR]
    last_month = period_of("month", timezone.localdate()).previous()
    cards = Scorecard.objects.filter(period_start=last_month.start)
    assert cards.count() == 7
    # team 1's two reps were assessed by sup1: rep1a's approved and published, rep1b's pending
    statuses = dict(cards.values_list("user__username", "status"))
    assert statuses["rep1a"] == ScorecardStatus.PUBLISHED
    assert statuses["rep1b"] == ScorecardStatus.PENDING
    assert {s for u, s in statuses.items() if u not in ("rep1a", "rep1b")} == {"computed"}
    assert cards.get(user=org.rep1a).assessed_by == org.sup1


def test_the_nightly_task_runs_the_job(org):
    demo_scorecards.ensure_schemes(org.admin)
    result = tasks.compute_scorecards()
    assert result["created"] == 7 and result["periods"] == 2
    assert tasks.compute_scorecards()["created"] == 0
