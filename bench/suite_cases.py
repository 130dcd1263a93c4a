"""What `make bench` (bench/suite.py) measures: the list pages and endpoints, the reports, the
Excel exports — each with the role that uses it — and, for every report, a hand-written SQL
statement that computes the same figure straight from the tables (the database's own lower
bound for it), with a check that both give the same numbers.

The cases follow the per-issue benchmarks (bench/leads_list.py, pipeline_board.py,
pipeline_figures.py, receivables_aging.py, goals_attainment.py, reports_exports.py …) and the
periods their pages default to: the pipeline figures and diagnostics over the last 90 days,
the receivables and goals over this year, the visits over this week, the forecast over six
months. The roles are the scale company's logins (apps/accounts/scale.py): the administrator,
the sales director (a manager heading the whole company), a regional manager, a supervisor,
a rep of that supervisor's team, finance, and the ERP integration (API only).
"""

# The statements below are built from dates this module formats itself, never from input.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

LIST_MS = 150.0
REPORT_MS = 500.0
EXPORT_MS = 5000.0

ROLES = {
    "admin": "scale_admin",
    "director": "scale_director",
    "manager": "scale_mgr1",
    "supervisor": "scale_sup01",
    "finance": "scale_fin1",
    "erp": "scale_erp",
    # "rep": a rep of the supervisor's team, found in the data (see suite.find_users)
}
OPEN_STAGES = "('prospecting', 'qualification', 'needs_analysis', 'proposal', 'negotiation')"
OPEN_INSTALLMENTS = "('scheduled', 'due', 'partially_paid')"


@dataclass(frozen=True)
class Raw:
    """A hand-written statement of a report's figure, and how to compare its result with the
    report's JSON: `check(body, rows)` → (ours, raw), two equal tuples when they agree."""

    sql: str
    covers: str
    check: Callable[[Any, list[tuple]], tuple[tuple, tuple]] | None = None


@dataclass(frozen=True)
class Case:
    kind: str  # "list" | "report" | "export"
    name: str
    role: str
    path: str
    api: bool = False  # a bearer token instead of the session cookie
    raw: Raw | None = None

    @property
    def limit_ms(self) -> float:
        return {"list": LIST_MS, "report": REPORT_MS, "export": EXPORT_MS}[self.kind]


@dataclass(frozen=True)
class Dates:
    """The days and instants the cases ask for (business time, settings.TIME_ZONE)."""

    today: date
    d90: date  # the first of the last 90 days
    year_start: date
    year_end: date
    week_start: date
    now: datetime
    bounds: Callable[[date, date], tuple[datetime, datetime]]

    def lit(self, value: date | datetime) -> str:
        kind = "timestamptz" if isinstance(value, datetime) else "date"
        return f"'{value.isoformat()}'::{kind}"


def _d(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _near(ours: tuple, raw: tuple, *, cents: int) -> tuple[tuple, tuple]:
    """(ours, raw) with raw's money taken as ours when they differ by at most `cents` cents
    (rounding per group versus rounding once)."""
    near = tuple(
        o if isinstance(o, Decimal) and abs(o - r) <= Decimal(cents) / 100 else r
        for o, r in zip(ours, raw, strict=True)
    )
    return ours, near


def _sum(rows: list[tuple], index: int) -> Any:
    return sum((row[index] or 0) for row in rows)


# --- the reports' hand-written SQL -------------------------------------------------------


def raw_statements(d: Dates) -> dict[str, Raw]:
    """Report name → its hand-written statement (literals only: psql runs it as it is)."""
    p90 = d.bounds(d.d90, d.today)
    year = d.bounds(d.year_start, d.year_end)
    week_end = d.week_start + timedelta(days=7)
    week = d.bounds(d.week_start, week_end - timedelta(days=1))
    first = d.today.replace(day=1)
    overdue_month = (first - timedelta(days=1)).replace(day=1)
    month_index = first.year * 12 + first.month - 1 + 6
    horizon = date(month_index // 12, month_index % 12 + 1, 1)
    lit = d.lit
    return {
        "funnel": Raw(
            covers="deals created in the period by furthest stage and current stage",
            sql=f"""SELECT furthest_stage, stage, count(*) FROM opportunities_opportunity
 WHERE created_at >= {lit(p90[0])} AND created_at < {lit(p90[1])} GROUP BY 1, 2""",
            check=lambda body, rows: (
                (body["created"], body["won"], body["lost"]),
                (
                    _sum(rows, 2),
                    sum(r[2] for r in rows if r[1] == "won"),
                    sum(r[2] for r in rows if r[1] == "lost"),
                ),
            ),
        ),
        "stage durations": Raw(
            covers="count, average and median stay per open stage, stays ended in the period",
            sql=f"""SELECT stage, count(*), avg(left_at - entered_at),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY left_at - entered_at)
  FROM opportunities_stagechange
 WHERE left_at >= {lit(p90[0])} AND left_at < {lit(p90[1])} AND stage IN {OPEN_STAGES}
 GROUP BY stage""",
            check=lambda body, rows: (
                tuple(sorted((s["stage"], s["stays"]) for s in body["stages"] if s["stays"])),
                tuple(sorted((r[0], r[1]) for r in rows)),
            ),
        ),
        "win rate": Raw(
            covers="won, lost and days to win per owner, deals closed in the period",
            sql=f"""SELECT o.owner_id,
       count(DISTINCT s.opportunity_id) FILTER (WHERE s.stage = 'won'),
       count(DISTINCT s.opportunity_id) FILTER (WHERE s.stage = 'lost'),
       sum(extract(epoch FROM s.entered_at - o.created_at)) FILTER (WHERE s.stage = 'won')
  FROM opportunities_stagechange s JOIN opportunities_opportunity o ON o.id = s.opportunity_id
 WHERE s.stage IN ('won', 'lost') AND s.entered_at >= {lit(p90[0])}
   AND s.entered_at < {lit(p90[1])}
 GROUP BY o.owner_id""",
            check=lambda body, rows: ((body["won"], body["lost"]), (_sum(rows, 1), _sum(rows, 2))),
        ),
        "forecast": Raw(
            covers="open deals, amount and weighted amount per owner and close month (6 months)",
            sql=f"""SELECT o.owner_id,
       greatest(date_trunc('month', o.expected_close_date)::date, {lit(overdue_month)}),
       count(*), sum(o.amount), sum(o.amount * s.probability / 100)
  FROM opportunities_opportunity o LEFT JOIN opportunities_stagesetting s ON s.stage = o.stage
 WHERE o.stage IN {OPEN_STAGES} AND o.expected_close_date < {lit(horizon)}
 GROUP BY 1, 2""",
            # ours rounds each (owner, month) cell to the cent before adding them up
            check=lambda body, rows: _near(
                (body["totals"]["total"]["deals"], _d(body["totals"]["total"]["weighted"])),
                (_sum(rows, 2), _d(_sum(rows, 4))),
                cents=len(rows),
            ),
        ),
        "aging, company": Raw(
            covers="open amount by days past due, whole company",
            sql=f"""SELECT
  sum(amount - paid_amount - written_off_amount) FILTER (WHERE due_date >= {lit(d.today)}),
  sum(amount - paid_amount - written_off_amount)
    FILTER (WHERE due_date < {lit(d.today)} AND due_date >= {lit(d.today - timedelta(30))}),
  sum(amount - paid_amount - written_off_amount)
    FILTER (WHERE due_date < {lit(d.today - timedelta(30))}
              AND due_date >= {lit(d.today - timedelta(60))}),
  sum(amount - paid_amount - written_off_amount)
    FILTER (WHERE due_date < {lit(d.today - timedelta(60))}
              AND due_date >= {lit(d.today - timedelta(90))}),
  sum(amount - paid_amount - written_off_amount)
    FILTER (WHERE due_date < {lit(d.today - timedelta(90))}),
  sum(amount - paid_amount - written_off_amount), count(*)
  FROM receivables_installment WHERE status IN {OPEN_INSTALLMENTS}""",
            check=lambda body, rows: (
                (_d(body["total"]["open"]), body["total"]["count"]),
                (_d(rows[0][5]), rows[0][6]),
            ),
        ),
        "aging, by rep": Raw(
            covers="open amount by days past due per owner",
            sql=f"""SELECT owner_id,
  sum(amount - paid_amount - written_off_amount) FILTER (WHERE due_date >= {lit(d.today)}),
  sum(amount - paid_amount - written_off_amount) FILTER (WHERE due_date < {lit(d.today)}),
  count(*)
  FROM receivables_installment WHERE status IN {OPEN_INSTALLMENTS} GROUP BY owner_id""",
            check=lambda body, rows: ((body["total"]["count"],), (_sum(rows, 3),)),
        ),
        "collection figures": Raw(
            covers="collected, due and written off this year, whole company",
            sql=f"""SELECT
 (SELECT sum(a.amount) FROM receivables_allocation a
    JOIN receivables_installment i ON i.id = a.installment_id
   WHERE a.reversed_at IS NULL AND a.allocated_on BETWEEN {lit(d.year_start)} AND {lit(d.today)}
     AND i.due_date <= {lit(d.today)}),
 (SELECT sum(amount) FROM receivables_installment
   WHERE due_date BETWEEN {lit(d.year_start)} AND {lit(d.today)}),
 (SELECT sum(amount) FROM receivables_writeoff
   WHERE status = 'approved' AND approved_at >= {lit(year[0])}
     AND approved_at < {lit(d.bounds(d.today, d.today)[1])})""",
            check=lambda body, rows: (
                (
                    _d(body["total"]["collected"]),
                    _d(body["total"]["due"]),
                    _d(body["total"]["written_off"]),
                ),
                (_d(rows[0][0]), _d(rows[0][1]), _d(rows[0][2])),
            ),
        ),
        "attainment": Raw(
            covers="the five actuals of the year for the whole company, from the documents",
            sql=f"""SELECT
 (SELECT sum(amount) FROM contracts_contract
   WHERE signed_on BETWEEN {lit(d.year_start)} AND {lit(d.year_end)} AND status <> 'terminated'),
 (SELECT sum(a.amount) FROM receivables_payment p
    JOIN receivables_allocation a ON a.payment_id = p.id AND a.reversed_at IS NULL
   WHERE p.received_on BETWEEN {lit(d.year_start)} AND {lit(d.year_end)}
     AND p.status <> 'reversed'),
 (SELECT count(*) FROM (SELECT DISTINCT ON (customer_id) signed_on FROM contracts_contract
                         WHERE signed_on IS NOT NULL ORDER BY customer_id, signed_on, id) f
   WHERE f.signed_on BETWEEN {lit(d.year_start)} AND {lit(d.year_end)}),
 (SELECT count(*) FROM visits_visitrecord
   WHERE started_at >= {lit(year[0])} AND started_at < {lit(year[1])}),
 (SELECT count(*) FROM visits_visitrecord
   WHERE started_at >= {lit(year[0])} AND started_at < {lit(year[1])} AND is_effective)""",
            check=lambda body, rows: (
                tuple(_d(t["actual"]) for t in body["totals"]),
                tuple(_d(v) for v in rows[0]),
            ),
        ),
        "comparison, teams": Raw(
            covers="signed contract amount of the year per unit the owner was in when signing",
            sql=f"""SELECT m.org_unit_id, sum(c.amount)
  FROM contracts_contract c
  JOIN goals_unitmembership m ON m.user_id = c.owner_id AND m.valid_from <= c.signed_on
   AND (m.valid_to IS NULL OR m.valid_to > c.signed_on)
 WHERE c.signed_on BETWEEN {lit(d.year_start)} AND {lit(d.year_end)}
   AND c.status <> 'terminated'
 GROUP BY 1""",
            check=lambda body, rows: ((_d(body["total"]["actual"]),), (_d(_sum(rows, 1)),)),
        ),
        "visit figures": Raw(
            # "not visited" is relative to the moment: now(), run seconds before our request
            covers="this week's plans and visits, and the customers not visited in 30 days",
            sql=f"""SELECT
 (SELECT count(*) FROM visits_visitplan
   WHERE planned_date >= {lit(d.week_start)} AND planned_date < {lit(week_end)}
     AND status <> 'cancelled'),
 (SELECT count(*) FROM visits_visitrecord
   WHERE started_at >= {lit(week[0])} AND started_at < {lit(week[1])}),
 (SELECT count(*) FROM customers_customer c
   WHERE c.owner_id IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM visits_visitrecord v
          WHERE v.customer_id = c.id AND v.started_at >= now() - interval '30 days'))""",
            check=lambda body, rows: (
                (body["total"]["plans"], body["total"]["visits"], body["not_visited"]),
                tuple(rows[0]),
            ),
        ),
        "process diagnostics": Raw(
            covers="stays and approval waits ended in the period (count, p50, p90), the "
            "current stays, and the six months' trend of the stages",
            sql=f"""SELECT 'passed', stage, count(*),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY left_at - entered_at)
  FROM opportunities_stagechange
 WHERE left_at >= {lit(p90[0])} AND left_at < {lit(p90[1])} AND stage IN {OPEN_STAGES}
 GROUP BY stage
UNION ALL
SELECT 'now', stage, count(*),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {lit(d.now)} - entered_at)
  FROM opportunities_stagechange WHERE left_at IS NULL AND stage IN {OPEN_STAGES}
 GROUP BY stage
UNION ALL
SELECT 'trend ' || to_char(date_trunc('month', left_at), 'YYYY-MM') || ' ' || stage, '', count(*),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY left_at - entered_at)
  FROM opportunities_stagechange
 WHERE left_at >= {lit(d.bounds(d.today.replace(day=1) - timedelta(days=155), d.today)[0])}
   AND left_at < {lit(p90[1])} AND stage IN {OPEN_STAGES}
 GROUP BY 1, stage
UNION ALL
SELECT 'step', r.policy_id::text || ' ' || t.step_name, count(*),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY t.decided_at - t.created_at)
  FROM approvals_approvaltask t JOIN approvals_approvalrequest r ON r.id = t.request_id
 WHERE t.status IN ('approved', 'rejected') AND t.decided_at >= {lit(p90[0])}
   AND t.decided_at < {lit(p90[1])}
 GROUP BY 2""",
            check=lambda body, rows: (
                tuple(sorted((s["key"], s["passed"]) for s in body["stages"] if s["passed"])),
                tuple(sorted((r[1], r[2]) for r in rows if r[0] == "passed")),
            ),
        ),
    }


# --- the cases ---------------------------------------------------------------------------


def cases(d: Dates, rep_id: int) -> list[Case]:
    """Every case of the suite, lists first, then reports, then exports."""
    today, d90, y0 = d.today.isoformat(), d.d90.isoformat(), d.year_start.isoformat()
    period90 = f"start={d90}&end={today}"
    raw = raw_statements(d)
    lists = [
        Case("list", "home (dashboard)", "rep", "/"),
        Case("list", "home (dashboard)", "director", "/"),
        Case("list", "leads", "rep", "/leads/"),
        Case("list", "leads", "supervisor", "/leads/"),
        Case("list", "leads", "director", "/leads/"),
        Case("list", "leads, page 100", "director", "/leads/?page=100"),
        Case("list", "leads, status filter", "supervisor", "/leads/?status=contacted"),
        Case("list", "leads, search", "director", "/leads/?q=%E5%8D%8E%E7%9B%9B"),
        Case("list", "customers", "rep", "/customers/"),
        Case("list", "customers", "director", "/customers/"),
        Case("list", "public pool", "rep", "/customers/pool/"),
        Case("list", "opportunities", "supervisor", "/opportunities/"),
        Case("list", "opportunities board", "supervisor", "/opportunities/board/"),
        Case("list", "opportunities board", "rep", "/opportunities/board/"),
        Case("list", "visit calendar", "rep", "/visits/"),
        Case("list", "visit records", "supervisor", "/visits/records/"),
        Case("list", "weekly reports", "supervisor", "/visits/reports/"),
        Case("list", "contracts", "director", "/contracts/"),
        Case("list", "contracts", "rep", "/contracts/"),
        Case("list", "receivables workbench", "finance", "/receivables/"),
        Case("list", "installments", "finance", "/receivables/installments/"),
        Case("list", "payments", "finance", "/receivables/payments/"),
        Case("list", "collection tasks", "rep", "/receivables/collection/tasks/"),
        Case("list", "approvals inbox", "manager", "/approvals/"),
        Case("list", "approvals submitted", "rep", "/approvals/submitted/"),
        Case("list", "targets", "director", "/goals/targets/"),
        Case("list", "scorecards", "supervisor", "/incentives/scorecards/"),
        Case("list", "commission statements", "finance", "/incentives/commissions/"),
        Case("list", "notifications", "rep", "/notifications/"),
        Case("list", "users", "admin", "/accounts/users/"),
        # the API (a bearer token)
        Case("list", "api leads", "erp", "/api/v1/leads/", api=True),
        Case("list", "api leads", "rep", "/api/v1/leads/", api=True),
        Case(
            "list",
            "api leads, owner filter",
            "supervisor",
            f"/api/v1/leads/?owner={rep_id}",
            api=True,
        ),
        Case("list", "api customers", "erp", "/api/v1/customers/", api=True),
        Case("list", "api customers", "rep", "/api/v1/customers/", api=True),
        Case("list", "api opportunities", "supervisor", "/api/v1/opportunities/", api=True),
        Case(
            "list", "api opportunity board", "supervisor", "/api/v1/opportunities/board/", api=True
        ),
        Case("list", "api visit records", "supervisor", "/api/v1/visit-records/", api=True),
        Case("list", "api visit plans", "rep", "/api/v1/visit-plans/", api=True),
        Case("list", "api contracts", "erp", "/api/v1/contracts/", api=True),
        Case("list", "api installments", "finance", "/api/v1/installments/", api=True),
        Case("list", "api payments", "finance", "/api/v1/payments/", api=True),
        Case("list", "api collection tasks", "rep", "/api/v1/collection-tasks/", api=True),
        Case("list", "api approvals inbox", "manager", "/api/v1/approvals/inbox/", api=True),
        Case("list", "api targets", "director", "/api/v1/targets/", api=True),
        Case("list", "api scorecards", "supervisor", "/api/v1/scorecards/", api=True),
        Case(
            "list",
            "api commission statements",
            "finance",
            "/api/v1/commission-statements/",
            api=True,
        ),
        Case("list", "api notifications", "rep", "/api/v1/notifications/", api=True),
    ]
    reports = [
        # the API figures: the hand-written SQL is compared with these
        Case("report", "funnel", "director",
             f"/api/v1/pipeline-figures/funnel/?{period90}", True, raw["funnel"]),
        Case("report", "stage durations", "director",
             f"/api/v1/pipeline-figures/stage-durations/?{period90}", True,
             raw["stage durations"]),
        Case("report", "win rate", "director",
             f"/api/v1/pipeline-figures/win-rate/?{period90}", True, raw["win rate"]),
        Case("report", "forecast", "director", "/api/v1/pipeline-figures/forecast/", True,
             raw["forecast"]),
        Case("report", "aging, company", "finance",
             "/api/v1/reports/receivables-aging/?group_by=company", True, raw["aging, company"]),
        Case("report", "aging, by rep", "finance",
             "/api/v1/reports/receivables-aging/?group_by=rep", True, raw["aging, by rep"]),
        Case("report", "collection figures", "finance",
             f"/api/v1/reports/collection/?start={y0}&end={today}&group_by=company", True,
             raw["collection figures"]),
        Case("report", "attainment", "director", "/api/v1/reports/attainment/?period=year",
             True, raw["attainment"]),
        Case("report", "comparison, teams", "director",
             "/api/v1/reports/comparison/?period=year&view=teams", True,
             raw["comparison, teams"]),
        Case("report", "visit figures", "director", "/api/v1/visit-figures/", True,
             raw["visit figures"]),
        Case("report", "process diagnostics", "director",
             "/api/v1/reports/process-diagnostics/", True, raw["process diagnostics"]),
        Case("report", "competitors", "director", "/api/v1/reports/competitors/", True),
        Case("report", "lead SLA compliance", "director", "/api/v1/leads/sla-compliance/", True),
        # the report pages (figures, charts and tables rendered)
        Case("report", "page: funnel", "director", "/opportunities/funnel/"),
        Case("report", "page: forecast", "director", "/opportunities/forecast/"),
        Case("report", "page: receivables figures", "finance", "/receivables/figures/"),
        Case("report", "page: attainment", "director", "/goals/attainment/?period=year"),
        Case("report", "page: comparison", "director", "/goals/comparison/?period=year"),
        Case("report", "page: visit figures", "director", "/visits/figures/"),
        Case("report", "page: diagnostics", "director", "/incentives/diagnostics/"),
        Case("report", "page: competitors", "director", "/incentives/competitors/"),
        # empty unless the scorecards job ran: the scale data has no scorecards
        Case("report", "page: scorecard ranking", "director", "/incentives/scorecards/ranking/"),
        Case("report", "page: lead sources", "director", "/leads/sources/"),
        Case("report", "page: lead SLA", "director", "/leads/sla/"),
    ]  # fmt: skip
    exports = [
        Case("export", "attainment, year", "admin",
             f"/goals/attainment/?period=year&date={today}&format=xlsx"),
        Case("export", "comparison, teams", "admin",
             f"/goals/comparison/?period=year&date={today}&format=xlsx"),
        Case("export", "visit figures", "admin", "/visits/figures/?format=xlsx"),
        Case("export", "funnel", "admin", "/opportunities/funnel/?format=xlsx"),
        Case("export", "forecast", "admin", "/opportunities/forecast/?format=xlsx"),
        Case("export", "lead sources", "admin", "/leads/sources/?format=xlsx"),
        Case("export", "lead SLA", "admin", "/leads/sla/?format=xlsx"),
        Case("export", "receivables figures", "admin",
             f"/receivables/figures/?start={y0}&end={today}&format=xlsx"),
        Case("export", "diagnostics", "admin", "/incentives/diagnostics/?format=xlsx"),
        Case("export", "competitors", "admin", "/incentives/competitors/?format=xlsx"),
    ]  # fmt: skip
    return lists + reports + exports
