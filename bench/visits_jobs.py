"""Benchmark of the nightly pipeline and visit jobs (issue 5 "Figures": the missed-plan and the
stuck-deal jobs under 10 s each, with 300,000 opportunities and 2,000,000 visit records).

Against the scale database (``manage.py seed_scale --database-name salesctl_scale``, then
``--add opportunities,visits``), inside a transaction rolled back at the end (the plans and
deals the jobs mark, and the notifications they send, do not stay). The job functions are
called directly, as the Celery tasks call them, each twice: the first run does tonight's work
and the second, at the same time, must find nothing left (idempotent).

- missed plans (`visits.services.visit_plan_mark_missed`): tonight's run (the business date
  of tomorrow: today's plans still planned become missed), then after a week without the job
  (a backlog of seven days);
- stuck deals (`opportunities.services.opportunity_flag_stuck`): the next 03:00 run (deals
  whose stay passed the limit since the last run are flagged to their owners, those flagged
  OPPORTUNITY_STUCK_ESCALATE_DAYS ago escalated to the supervisors — one notification per
  person), then a week later.

For each run: seconds, rows marked, queries. Then EXPLAIN (ANALYZE, BUFFERS) of the UPDATEs
(in a savepoint rolled back).

    .venv/bin/python bench/visits_jobs.py [--database salesctl_scale]
"""

from __future__ import annotations

import argparse
import time as clock
from datetime import datetime, time, timedelta

import common
from leads_list import Rollback

TARGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args()
    common.setup_django(args.database)

    from django.db import connection, reset_queries, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.opportunities.choices import OPEN_STAGES
    from apps.opportunities.models import Opportunity
    from apps.opportunities.services import opportunity_flag_stuck
    from apps.visits.choices import PlanStatus
    from apps.visits.models import VisitPlan
    from apps.visits.services import visit_plan_mark_missed

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM opportunities_opportunity), "
            "(SELECT count(*) FROM visits_visitplan), (SELECT count(*) FROM visits_visitrecord)"
        )
        deals, plans, records = cursor.fetchone()
    if not deals or not records:
        raise SystemExit("no scale deals or visits: seed_scale --add opportunities,visits first")
    today = timezone.localdate()
    open_plans = VisitPlan.objects.filter(status=PlanStatus.PLANNED).count()
    open_deals = Opportunity.objects.filter(stage__in=OPEN_STAGES).count()
    print(
        f"database {connection.settings_dict['NAME']}: {deals:,} opportunities ({open_deals:,} "
        f"open), {plans:,} visit plans ({open_plans:,} planned), {records:,} visit records"
    )

    results: list[tuple[str, float, int, int]] = []

    def run(what: str, call) -> None:
        reset_queries()  # the log keeps 9,000 queries: a full one would capture none
        with CaptureQueriesContext(connection) as captured:
            started = clock.perf_counter()
            done = call()
            seconds = clock.perf_counter() - started
        count = done if isinstance(done, int) else done.notified + done.escalated
        detail = (
            f"{done:,} marked"
            if isinstance(done, int)
            else f"{done.notified:,} flagged, {done.escalated:,} escalated"
        )
        results.append((what, seconds, count, len(captured.captured_queries)))
        print(
            f"{what:<44} {seconds:7.2f} s  {detail:<32} {len(captured.captured_queries):4} queries",
            flush=True,
        )

    tz = timezone.get_current_timezone()
    tonight = datetime.combine(today + timedelta(days=1), time(3), tzinfo=tz)
    try:
        with transaction.atomic():
            if not args.no_explain:
                explain(today, tonight)
            for label, day in (("tonight", today + timedelta(days=1)),
                               ("after a week without it", today + timedelta(days=8))):  # fmt: skip
                run(f"missed plans, {label}: 1st run",
                    lambda day=day: visit_plan_mark_missed(today=day))  # fmt: skip
                run(f"missed plans, {label}: 2nd run",
                    lambda day=day: visit_plan_mark_missed(today=day))  # fmt: skip
            for label, at in (("next 03:00", tonight), ("a week later", tonight + timedelta(7))):
                run(f"stuck deals, {label}: 1st run", lambda at=at: opportunity_flag_stuck(now=at))
                run(f"stuck deals, {label}: 2nd run", lambda at=at: opportunity_flag_stuck(now=at))
            raise Rollback
    except Rollback:
        pass

    worst = max(results, key=lambda r: r[1])
    verdict = "met" if worst[1] < TARGET_S else "MISSED"
    print(f"\nslowest run: {worst[1]:.2f} s ({worst[0]}); target < {TARGET_S:.0f} s: {verdict}")
    again = [r for r in results if "2nd run" in r[0] and r[2]]
    print("second runs marked nothing: " + ("yes" if not again else f"NO: {again}"))


def explain(today, tonight) -> None:
    """EXPLAIN ANALYZE of the jobs' UPDATEs, rolled back."""
    from django.conf import settings
    from django.db import connection, transaction

    from apps.opportunities import services

    params = {
        "now": tonight, "open": services._OPEN,
        "factor": float(settings.OPPORTUNITY_STUCK_FACTOR),
        "days": int(settings.OPPORTUNITY_STUCK_ESCALATE_DAYS),
    }  # fmt: skip
    statements = [
        ("missed plans", "UPDATE visits_visitplan SET status = 'missed', updated_at = now() "
         "WHERE status = 'planned' AND planned_date < %(day)s", {"day": today + timedelta(1)}),
        ("stuck deals: flag", services._FLAG_STUCK_SQL, params),
        ("stuck deals: escalate", services._ESCALATE_STUCK_SQL, params),
    ]  # fmt: skip
    for name, statement, values in statements:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", values)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                raise Rollback
        except Rollback:
            pass
        print(f"=== EXPLAIN ANALYZE: {name} ===\n{plan}\n")


if __name__ == "__main__":
    main()
