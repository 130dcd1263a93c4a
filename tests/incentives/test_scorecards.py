"""KPI scorecards (绩效考核): the scoring curves, the weighted score with the weights scaled up
when a metric has nothing to measure, the grades at their thresholds, ranks with ties; the
schemes' rules (weights adding up to 100, curves, thresholds, grades, one active scheme per
role and period); and the job computing June 2026 from hand-made documents with known
answers — a rep who moved teams mid-June ranked in the team he was in at the end, the job
idempotent, submitted cards left alone, earlier periods back-filled, queries not growing with
the people assessed.

The builders here (`make_scheme`, `linear`, `steps`, `june_cards`) are shared by the other
scorecard tests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max

from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.goals.choices import Metric
from apps.goals.periods import period_of
from apps.incentives import scorecards
from apps.incentives.choices import (
    AssessmentPeriod,
    Curve,
    Grade,
    KpiMetric,
    SchemeRole,
    ScorecardStatus,
)
from apps.incentives.kpi import Measure
from apps.incentives.models import SchemeMetric, Scorecard, ScorecardLine, ScoringScheme
from apps.incentives.scorecards import MetricSpec, SchemeData
from tests.approvals.test_concurrency import run_at_once
from tests.factories import UserFactory
from tests.goals.test_actuals import contract, june_documents
from tests.goals.test_attainment import target

pytestmark = pytest.mark.django_db

D = Decimal
SHANGHAI = ZoneInfo("Asia/Shanghai")
JUNE = period_of("month", date(2026, 6, 1))
JULY_2 = date(2026, 7, 2)


# --- builders -------------------------------------------------------------------------------


def linear(metric: str, weight, zero="0", full="100", cap="120") -> MetricSpec:
    return MetricSpec(
        metric=metric, weight=D(str(weight)), curve=Curve.LINEAR, zero_at=D(zero),
        full_at=D(full), cap=D(cap), lower_is_better=D(full) < D(zero),
    )  # fmt: skip


def steps(metric: str, weight, pairs, cap="100", lower=False) -> MetricSpec:
    return MetricSpec(
        metric=metric, weight=D(str(weight)), curve=Curve.THRESHOLDS, cap=D(cap),
        lower_is_better=lower, thresholds=[(D(str(a)), D(str(p))) for a, p in pairs],
    )  # fmt: skip


def scheme_data(*metrics: MetricSpec, role=SchemeRole.REP, name="Rep scheme", **grades):
    return SchemeData(
        name=name, role=role, period_kind=AssessmentPeriod.MONTH,
        grade_s_min=D(grades.get("s", 95)), grade_a_min=D(grades.get("a", 85)),
        grade_b_min=D(grades.get("b", 70)), grade_c_min=D(grades.get("c", 60)),
        metrics=list(metrics),
    )  # fmt: skip


def make_scheme(admin, *metrics: MetricSpec, **kwargs) -> ScoringScheme:
    return scorecards.scheme_create(data=scheme_data(*metrics, **kwargs), by=admin)


def line(spec: MetricSpec) -> SchemeMetric:
    """An unsaved scheme line of `spec`, for the pure scoring functions."""
    return SchemeMetric(
        metric=spec.metric, weight=spec.weight, curve=spec.curve, zero_at=spec.zero_at,
        full_at=spec.full_at, cap=spec.cap, lower_is_better=spec.lower_is_better,
        thresholds=[{"at": str(a), "points": str(p)} for a, p in spec.thresholds],
    )  # fmt: skip


def rep_scheme(org) -> ScoringScheme:
    """Contract attainment 50 % (linear 0 → 100, at most 120) and effective visit rate 50 %
    (linear 0 → 100, at most 100)."""
    return make_scheme(
        org.admin,
        linear(KpiMetric.CONTRACT_ATTAINMENT, 50),
        linear(KpiMetric.EFFECTIVE_VISIT_RATE, 50, cap="100"),
    )


def june_targets(org) -> None:
    """rep1a 4,000 (team 1); rep1b 2,000 in team 1 and 600,000 in team 2 (he moved on 16
    June); team 1 10,000; none for rep2a and rep3a."""
    amount = Metric.CONTRACT_AMOUNT
    target(amount, "4000.00", unit=org.team1, user=org.rep1a)
    target(amount, "2000.00", unit=org.team1, user=org.rep1b)
    target(amount, "600000.00", unit=org.team2, user=org.rep1b)
    target(amount, "10000.00", unit=org.team1)


def june_cards(org, time_machine) -> ScoringScheme:
    """June's documents (tests.goals.test_actuals), the targets, the rep scheme created on 10
    July, and the job run on 2 July… of the scheme's own clock: the scorecards of June."""
    june_documents(org, time_machine)
    june_targets(org)
    scheme = rep_scheme(org)
    scorecards.scorecards_compute_due(today=JULY_2)
    return scheme


def card(user) -> Scorecard:
    return Scorecard.objects.get(user=user, period_start=JUNE.start)


def lines_of(user) -> dict[str, ScorecardLine]:
    return {line.metric: line for line in card(user).lines.all()}


# --- curves -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "points"),
    [("-10", "0.00"), ("0", "0.00"), ("50", "50.00"), ("87.5", "87.50"), ("100", "100.00"),
     ("119.999", "120.00"), ("130", "120.00")],
)  # fmt: skip
def test_linear_curve_scores_in_proportion_up_to_the_cap(value, points):
    curve = line(linear(KpiMetric.CONTRACT_ATTAINMENT, 100, cap="120"))
    assert scorecards.line_points(curve, D(value)) == D(points)


@pytest.mark.parametrize(
    ("value", "points"),
    [("40", "0.00"), ("30", "0.00"), ("6", "80.00"), ("0", "100.00"), ("-3", "100.00")],
)
def test_linear_curve_where_less_is_better(value, points):
    # 30 % overdue scores 0, none scores 100; at most 100
    curve = line(linear(KpiMetric.OVERDUE_RATIO, 100, zero="30", full="0", cap="100"))
    assert scorecards.line_points(curve, D(value)) == D(points)


@pytest.mark.parametrize(
    ("value", "points"),
    [("59.9", "0.00"), ("60", "50.00"), ("79.99", "50.00"), ("95", "80.00"), ("130", "100.00")],
)
def test_thresholds_give_the_points_of_the_highest_one_reached(value, points):
    curve = line(steps(KpiMetric.EFFECTIVE_VISIT_RATE, 100, [(80, 80), (60, 50), (100, 100)]))
    assert scorecards.line_points(curve, D(value)) == D(points)


@pytest.mark.parametrize(
    ("value", "points"),
    [("3", "100.00"), ("5", "100.00"), ("7", "60.00"), ("20", "20.00"), ("20.01", "0.00")],
)
def test_thresholds_where_less_is_better_give_the_lowest_one_not_exceeded(value, points):
    curve = line(steps(KpiMetric.OVERDUE_RATIO, 100, [(5, 100), (10, 60), (20, 20)], lower=True))
    assert scorecards.line_points(curve, D(value)) == D(points)


def test_nothing_to_measure_earns_no_points():
    assert scorecards.line_points(line(linear(KpiMetric.SATISFACTION, 100)), None) is None


# --- the score --------------------------------------------------------------------------------


def _measures(**values) -> dict[str, Measure]:
    return {
        metric: Measure(None, None, None if v is None else D(v)) for metric, v in values.items()
    }


def test_score_is_the_weighted_sum_of_the_points():
    metrics = [line(linear(KpiMetric.CONTRACT_ATTAINMENT, 60)),
               line(linear(KpiMetric.COLLECTION_RATE, 40))]  # fmt: skip
    score, lines = scorecards.score_lines(
        metrics, _measures(contract_attainment="80", collection_rate="55")
    )
    # 60 × 80 / 100 + 40 × 55 / 100 = 48 + 22
    assert score == D("70.00")
    assert [(r.points, r.weighted) for r in lines] == [(D("80.00"), D("48.00")),
                                                       (D("55.00"), D("22.00"))]  # fmt: skip


def test_weights_are_scaled_up_to_100_when_a_metric_has_nothing_to_measure():
    metrics = [line(linear(KpiMetric.CONTRACT_ATTAINMENT, 50)),
               line(linear(KpiMetric.COLLECTION_RATE, 30)),
               line(linear(KpiMetric.SATISFACTION, 20, zero="1", full="5"))]  # fmt: skip
    score, lines = scorecards.score_lines(
        metrics, _measures(contract_attainment="80", collection_rate="90", satisfaction=None)
    )
    # satisfaction left out: 50 → 62.5 and 30 → 37.5; 62.5 × 80 % + 37.5 × 90 % = 50 + 33.75
    assert score == D("83.75")
    assert [r.weighted for r in lines] == [D("50.00"), D("33.75"), D("0.00")]
    assert lines[2].points is None


def test_score_rounds_half_up():
    metrics = [line(linear(KpiMetric.CONTRACT_ATTAINMENT, 50)),
               line(linear(KpiMetric.COLLECTION_RATE, 50))]  # fmt: skip
    score, _lines = scorecards.score_lines(
        metrics, _measures(contract_attainment="80.01", collection_rate="0")
    )
    assert score == D("40.01")  # 50 × 80.01 / 100 = 40.005: half up, not to even


def test_nothing_measured_at_all_scores_zero():
    metrics = [line(linear(KpiMetric.SATISFACTION, 100, zero="1", full="5"))]
    score, lines = scorecards.score_lines(metrics, _measures(satisfaction=None))
    assert score == D("0.00") and lines[0].weighted == D("0.00")


@pytest.mark.parametrize(
    ("score", "grade"),
    [("100", "S"), ("95", "S"), ("94.99", "A"), ("85", "A"), ("84.99", "B"), ("70", "B"),
     ("69.99", "C"), ("60", "C"), ("59.99", "D"), ("0", "D")],
)  # fmt: skip
def test_grades_at_their_thresholds(score, grade):
    scheme = ScoringScheme(grade_s_min=95, grade_a_min=85, grade_b_min=70, grade_c_min=60)
    assert scorecards.grade_for(scheme, D(score)) == grade


def test_ties_share_a_rank_and_the_next_rank_skips():
    ranks = scorecards.competition_ranks(
        {"a": D("90"), "b": D("90"), "c": D("80"), "d": D("70"), "e": D("70"), "f": D("10")}
    )
    assert ranks == {"a": 1, "b": 1, "c": 3, "d": 4, "e": 4, "f": 6}


# --- the scheme's rules ---------------------------------------------------------------------


def _errors(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_weights_must_add_up_to_exactly_100(org):
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 60),
                    linear(KpiMetric.COLLECTION_RATE, "39.99"))  # fmt: skip
    assert _errors(exc)["metrics"] == [
        "The weights add up to 99.99: they must add up to exactly 100."
    ]
    assert not ScoringScheme.objects.exists()


def test_linear_curve_needs_different_values_for_0_and_100(org):
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100, zero="50", full="50"))
    assert _errors(exc)["metrics.contract_attainment.full_at"] == [
        "The value scoring 100 must differ from the value scoring 0."
    ]


def test_less_is_better_needs_the_value_scoring_100_below_the_one_scoring_0(org):
    spec = linear(KpiMetric.OVERDUE_RATIO, 100, zero="0", full="30")
    spec.lower_is_better = True
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin, spec)
    assert "metrics.overdue_ratio.full_at" in _errors(exc)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "Give at least one threshold."),
        ([(60, 50), (60, 80)], "Each threshold value can appear once."),
        ([(60, 50), (80, 130)], "Threshold points are from 0 up to the highest points (100)."),
        ([(60, 80), (80, 50)], "A better value cannot score fewer points than a worse one."),
    ],
)
def test_thresholds_must_be_well_formed(org, pairs, message):
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin, steps(KpiMetric.EFFECTIVE_VISIT_RATE, 100, pairs))
    assert _errors(exc)["metrics.effective_visit_rate.thresholds"] == [message]


def test_grades_must_be_ordered(org):
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100), a=96)
    assert _errors(exc)["grade_a_min"] == [
        "The lowest score for A cannot be above the lowest score for S."
    ]


def test_a_metric_is_used_once_and_at_least_one_is_needed(org):
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin)
    assert _errors(exc)["metrics"] == ["Choose at least one metric and give its weight."]
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 50),
                    linear(KpiMetric.CONTRACT_ATTAINMENT, 50))  # fmt: skip
    assert "Each metric can be used once." in _errors(exc)["metrics"]


def test_one_active_scheme_per_role_and_period_is_a_field_error(org):
    first = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    with pytest.raises(ValidationError) as exc:
        make_scheme(org.admin, linear(KpiMetric.COLLECTION_RATE, 100), name="Another")
    assert _errors(exc)["role"] == [
        "The active scheme “Rep scheme” already assesses Sales rep by Month: deactivate it first."
    ]
    # once the first is deactivated, another may be made; a supervisor scheme meanwhile is fine
    make_scheme(org.admin, linear(KpiMetric.COLLECTION_RATE, 100), role=SchemeRole.SUPERVISOR)
    scorecards.scheme_deactivate(scheme=first, by=org.admin)
    make_scheme(org.admin, linear(KpiMetric.COLLECTION_RATE, 100), name="Another")
    assert ScoringScheme.objects.filter(is_active=True).count() == 2


def test_the_database_constraint_of_a_race_becomes_the_same_field_error(org):
    make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    # a second admin's save that passed the check before the first committed
    twin = ScoringScheme(name="Twin", role=SchemeRole.REP, period_kind=AssessmentPeriod.MONTH)
    with pytest.raises(ValidationError) as exc:
        scorecards._save_scheme(twin)
    assert "deactivate it first" in _errors(exc)["role"][0]


def test_only_an_administrator_manages_schemes(org):
    for who in (org.manager1, org.sup1, org.finance):
        with pytest.raises(PermissionDenied):
            make_scheme(who, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))


def test_update_replaces_the_lines_and_keeps_role_once_scorecards_exist(org):
    scheme = make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100))
    kept = scheme.metrics.get().pk
    scorecards.scheme_update(
        scheme=scheme, by=org.admin,
        data=scheme_data(linear(KpiMetric.CONTRACT_ATTAINMENT, 70),
                         linear(KpiMetric.SATISFACTION, 30, zero="3", full="5"), name="Renamed"),
    )  # fmt: skip
    scheme.refresh_from_db()
    assert scheme.name == "Renamed"
    rows = list(scheme.metrics.values_list("metric", "weight", "pk"))
    assert rows[0] == ("contract_attainment", D("70.00"), kept)
    assert rows[1][:2] == ("satisfaction", D("30.00")) and len(rows) == 2
    Scorecard.objects.create(
        scheme=scheme, user=org.rep1a, period_kind="month", period_start=JUNE.start,
        period_end=JUNE.end, computed_at=datetime(2026, 7, 2, tzinfo=SHANGHAI),
    )  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        data = scheme_data(linear(KpiMetric.CONTRACT_ATTAINMENT, 100), role=SchemeRole.SUPERVISOR)
        scorecards.scheme_update(scheme=scheme, by=org.admin, data=data)
    assert _errors(exc)["role"] == [
        "Scorecards were computed with this scheme: its role assessed stays."
    ]


# --- the job ----------------------------------------------------------------------------------


def test_job_scores_grades_and_ranks_june(org, time_machine):
    june_cards(org, time_machine)
    # rep1a: 3,000 of 4,000 = 75.0 % → 75 points; visits: 1 effective of 2 = 50.0 % → 50;
    # score 50 × 75 % + 50 × 50 % = 62.50: C
    a = lines_of(org.rep1a)
    assert (a["contract_attainment"].numerator, a["contract_attainment"].denominator) == (
        D("3000.00"), D("4000.00"),
    )  # fmt: skip
    assert (a["contract_attainment"].value, a["contract_attainment"].points) == (D("75"), D("75"))
    assert (a["effective_visit_rate"].numerator, a["effective_visit_rate"].denominator) == (
        D("1"), D("2"),
    )  # fmt: skip
    assert (card(org.rep1a).score, card(org.rep1a).grade) == (D("62.50"), Grade.C)
    # rep1b: 768,000 of 602,000 (his two targets) = 127.6 % → capped at 120; 1 of 2 visits:
    # 50; score 60 + 25 = 85.00: A
    assert lines_of(org.rep1b)["contract_attainment"].value == D("127.6")
    assert lines_of(org.rep1b)["contract_attainment"].points == D("120")
    assert (card(org.rep1b).score, card(org.rep1b).grade) == (D("85.00"), Grade.A)
    # rep3a: no target (left out), 1 of 1 visits effective: the visits count 100 %: S
    assert lines_of(org.rep3a)["contract_attainment"].value is None
    assert lines_of(org.rep3a)["effective_visit_rate"].weighted == D("100.00")
    assert (card(org.rep3a).score, card(org.rep3a).grade) == (D("100.00"), Grade.S)
    # rep2a: nothing to measure at all
    assert (card(org.rep2a).score, card(org.rep2a).grade) == (D("0.00"), Grade.D)
    # ranks in the company
    ranks = {c.user_id: (c.rank_in_company, c.company_size) for c in Scorecard.objects.all()}
    assert ranks == {org.rep3a.pk: (1, 4), org.rep1b.pk: (2, 4), org.rep1a.pk: (3, 4),
                     org.rep2a.pk: (4, 4)}  # fmt: skip


def test_rep_who_moved_teams_is_ranked_in_the_team_he_was_in_at_the_end(org, time_machine):
    june_cards(org, time_machine)
    # rep1b moved from team 1 to team 2 on 16 June: ranked in team 2 with rep2a
    moved = card(org.rep1b)
    assert moved.org_unit == org.team2
    assert (moved.rank_in_unit, moved.unit_size) == (1, 2)
    assert (card(org.rep2a).rank_in_unit, card(org.rep2a).unit_size) == (2, 2)
    assert (card(org.rep1a).org_unit, card(org.rep1a).rank_in_unit) == (org.team1, 1)
    assert card(org.rep1a).unit_size == 1


def test_ties_share_the_rank_in_the_job_too(org, time_machine):
    scheme = june_cards(org, time_machine)
    # rep1a's card was submitted with 85.00, rep1b's score
    Scorecard.objects.filter(user=org.rep1a).update(status=ScorecardStatus.PENDING, score=D("85"))
    scorecards.scorecards_compute(scheme=scheme, period=JUNE)
    ranks = {c.user_id: c.rank_in_company for c in Scorecard.objects.all()}
    assert ranks == {org.rep3a.pk: 1, org.rep1b.pk: 2, org.rep1a.pk: 2, org.rep2a.pk: 4}


def test_job_is_idempotent(org, time_machine):
    june_cards(org, time_machine)
    before = list(Scorecard.objects.order_by("pk").values())
    lines_before = list(ScorecardLine.objects.order_by("pk").values())
    result = scorecards.scorecards_compute_due(today=JULY_2)
    assert result == {"periods": 1, "created": 0, "recomputed": 0, "unchanged": 4, "kept": 0,
                      "reranked": 0}  # fmt: skip
    assert list(Scorecard.objects.order_by("pk").values()) == before
    assert list(ScorecardLine.objects.order_by("pk").values()) == lines_before


def test_job_recomputes_computed_cards_and_leaves_submitted_ones_alone(org, time_machine):
    scheme = june_cards(org, time_machine)
    submitted = card(org.rep1b)
    Scorecard.objects.filter(pk=submitted.pk).update(
        status=ScorecardStatus.PENDING, assessment="Strong month."
    )
    frozen_lines = list(submitted.lines.order_by("pk").values())
    # when a late contract of 1,000 signed on 15 June turns up for rep1a and one of 800,000
    # for rep1b
    contract(org.rep1a, Customer.objects.filter(owner=org.rep1a).first(), date(2026, 6, 15),
             "1000.00")  # fmt: skip
    contract(org.rep1b, Customer.objects.filter(owner=org.rep1b).first(), date(2026, 6, 15),
             "800000.00")  # fmt: skip
    result = scorecards.scorecards_compute_due(today=JULY_2)
    # then rep1a's card follows (4,000 of 4,000: 100 points → 75.00), rep1b's does not
    assert card(org.rep1a).score == D("75.00")
    assert result["recomputed"] == 1 and result["kept"] == 1
    kept = card(org.rep1b)
    assert (kept.status, kept.score, kept.assessment) == (
        ScorecardStatus.PENDING, D("85.00"), "Strong month.",
    )  # fmt: skip
    assert list(kept.lines.order_by("pk").values()) == frozen_lines
    # and the ranks agree with the scores: rep3a 100, rep1b 85 (kept), rep1a 75, rep2a 0
    assert [c.user_id for c in Scorecard.objects.filter(scheme=scheme).order_by(
        "rank_in_company")] == [org.rep3a.pk, org.rep1b.pk, org.rep1a.pk, org.rep2a.pk]  # fmt: skip


def test_job_back_fills_the_periods_since_the_schemes_creation(org, time_machine):
    time_machine.move_to(datetime(2026, 4, 10, 9, 0, tzinfo=SHANGHAI))
    scheme = rep_scheme(org)
    # on 2 July: April (ended after the creation), May, then June
    result = scorecards.scorecards_compute_due(today=JULY_2)
    assert result["periods"] == 3 and result["created"] == 12
    starts = sorted({c.period_start for c in Scorecard.objects.filter(scheme=scheme)})
    assert starts == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    # the next day only June, the latest, is looked at again
    assert scorecards.scorecards_compute_due(today=date(2026, 7, 3))["periods"] == 1


def test_back_fill_is_bounded(org, time_machine):
    time_machine.move_to(datetime(2024, 1, 10, 9, 0, tzinfo=SHANGHAI))
    scheme = rep_scheme(org)
    periods = scorecards.due_periods(scheme, JULY_2)
    assert len(periods) == scorecards.MAX_BACKFILL + 1
    assert periods[-1] == JUNE and periods[0].start == date(2025, 6, 1)


def test_job_skips_inactive_schemes_and_people(org, time_machine):
    scheme = june_cards(org, time_machine)
    UserFactory(username="gone", role="rep", org_unit=org.team1, is_active=False)
    Scorecard.objects.all().delete()
    scorecards.scheme_deactivate(scheme=scheme, by=org.admin)
    assert scorecards.scorecards_compute_due(today=JULY_2)["periods"] == 0
    scheme.is_active = True
    scheme.save()
    scorecards.scorecards_compute_due(today=JULY_2)
    assert Scorecard.objects.count() == 4  # not the inactive rep


def test_supervisor_scheme_scores_the_unit_the_supervisor_heads(org, time_machine):
    june_documents(org, time_machine)
    june_targets(org)
    make_scheme(org.admin, linear(KpiMetric.CONTRACT_ATTAINMENT, 100), role=SchemeRole.SUPERVISOR,
                name="Supervisors")  # fmt: skip
    scorecards.scorecards_compute_due(today=JULY_2)
    # team 1: 3,000 (rep1a) + rep1b's 0 before his move, of the team's 10,000 = 30.0 %
    sup1 = lines_of(org.sup1)["contract_attainment"]
    assert (sup1.numerator, sup1.denominator, sup1.value) == (D("3000.00"), D("10000.00"),
                                                              D("30.0"))  # fmt: skip
    assert card(org.sup1).score == D("30.00")
    # team 2 has no target of its own, but rep1b's 600,000 set in it: 800,000 of 600,000
    sup2 = lines_of(org.sup2)["contract_attainment"]
    assert (sup2.numerator, sup2.denominator) == (D("800000.00"), D("600000.00"))
    assert Scorecard.objects.filter(user__role="rep").count() == 0


def test_recompute_on_demand_is_an_admins_and_only_for_ended_periods(org, time_machine):
    scheme = june_cards(org, time_machine)
    with pytest.raises(PermissionDenied):
        scorecards.scorecards_recompute(scheme=scheme, day=date(2026, 6, 9), by=org.manager1)
    time_machine.move_to(datetime(2026, 6, 20, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(Conflict) as exc:
        scorecards.scorecards_recompute(scheme=scheme, day=date(2026, 6, 9), by=org.admin)
    assert exc.value.code == "period_not_ended"
    time_machine.move_to(datetime(2026, 7, 20, 9, 0, tzinfo=SHANGHAI))
    result = scorecards.scorecards_recompute(scheme=scheme, day=date(2026, 6, 9), by=org.admin)
    assert result.unchanged == 4


def test_job_reads_the_same_number_of_queries_for_more_people(
    org, time_machine, django_assert_max_num_queries
):
    june_documents(org, time_machine)
    june_targets(org)
    scheme = make_scheme(
        org.admin, *(linear(m, w) for m, w in (
            (KpiMetric.CONTRACT_ATTAINMENT, 20), (KpiMetric.COLLECTION_ATTAINMENT, 10),
            (KpiMetric.COLLECTION_RATE, 10), (KpiMetric.NEW_CUSTOMERS, 10),
            (KpiMetric.EFFECTIVE_VISIT_RATE, 10), (KpiMetric.PLAN_EXECUTION_RATE, 10),
            (KpiMetric.LEAD_SLA_COMPLIANCE, 10), (KpiMetric.SATISFACTION, 10))),
        linear(KpiMetric.OVERDUE_RATIO, 10, zero="100", full="0"),
    )  # fmt: skip
    with django_assert_max_num_queries(40) as few:
        scorecards.scorecards_compute(scheme=scheme, period=JUNE)
    Scorecard.objects.all().delete()
    for n in range(12):
        UserFactory(username=f"extra{n}", role="rep", org_unit=org.team3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        scorecards.scorecards_compute(scheme=scheme, period=JUNE)
    assert Scorecard.objects.count() == 16
    assert ScorecardLine.objects.filter(scorecard__user=org.rep1a).count() == 9
    assert Scorecard.objects.aggregate(top=Max("company_size"))["top"] == 16


@pytest.mark.django_db(transaction=True)
def test_two_workers_computing_the_same_period_at_once_make_each_card_once(org):
    scheme = rep_scheme(org)
    results = run_at_once(
        lambda: scorecards.scorecards_compute(scheme=scheme, period=JUNE),
        lambda: scorecards.scorecards_compute(scheme=scheme, period=JUNE),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    # one created the four cards, the other (waiting on the scheme's lock) found them unchanged
    assert sorted((r.created, r.unchanged) for r in results) == [(0, 4), (4, 0)]
    assert Scorecard.objects.count() == 4
    assert ScorecardLine.objects.count() == 8
