"""The furthest stage a deal reached (`Opportunity.furthest_stage`, the funnel's "reached"),
kept by the trigger of the stage history whoever writes the stays: the services' moves, or a
bulk insert of several deals' stays at once. A move back or a loss never lowers it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.leads.periods import period_bounds
from apps.opportunities import figures
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity, StageChange
from apps.opportunities.services import (
    opportunity_analyse_needs,
    opportunity_lose,
    opportunity_move_back,
    opportunity_qualify,
)

pytestmark = pytest.mark.django_db


def furthest(opportunity: Opportunity) -> str:
    return Opportunity.objects.values_list("furthest_stage", flat=True).get(pk=opportunity.pk)


def test_the_services_moves_raise_it_and_a_move_back_or_a_loss_does_not_lower_it(org, deal):
    # given a new deal (its first stay: prospecting)
    opportunity = deal(org.rep1a)
    assert furthest(opportunity) == Stage.PROSPECTING
    # when it moves forward twice
    opportunity = opportunity_qualify(opportunity=opportunity, by=org.rep1a)
    assert furthest(opportunity) == Stage.QUALIFICATION
    opportunity = opportunity_analyse_needs(opportunity=opportunity, by=org.rep1a)
    assert furthest(opportunity) == Stage.NEEDS_ANALYSIS
    # then moving back, and losing it, leave it at the furthest stage it reached
    opportunity = opportunity_move_back(opportunity=opportunity, by=org.rep1a, reason="需求变更")
    assert opportunity.stage == Stage.QUALIFICATION
    assert furthest(opportunity) == Stage.NEEDS_ANALYSIS
    opportunity = opportunity_lose(
        opportunity=opportunity, by=org.rep1a, lost_reason="价格", lost_competitor="海天"
    )
    assert furthest(opportunity) == Stage.NEEDS_ANALYSIS
    # and the funnel of today counts it up to needs analysis, once each
    today = timezone.localdate()
    steps = figures.funnel(user=org.admin, period=period_bounds(today, today)).steps
    assert [s.reached for s in steps] == [1, 1, 1, 0, 0, 0]


def test_one_insert_of_several_deals_stays_sets_each_deals_furthest_stage(org, deal):
    # given two deals with their first stay only
    a, b = deal(org.rep1a), deal(org.rep1b)
    start = timezone.now() - timedelta(days=30)

    def stay(opportunity, stage, day):  # a stay already left (the deal's first stay is current)
        at = start + timedelta(days=day)
        return StageChange(opportunity=opportunity, stage=stage, entered_at=at,
                           left_at=at + timedelta(hours=1))  # fmt: skip

    # when their histories are written in one statement (as a bulk load does)
    StageChange.objects.bulk_create([
        stay(a, Stage.QUALIFICATION, 0), stay(a, Stage.NEEDS_ANALYSIS, 1),
        stay(a, Stage.PROPOSAL, 2), stay(a, Stage.NEEDS_ANALYSIS, 3), stay(b, Stage.LOST, 0),
    ])  # fmt: skip
    # then each has the furthest of its own stays (lost is not further than prospecting)
    assert (furthest(a), furthest(b)) == (Stage.PROPOSAL, Stage.PROSPECTING)
    # and a later stay in a lower stage does not lower it, a higher one raises it
    stay(a, Stage.QUALIFICATION, 4).save()
    assert furthest(a) == Stage.PROPOSAL
    stay(a, Stage.WON, 5).save()
    assert furthest(a) == Stage.WON


def test_a_deal_without_stage_history_reached_no_stage(org, deal):
    # given a deal whose history was removed (data made outside the services)
    opportunity = deal(org.rep1a)
    StageChange.objects.filter(opportunity=opportunity).delete()
    Opportunity.objects.filter(pk=opportunity.pk).update(furthest_stage="")
    # then it is created in the period but reached no stage
    today = timezone.localdate()
    result = figures.funnel(user=org.admin, period=period_bounds(today, today))
    assert result.created == 1
    assert [s.reached for s in result.steps] == [0, 0, 0, 0, 0, 0]
