"""The demo contests (seed_demo): one running this month, one ended last month with its final
ranking kept; loaded once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.incentives import demo_contests, selectors_contests
from apps.incentives.models import Contest

pytestmark = pytest.mark.django_db


def test_demo_contests_load_once_with_a_running_and_a_final_one(org):
    # when the demo loads twice
    assert demo_contests.load() == 2
    assert demo_contests.load() == 0
    # then one contest runs this month for the first department's teams …
    today = timezone.localdate()
    running = Contest.objects.get(name=demo_contests.RUNNING_NAME)
    assert selectors_contests.contest_state(running, today) == selectors_contests.RUNNING
    assert set(running.units.values_list("pk", flat=True)) == {org.team1.pk, org.team2.pk}
    # … and last month's ended with its ranking kept for every team's reps
    ended = Contest.objects.get(name=demo_contests.ENDED_NAME)
    assert ended.finalized_at is not None
    assert set(ended.standings.values_list("user_id", flat=True)) == {
        org.rep1a.pk, org.rep1b.pk, org.rep2a.pk, org.rep3a.pk,
    }  # fmt: skip
