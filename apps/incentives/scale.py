"""Scale data of assessment and incentives (`manage.py seed_scale`): each part's loader in its
own module (`scale_<part>.py`, a `load(ctx)` function), run in this order."""

from __future__ import annotations

import importlib

from apps.core.scale import ScaleContext

REQUIRES = ("accounts", "customers", "opportunities", "visits", "contracts", "receivables", "goals")
PARTS = ("scale_scorecards", "scale_commissions", "scale_surveys")


def load(ctx: ScaleContext) -> None:
    for part in PARTS:
        importlib.import_module(f"{__package__}.{part}").load(ctx)
