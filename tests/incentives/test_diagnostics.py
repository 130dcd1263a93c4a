"""Process diagnostics (apps.incentives.diagnostics) on hand-made stage stays and approval tasks
with known durations: counts, medians and 90th percentiles (percentile_cont), current waits,
the oldest waits, trend buckets, the per-team split by the team of the day, the slowest
highlighted, scope.

The period is November 2026, "now" 1 December 10:00 (Shanghai).

Stage stays (`deal`: each stay is left when the next one is entered):
- Q1…Q10: qualification stays of 2, 4, …, 20 days, each left on 25 November (then in needs
  analysis, still there: 10 current stays of 6 days); Q1–Q6 rep1a (team1), Q7–Q10 rep2a
  (team2). Median 11, p90 18.2 (percentile_cont: 18 + 0.2 × (20 − 18)), 3 over the 14
  expected days.
- OCT: a qualification stay of rep1a from 1 to 11 October (10 days), then lost.
- P1–P3: prospecting now, since 2 October, 1 and 21 November (rep1a, rep1b, rep3a): waits of
  60, 30 and 10 days.

Approval tasks (contract policy, reminder after 10 hours; quote policy 24 hours):
- "销售主管审核" (contracts): four approvals of 1, 2, 3, 4 hours (rep1a's requests); median
  2.5, p90 3.7.
- "财务审批" (contracts, step 3): approved after 20 hours and returned after 40 hours (rep3a's
  requests), and on the first request a colleague's task "not needed" (superseded): median
  30, p90 38. Waiting now: one request (two finance approvers waiting, any one) since 30 hours
  ago.
- "销售主管审核" waiting now since 2 hours ago (rep1a).
- "销售主管审批（折扣 > 5%）" (quotes): one approval after 5 hours.
- One decision in October (supervisor step, 6 hours): not in November's figures, in the trend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from apps.accounts.models import User
from apps.approvals.models import ApprovalPolicy, ApprovalRequest, ApprovalTask
from apps.goals.models import UnitMembership
from apps.incentives import diagnostics
from apps.incentives.diagnostics import Highlight, process_diagnostics
from apps.opportunities.models import Opportunity

from ..opportunities.figures_data import deal

pytestmark = pytest.mark.django_db

START, END = date(2026, 11, 1), date(2026, 11, 30)


def local(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


NOW = local(date(2026, 12, 1), 10)
CONTRACT, QUOTE = "contracts.contract", "opportunities.quote"
SUPERVISOR_STEP, FINANCE_STEP = "销售主管审核", "财务审批"
QUOTE_STEP = "销售主管审批（折扣 > 5%）"


def nov(day: int, hour: int = 10) -> datetime:
    return local(date(2026, 11, day), hour)


@dataclass
class Requests:
    contract_ct: ContentType
    next_id: int = 1

    def new(self, submitter: User, document_type: str = CONTRACT, *, status="pending"):
        policy = ApprovalPolicy.objects.get(document_type=document_type)
        request = ApprovalRequest.objects.create(
            document_type=document_type, content_type=self.contract_ct, object_id=self.next_id,
            policy=policy, submitter=submitter, title=f"Document {self.next_id}",
            submitted_at=NOW - timedelta(days=40), status=status,
        )  # fmt: skip
        self.next_id += 1
        return request


def task(request, step: str, order: int, approver: User, created: datetime,
         decided: datetime | None = None, status: str = "approved") -> ApprovalTask:  # fmt: skip
    made = ApprovalTask.objects.create(
        request=request, round=1, step_order=order, step_name=step, mode="any",
        approver=approver, status=status, decided_at=decided,
    )  # fmt: skip
    ApprovalTask.objects.filter(pk=made.pk).update(created_at=created)  # auto_now_add
    return made


def build_stays(org) -> dict[str, Opportunity]:
    deals = {}
    for i in range(1, 11):
        owner = org.rep1a if i <= 6 else org.rep2a
        left = nov(25)
        deals[f"Q{i}"] = deal(
            owner, [("qualification", left - timedelta(days=2 * i)), ("needs_analysis", left)],
            name=f"Q{i}",
        )  # fmt: skip
    deals["OCT"] = deal(
        org.rep1a, [("qualification", local(date(2026, 10, 1))),
                    ("lost", local(date(2026, 10, 11)))], name="OCT",
    )  # fmt: skip
    deals["P1"] = deal(org.rep1a, [("prospecting", local(date(2026, 10, 2)))], name="P1")
    deals["P2"] = deal(org.rep1b, [("prospecting", nov(1))], name="P2")
    deals["P3"] = deal(org.rep3a, [("prospecting", nov(21))], name="P3")
    return deals


def build_approvals(org) -> Requests:
    from tests.factories import UserFactory

    ApprovalPolicy.objects.filter(document_type=CONTRACT).update(remind_after_hours=10)
    ApprovalPolicy.objects.filter(document_type=QUOTE).update(remind_after_hours=24)

    finance2 = UserFactory(username="finance2", role="finance", org_unit=org.company)
    made = Requests(ContentType.objects.get_for_model(Opportunity))
    for hours in (1, 2, 3, 4):
        request = made.new(org.rep1a, status="approved")
        task(request, SUPERVISOR_STEP, 1, org.sup1, nov(3), nov(3) + timedelta(hours=hours))
    first = made.new(org.rep3a, status="approved")
    task(first, FINANCE_STEP, 3, org.finance, nov(5), nov(5) + timedelta(hours=20))
    task(first, FINANCE_STEP, 3, finance2, nov(5), None, status="superseded")
    second = made.new(org.rep3a, status="rejected")
    task(second, FINANCE_STEP, 3, org.finance, nov(6), nov(6) + timedelta(hours=40), "rejected")
    waiting = made.new(org.rep3a)
    task(waiting, FINANCE_STEP, 3, org.finance, NOW - timedelta(hours=30), None, "waiting")
    task(waiting, FINANCE_STEP, 3, finance2, NOW - timedelta(hours=30), None, "waiting")
    at_supervisor = made.new(org.rep1a)
    task(at_supervisor, SUPERVISOR_STEP, 1, org.sup1, NOW - timedelta(hours=2), None, "waiting")
    quote = made.new(org.rep1a, QUOTE, status="approved")
    task(quote, QUOTE_STEP, 1, org.sup1, nov(7), nov(7) + timedelta(hours=5))
    october = made.new(org.rep1a, status="approved")
    oct_day = local(date(2026, 10, 15))
    task(october, SUPERVISOR_STEP, 1, org.sup1, oct_day, oct_day + timedelta(hours=6))
    return made


@pytest.fixture
def stays(org):
    return build_stays(org)


@pytest.fixture
def approvals(org):
    return build_approvals(org)


def run(user, team=None, highlight=Highlight.RELATIVE):
    return process_diagnostics(
        user=user, start=START, end=END, team=team, highlight=highlight, now=NOW
    )


def stage(result, key):
    return next(n for n in result.stages if n.key == key)


def step(result, document_type, name):
    return next(n for n in result.steps if n.key == f"{document_type}/{name}")


# --- stages ----------------------------------------------------------------------------------


def test_stage_passed_median_and_p90_over_stays_that_ended_in_the_period(org, stays):
    # when the admin reads November
    result = run(org.admin)
    # then the ten qualification stays left in November count, not October's
    q = stage(result, "qualification")
    assert q.waits.passed == 10
    assert (q.p50, q.p90) == (11.0, 18.2)
    assert q.expected_value == 14.0
    assert q.waits.passed_over == 3 and q.waits.passed_over_pct == 30.0
    assert q.ratio == 1.3  # 18.2 / 14
    # and a stage nobody left has no figure
    assert stage(result, "proposal").waits.passed == 0 and stage(result, "proposal").p90 is None


def test_current_stays_count_with_their_wait_so_far_and_the_oldest(org, stays):
    result = run(org.admin)
    prospecting = stage(result, "prospecting")
    assert prospecting.waits.pending == 3
    assert prospecting.pending_p50 == 30.0  # 60, 30, 10 days at 1 December 10:00
    assert prospecting.oldest == 60.0
    assert prospecting.waits.pending_over == 2  # over the 14 expected days
    needs = stage(result, "needs_analysis")
    assert (needs.waits.pending, needs.pending_p50) == (10, 6.0)
    # the won / lost stays are not waits of an open stage
    assert sum(n.waits.pending for n in result.stages) == 13


def test_where_deals_wait_longest_now_lists_the_oldest_current_stays_first(org, stays):
    result = run(org.admin)
    names = [s.name for s in result.oldest_stays]
    assert names[:3] == ["P1", "P2", "P3"]
    assert result.oldest_stays[0].waited_days == 60.0
    assert result.oldest_stays[0].over_expected
    assert result.oldest_stays[0].url == f"/opportunities/{stays['P1'].pk}/"
    assert len(result.oldest_stays) == 13


def test_oldest_list_is_cut_at_twenty(org):
    for i in range(diagnostics.OLDEST + 2):
        deal(org.rep1a, [("proposal", nov(1) + timedelta(hours=i))], name=f"D{i:02d}")
    result = run(org.admin)
    assert len(result.oldest_stays) == diagnostics.OLDEST
    assert [s.name for s in result.oldest_stays][:2] == ["D00", "D01"]


def test_trend_gives_median_and_p90_per_month_for_six_months(org, stays):
    result = run(org.admin)
    assert result.stage_trend.months == [date(2026, m, 1) for m in range(6, 12)]
    points = {p.month.month: p for p in result.stage_trend.points("qualification")}
    assert (points[10].passed, points[10].p50, points[10].p90) == (1, 10.0, 10.0)
    assert (points[11].passed, points[11].p50, points[11].p90) == (10, 11.0, 18.2)
    assert points[9].passed == 0 and points[9].p90 is None


def test_supervisor_sees_only_the_team_they_head(org, stays):
    # sup1 heads team1: rep1a's Q1–Q6 (2, 4, …, 12 days), P1 (rep1a) and P2 (rep1b)
    result = run(org.sup1)
    q = stage(result, "qualification")
    assert q.waits.passed == 6
    assert q.p50 == 7.0  # 2, 4, 6, 8, 10, 12
    assert stage(result, "prospecting").waits.pending == 2  # P1 (rep1a), P2 (rep1b)


def test_team_filter_splits_by_team(org, stays):
    team1 = run(org.manager1, team=org.team1)
    team2 = run(org.manager1, team=org.team2)
    assert stage(team1, "qualification").waits.passed == 6
    assert stage(team2, "qualification").waits.passed == 4
    assert stage(team2, "qualification").p90 == 19.4  # 14, 16, 18, 20: 18 + 0.7 × 2


def move(user, old_unit, new_unit, on: date) -> None:
    User.objects.filter(pk=user.pk).update(org_unit=new_unit)
    UnitMembership.objects.filter(user=user).delete()
    UnitMembership.objects.create(
        user=user, org_unit=old_unit, valid_from=date(1, 1, 1), valid_to=on
    )
    UnitMembership.objects.create(user=user, org_unit=new_unit, valid_from=on)


def test_a_rep_who_changed_teams_counts_for_the_team_of_the_day_the_wait_ended(org):
    # given rep1a left a stage on 10 November in team1, moved to team2 on 20 November, and
    # left another on 25 November
    deal(org.rep1a, [("qualification", nov(7)), ("needs_analysis", nov(10))], name="before")
    deal(org.rep1a, [("qualification", nov(20)), ("needs_analysis", nov(25))], name="after")
    move(org.rep1a, org.team1, org.team2, date(2026, 11, 20))
    # then each stay counts for the team of its day, the current ones for today's team
    team1 = stage(run(org.manager1, team=org.team1), "qualification")
    team2 = stage(run(org.manager1, team=org.team2), "qualification")
    assert (team1.waits.passed, team1.p50) == (1, 3.0)
    assert (team2.waits.passed, team2.p50) == (1, 5.0)
    assert stage(run(org.manager1, team=org.team1), "needs_analysis").waits.pending == 0
    assert stage(run(org.manager1, team=org.team2), "needs_analysis").waits.pending == 2


# --- approval steps --------------------------------------------------------------------------


def test_approval_steps_count_decisions_of_the_period_with_median_and_p90(org, approvals):
    result = run(org.admin)
    supervisor = step(result, CONTRACT, SUPERVISOR_STEP)
    assert supervisor.waits.passed == 4  # not October's
    assert (supervisor.p50, supervisor.p90) == (2.5, 3.7)
    assert supervisor.expected_value == 10.0 and supervisor.unit == "hours"
    finance = step(result, CONTRACT, FINANCE_STEP)
    # an approval and a return; the colleague's task that was not needed did not wait
    assert finance.waits.passed == 2
    assert (finance.p50, finance.p90) == (30.0, 38.0)
    assert finance.waits.passed_over == 2
    assert finance.document_label == "Contract"


def test_a_request_waiting_for_two_approvers_counts_once(org, approvals):
    result = run(org.admin)
    finance = step(result, CONTRACT, FINANCE_STEP)
    assert finance.waits.pending == 1
    assert (finance.pending_p50, finance.oldest) == (30.0, 30.0)
    assert finance.waits.pending_over == 1
    supervisor = step(result, CONTRACT, SUPERVISOR_STEP)
    assert (supervisor.waits.pending, supervisor.oldest) == (1, 2.0)
    oldest = result.oldest_requests
    assert [r.step_name for r in oldest] == [FINANCE_STEP, SUPERVISOR_STEP]
    assert sorted(oldest[0].approvers) == sorted(
        [org.finance.display_name, User.objects.get(username="finance2").display_name]
    )
    assert oldest[0].url == f"/approvals/{oldest[0].request_id}/"
    assert oldest[0].over_expected and not oldest[1].over_expected


def test_slowest_steps_relative_to_the_reminder_time_or_absolute(org, approvals):
    relative = run(org.admin)
    assert [n.label for n in relative.slow_steps] == [FINANCE_STEP, SUPERVISOR_STEP, QUOTE_STEP]
    absolute = run(org.admin, highlight=Highlight.ABSOLUTE)
    assert [n.label for n in absolute.slow_steps] == [FINANCE_STEP, QUOTE_STEP, SUPERVISOR_STEP]


def test_slowest_stages_are_marked(org, stays):
    result = run(org.admin)
    # only qualification has stays that ended: the one stage ranked
    assert [n.key for n in result.slow_stages] == ["qualification"]
    assert stage(result, "qualification").slow_rank == 1


def test_approval_trend_per_month(org, approvals):
    result = run(org.admin)
    points = {p.month.month: p for p in result.step_trend.points(f"{CONTRACT}/{SUPERVISOR_STEP}")}
    assert (points[10].passed, points[10].p50) == (1, 6.0)
    assert (points[11].passed, points[11].p90) == (4, 3.7)


def test_approval_figures_follow_the_submitters_scope(org, approvals):
    # sup1 heads team1: rep1a's requests only (not rep3a's finance step)
    result = run(org.sup1)
    keys = {n.key for n in result.steps}
    assert f"{CONTRACT}/{FINANCE_STEP}" not in keys
    assert step(result, CONTRACT, SUPERVISOR_STEP).waits.passed == 4
    assert [r.step_name for r in result.oldest_requests] == [SUPERVISOR_STEP]
    # manager2 (dept2: rep3a) sees the finance step only
    assert {n.label for n in run(org.manager2).steps} == {FINANCE_STEP}


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin", "erp", "manager1", "sup1"])
def test_those_who_oversee_others_may_open_the_diagnostics(org, who):
    assert diagnostics.can_view_diagnostics(getattr(org, who))


@pytest.mark.parametrize("who", ["rep1a", "finance"])
def test_reps_and_finance_may_not(org, who):
    assert not diagnostics.can_view_diagnostics(getattr(org, who))


def test_teams_offered_are_the_heads_subtree(org):
    assert set(diagnostics.diagnostic_teams(user=org.manager1)) == {org.dept1, org.team1, org.team2}
    assert set(diagnostics.diagnostic_teams(user=org.sup1)) == {org.team1}


def test_the_whole_lot_is_a_fixed_number_of_queries(org, stays, approvals,
                                                    django_assert_max_num_queries):  # fmt: skip
    for i in range(5):  # more deals and requests do not add queries
        deal(org.rep1b, [("proposal", nov(2 + i)), ("negotiation", nov(12 + i))], name=f"X{i}")
    with django_assert_max_num_queries(14):
        run(org.manager1, team=org.team1)


def trend_point(result, key, month):
    return next(p for p in result.stage_trend.points(key) if p.month.month == month)


def test_cached_trend_months_are_not_shared_between_scopes(org, stays):
    # sup1 (team1: the October stay of rep1a) fills the cache of the sealed months first
    assert trend_point(run(org.sup1), "qualification", 10).passed == 1
    # sup3's October has nothing of team1; the admin's has it
    assert trend_point(run(org.sup3), "qualification", 10).passed == 0
    assert trend_point(run(org.admin), "qualification", 10).passed == 1
    assert trend_point(run(org.manager1, team=org.team2), "qualification", 10).passed == 0


def test_sealed_months_are_read_from_the_cache_the_current_one_live(org, stays):
    run(org.admin)
    # a stay ending in October (sealed) and one in November (the period's month, not sealed)
    deal(org.rep1b, [("qualification", local(date(2026, 10, 3))),
                     ("proposal", local(date(2026, 10, 5)))], name="late Oct")  # fmt: skip
    deal(org.rep1b, [("qualification", nov(2)), ("proposal", nov(4))], name="late Nov")
    again = run(org.admin)
    assert trend_point(again, "qualification", 10).passed == 1  # as cached
    assert trend_point(again, "qualification", 11).passed == 11  # live
