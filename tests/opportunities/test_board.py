"""The board and the list selectors on hand-made data with known answers, and their query
budgets."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity
from apps.opportunities.selectors import OpportunityFilters, board, opportunity_list

pytestmark = pytest.mark.django_db


def column(result, stage):
    return next(c for c in result.columns if c.stage == stage)


def test_board_totals_and_weighted_totals(org, deal):
    # given (probabilities: prospecting 10%, proposal 60%)
    deal(org.rep1a, Stage.PROSPECTING, "100000.00")
    deal(org.rep1a, Stage.PROSPECTING, "50000.50")
    deal(org.rep1b, Stage.PROPOSAL, "200000.00")
    deal(org.rep2a, Stage.PROPOSAL, "999999.00")  # outside sup1's team
    # when sup1 reads the board
    result = board(user=org.sup1)
    # then
    prospecting, proposal = column(result, "prospecting"), column(result, "proposal")
    assert (prospecting.count, prospecting.total, prospecting.weighted) == (
        2, Decimal("150000.50"), Decimal("15000.05"))  # fmt: skip
    assert (proposal.count, proposal.total, proposal.weighted) == (
        1, Decimal("200000.00"), Decimal("120000.00"))  # fmt: skip
    assert result.total == Decimal("350000.50")
    assert result.weighted == Decimal("135000.05")
    assert column(result, "negotiation").count == 0


def test_board_limits_cards_per_column_and_counts_the_rest(org, deal):
    for days in range(5):
        deal(org.rep1a, close=date(2030, 1, 1) + timedelta(days=days))
    result = board(user=org.rep1a, per_stage=3)
    prospecting = column(result, "prospecting")
    assert (len(prospecting.cards), prospecting.more, prospecting.count) == (3, 2, 5)
    closes = [c.expected_close_date for c in prospecting.cards]
    assert closes == sorted(closes) and closes[0] == date(2030, 1, 1)


def test_board_counts_won_and_lost_this_month(org, deal):
    deal(org.rep1a, Stage.WON, "30000.00")
    won_old = deal(org.rep1a, Stage.WON, "70000.00")
    lost = deal(org.rep1a, Stage.LOST)
    now = timezone.now()
    Opportunity.objects.filter(stage__in=["won", "lost"]).update(closed_at=now)
    Opportunity.objects.filter(pk=won_old.pk).update(closed_at=now - timedelta(days=70))
    Opportunity.objects.filter(pk=lost.pk).update(lost_reason="r", lost_competitor="c")
    result = board(user=org.rep1a)
    assert (result.closed.won, result.closed.won_amount, result.closed.lost) == (
        1, Decimal("30000.00"), 1)  # fmt: skip


def test_board_filters_owner_team_and_close_month(org, deal):
    deal(org.rep1a, close=date(2030, 3, 5), amount="1.00")
    deal(org.rep1b, close=date(2030, 3, 31), amount="2.00")
    deal(org.rep2a, close=date(2030, 4, 1), amount="4.00")
    total = lambda **f: board(user=org.manager1, filters=OpportunityFilters(**f)).total  # noqa: E731
    assert total() == Decimal("7.00")
    assert total(owner=org.rep1b.pk) == Decimal("2.00")
    assert total(team=org.team1.pk) == Decimal("3.00")
    assert total(close_month=date(2030, 3, 1)) == Decimal("3.00")


def test_board_query_count_does_not_grow_with_deals(org, deal, django_assert_max_num_queries):
    for stage in (Stage.PROSPECTING, Stage.QUALIFICATION, Stage.PROPOSAL):
        for _ in range(4):
            deal(org.rep1a, stage)
    # 8: the first cards' ids are read on their own, then the cards (constant in the deals).
    with django_assert_max_num_queries(8):
        result = board(user=org.sup1, filters=OpportunityFilters(team=org.team1.pk))
        names = [(c.customer.name, c.owner.username) for col in result.columns for c in col.cards]
    assert len(names) == 12


def test_list_annotates_probability_and_weighted_amount(org, deal):
    deal(org.rep1a, Stage.NEEDS_ANALYSIS, "1000.00")
    row = opportunity_list(user=org.rep1a).get()
    assert (row.probability, row.weighted_amount) == (40, Decimal("400"))


def test_list_search_by_deal_or_customer_name(org, deal):
    deal(org.rep1a, name="数控机床项目")
    other = deal(org.rep1a, name="别的")
    other.customer.name = "星河精密"
    other.customer.save()
    found = lambda term: {o.name for o in opportunity_list(  # noqa: E731
        user=org.rep1a, filters=OpportunityFilters(search=term))}  # fmt: skip
    assert found("机床") == {"数控机床项目"}
    assert found("星河") == {"别的"}


def test_list_scope_rep_sees_own_supervisor_sees_team(org, deal):
    mine, peer, other_team = deal(org.rep1a), deal(org.rep1b), deal(org.rep2a)
    assert set(opportunity_list(user=org.rep1a)) == {mine}
    assert set(opportunity_list(user=org.sup1)) == {mine, peer}
    assert set(opportunity_list(user=org.manager1)) == {mine, peer, other_team}
    assert not opportunity_list(user=org.finance).exists()
