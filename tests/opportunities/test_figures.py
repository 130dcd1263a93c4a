"""Pipeline figures (apps.opportunities.figures) on hand-made deals with known answers.

The period is November 2026. Deals (stage, entered day; each stay left when the next begins):

- A, rep1a (team1): prospecting 2 → qualification 4 → needs analysis 12 → proposal 14 →
  negotiation 15 → won 20 (created Nov 2: 18 days to win)
- B, rep1a: prospecting 3 → qualification 7 → back to prospecting 8 → qualification 9 → lost 15
- C, rep1b (team1): prospecting 5, still there; 1,000.00 expected to close Dec 10
- D, rep2a (team2): created Oct 20 in prospecting → qualification Nov 1, still there;
  500.00 expected Oct 1 (overdue)
- E, rep3a (team3): prospecting 6 → qualification 8 → needs 9 → proposal 10 → negotiation 11 →
  won 16 (10 days to win)
- F, rep1a: created Sep 1 → negotiation Sep 2 (left nothing in November); 2,000.00 on Nov 30
- G, rep1a: created Sep 1, prospecting; expected Aug 2027 (past the six months: left out)
- H, rep1a: created Sep 1, prospecting; no expected date (left out)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.accounts.models import OrgUnit
from apps.leads.periods import period_bounds
from apps.opportunities import figures

from .figures_data import at, deal

pytestmark = pytest.mark.django_db

NOV = period_bounds(date(2026, 11, 1), date(2026, 11, 30))
TODAY = date(2026, 11, 15)


def d(day: int, month: int = 11, year: int = 2026):
    return at(date(year, month, day))


@pytest.fixture
def pipeline(org):
    deals = {
        "A": deal(org.rep1a, [("prospecting", d(2)), ("qualification", d(4)),
                              ("needs_analysis", d(12)), ("proposal", d(14)),
                              ("negotiation", d(15)), ("won", d(20))], name="A"),
        "B": deal(org.rep1a, [("prospecting", d(3)), ("qualification", d(7)),
                              ("prospecting", d(8)), ("qualification", d(9)), ("lost", d(15))],
                  name="B"),
        "C": deal(org.rep1b, [("prospecting", d(5))], amount="1000.00",
                  close=date(2026, 12, 10), name="C"),
        "D": deal(org.rep2a, [("prospecting", d(20, 10)), ("qualification", d(1))],
                  amount="500.00", close=date(2026, 10, 1), name="D"),
        "E": deal(org.rep3a, [("prospecting", d(6)), ("qualification", d(8)),
                              ("needs_analysis", d(9)), ("proposal", d(10)),
                              ("negotiation", d(11)), ("won", d(16))], name="E"),
        "F": deal(org.rep1a, [("prospecting", d(1, 9)), ("negotiation", d(2, 9))],
                  amount="2000.00", close=date(2026, 11, 30), name="F"),
        "G": deal(org.rep1a, [("prospecting", d(1, 9))], amount="9999.00",
                  close=date(2027, 8, 1), name="G"),
        "H": deal(org.rep1a, [("prospecting", d(1, 9))], amount="7777.00", name="H"),
    }  # fmt: skip
    return deals


def by_stage(rows):
    return {r.stage: (r.stays, r.avg_days, r.median_days) for r in rows}


# --- stage durations -----------------------------------------------------------------------


def test_stage_durations_average_and_median_over_stays_that_ended_in_the_period(org, pipeline):
    # when the admin asks for November's stage durations
    rows = figures.stage_durations(user=org.admin, period=NOV)
    # then each open stage counts the stays left in November (B's two prospecting stays apart)
    assert by_stage(rows) == {
        "prospecting": (5, 4.2, 2.0),  # A 2, B 4, B 1, D 12, E 2
        "qualification": (4, 4.0, 3.5),  # A 8, B 1, B 6, E 1
        "needs_analysis": (2, 1.5, 1.5),  # A 2, E 1
        "proposal": (2, 1.0, 1.0),
        "negotiation": (2, 5.0, 5.0),
    }
    assert rows[0].expected_days == 14  # from StageSetting


def test_stage_durations_can_count_current_stays_up_to_now(org, pipeline):
    # when current stays are counted up to Dec 1 10:00
    rows = figures.stage_durations(user=org.admin, period=NOV, include_current=True, now=d(1, 12))
    # then C's current prospecting stay (26 days) and D's qualification (30 days) join in;
    # G and H (September, current) entered before the end too: 91 days each
    result = by_stage(rows)
    assert result["prospecting"][0] == 8
    assert result["prospecting"][1] == round((21 + 26 + 91 + 91) / 8, 1)
    assert result["qualification"] == (5, round((16 + 30) / 5, 1), 6.0)


def test_stage_durations_of_a_supervisor_cover_only_their_team(org, pipeline):
    rows = figures.stage_durations(user=org.sup1, period=NOV)
    assert by_stage(rows)["prospecting"] == (3, round(7 / 3, 1), 2.0)  # A 2, B 4, B 1


# --- funnel --------------------------------------------------------------------------------


def test_funnel_counts_each_deal_once_up_to_the_furthest_stage_it_reached(org, pipeline):
    # when the admin asks for November's funnel (deals created in November: A, B, C, E)
    result = figures.funnel(user=org.admin, period=NOV)
    # then B, which went back and forth, counts once in prospecting and qualification
    assert result.created == 4
    assert [(s.stage, s.reached) for s in result.steps] == [
        ("prospecting", 4), ("qualification", 3), ("needs_analysis", 2), ("proposal", 2),
        ("negotiation", 2), ("won", 2),
    ]  # fmt: skip
    assert [s.next_rate for s in result.steps] == [0.75, 0.6667, 1.0, 1.0, 1.0, None]
    assert (result.won, result.lost, result.open) == (2, 1, 1)
    assert result.win_rate == 0.6667


def test_funnel_of_a_rep_is_their_own_deals(org, pipeline):
    result = figures.funnel(user=org.rep1b, period=NOV)
    assert result.created == 1
    assert [s.reached for s in result.steps] == [1, 0, 0, 0, 0, 0]


def test_funnel_narrowed_to_a_team_and_an_owner(org, pipeline):
    assert figures.funnel(user=org.admin, period=NOV, team=org.dept2).created == 1  # E
    result = figures.funnel(user=org.sup1, period=NOV, owner=org.rep1a)
    assert (result.created, result.won, result.lost) == (2, 1, 1)


# --- win rate and cycle time ---------------------------------------------------------------


def test_win_rate_and_cycle_time_per_rep_team_and_total(org, pipeline):
    result = figures.win_rates(user=org.admin, period=NOV)
    total = result.total
    assert (total.won, total.lost, total.win_rate, total.cycle_days) == (2, 1, 0.6667, 14.0)
    reps = {r.id: (r.figures.won, r.figures.lost, r.figures.win_rate, r.figures.cycle_days)
            for r in result.by_rep}  # fmt: skip
    assert reps == {org.rep1a.pk: (1, 1, 0.5, 18.0), org.rep3a.pk: (1, 0, 1.0, 10.0)}
    teams = {r.id: (r.figures.won, r.figures.lost) for r in result.by_team}
    assert teams == {org.team1.pk: (1, 1), org.team3.pk: (1, 0)}


def test_win_rate_counts_deals_closed_in_the_period_only(org, pipeline):
    october = period_bounds(date(2026, 10, 1), date(2026, 10, 31))
    result = figures.win_rates(user=org.admin, period=october)
    assert (result.total.won, result.total.lost, result.total.win_rate) == (0, 0, None)
    assert result.by_rep == [] and result.total.cycle_days is None


# --- weighted forecast ---------------------------------------------------------------------


def test_forecast_weights_open_deals_by_stage_probability_per_close_month(org, pipeline):
    # when the admin asks on Nov 15 (prospecting 10%, qualification 20%, negotiation 80%)
    result = figures.forecast(user=org.admin, today=TODAY)
    # then the buckets are overdue and Nov … Apr; G (Aug 2027) and H (no date) are left out
    assert [b.key for b in result.buckets] == [
        "overdue", "2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04",
    ]  # fmt: skip
    totals = result.totals
    assert vars(totals.cell("overdue")) == {
        "deals": 1, "amount": Decimal("500.00"), "weighted": Decimal("100.00")
    }  # fmt: skip
    assert totals.cell("2026-11").weighted == Decimal("1600.00")
    assert totals.cell("2026-12").weighted == Decimal("100.00")
    assert vars(totals.total) == {
        "deals": 3, "amount": Decimal("3500.00"), "weighted": Decimal("1800.00")
    }  # fmt: skip
    teams = {r.id: (r.total.amount, r.total.weighted) for r in result.by_team}
    assert teams == {
        org.team1.pk: (Decimal("3000.00"), Decimal("1700.00")),
        org.team2.pk: (Decimal("500.00"), Decimal("100.00")),
    }
    assert result.by_rep[0].id == org.rep1a.pk  # the largest weighted amount first
    assert {r.id for r in result.by_rep} == {org.rep1a.pk, org.rep1b.pk, org.rep2a.pk}
    assert result.by_rep[0].target is None  # the goals issue fills it


def test_forecast_rounds_weighted_amounts_half_up_to_the_cent(org):
    deal(org.rep1a, [("prospecting", d(1))], amount="333.35", close=date(2026, 11, 20))
    result = figures.forecast(user=org.rep1a, today=TODAY)
    assert result.totals.cell("2026-11").weighted == Decimal("33.34")  # 33.335


def test_forecast_of_a_supervisor_is_their_team_and_of_a_rep_their_own(org, pipeline):
    sup = figures.forecast(user=org.sup1, today=TODAY)
    assert sup.totals.total.amount == Decimal("3000.00")
    rep = figures.forecast(user=org.rep1b, today=TODAY)
    assert [r.id for r in rep.by_rep] == [org.rep1b.pk]
    assert rep.totals.total.weighted == Decimal("100.00")


def test_forecast_uses_the_configured_probability(org, pipeline):
    from apps.opportunities.models import StageSetting

    StageSetting.objects.filter(stage="negotiation").update(probability=50)
    result = figures.forecast(user=org.admin, today=TODAY, months=1)
    assert [b.key for b in result.buckets] == ["overdue", "2026-11"]
    assert result.totals.cell("2026-11").weighted == Decimal("1000.00")


# --- scope ---------------------------------------------------------------------------------


def test_a_rep_narrowing_to_another_owner_gets_nothing(org, pipeline):
    # figure selectors trust checked arguments, but an owner outside the scope gives no rows
    assert figures.funnel(user=org.rep1b, period=NOV, owner=org.rep3a).created == 0
    assert figures.forecast(user=org.sup1, owner=org.rep2a, today=TODAY).by_rep == []


def test_each_figure_is_one_query(org, pipeline, django_assert_num_queries):
    settings_by_stage = figures.stage_settings()
    for user in (org.admin, org.sup1, org.rep1a):
        # the units a user heads are read once per request (apps.accounts.scope.headed_paths)
        user._headed_paths = list(OrgUnit.objects.filter(head=user).values_list("path", flat=True))
        with django_assert_num_queries(1):
            figures.funnel(user=user, period=NOV)
        with django_assert_num_queries(1):
            figures.stage_durations(user=user, period=NOV, settings_by_stage=settings_by_stage)
        with django_assert_num_queries(1):
            figures.win_rates(user=user, period=NOV)
        with django_assert_num_queries(1):
            figures.forecast(user=user, today=TODAY, settings_by_stage=settings_by_stage)
