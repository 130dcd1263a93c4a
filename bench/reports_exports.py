"""Benchmark of the reports' Excel exports (issue 7 "Figures": any report's Excel export under
5 s at scale).

Against the scale database (``manage.py seed_scale --database-name salesctl_scale``), inside a
transaction rolled back at the end: as the administrator (everything in scope), each report's
``?format=xlsx`` over its widest usual period — the attainment and the comparison of the year,
the visit statistics, funnel, forecast, lead sources and SLA of the last 90 days or the
coming months, the receivables figures of the year — `--repeat` times; prints p50/p95/max and
the size of the file.

    .venv/bin/python bench/reports_exports.py [--database salesctl_scale] [--repeat 3]
"""

from __future__ import annotations

import argparse

import common

TARGET_MS = 5000


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=common.DEFAULT_DATABASE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    common.setup_django(args.database)

    from django.db import transaction
    from django.test import Client
    from django.utils import timezone

    from apps.accounts.models import User

    today = timezone.localdate()
    year = f"{today.year}-01-01"
    exports = {
        "attainment, year": f"/goals/attainment/?period=year&date={today}&format=xlsx",
        "comparison, teams": f"/goals/comparison/?period=year&date={today}&format=xlsx",
        "visit statistics": "/visits/figures/?format=xlsx",
        "funnel, 90 days": "/opportunities/funnel/?format=xlsx",
        "forecast": "/opportunities/forecast/?format=xlsx",
        "lead sources": "/leads/sources/?format=xlsx",
        "lead SLA": "/leads/sla/?format=xlsx",
        "receivables figures": f"/receivables/figures/?start={year}&end={today}&format=xlsx",
    }
    worst = 0.0
    try:
        with transaction.atomic():
            client = Client(SERVER_NAME="localhost")
            client.force_login(User.objects.get(username="scale_admin"))
            for name, url in exports.items():
                response = client.get(url)
                kind = response.get("Content-Type", "")
                if response.status_code != 200 or "spreadsheet" not in kind:
                    print(f"{name:22} {url}: HTTP {response.status_code} {kind}")
                    continue
                ms = []
                for _ in range(args.repeat):
                    took, response = common.timed(lambda url=url: client.get(url))
                    ms.append(took)
                worst = max(worst, common.percentile(ms, 0.95))
                size = len(response.content) // 1024
                print(f"{name:22} {common.figures(ms)}  {size:6} KiB", flush=True)
            raise Rollback
    except Rollback:
        pass
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"slowest export p95 {worst:.0f} ms; target < {TARGET_MS} ms: {verdict}")


if __name__ == "__main__":
    main()
