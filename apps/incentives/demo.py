"""Demo data of assessment and incentives for `manage.py seed_demo`: each part's loader in its
own module (a scoring scheme and last month's scorecards, a commission plan and statements, a
running contest, survey answers, competitors). Idempotent, like every app's demo loader."""

from __future__ import annotations

import importlib

from apps.core.history import history_context

# seed_demo leaves the history contexts to this loader: one per part (see seed_demo).
OWN_HISTORY_CONTEXTS = True
PARTS = ("demo_scorecards", "demo_commissions", "demo_contests", "demo_surveys", "demo_diagnostics")


def load(stdout) -> None:
    for part in PARTS:
        module = importlib.import_module(f"{__package__}.{part}")
        with history_context(job="seed_demo", app="incentives", part=part):
            module.load(stdout)
