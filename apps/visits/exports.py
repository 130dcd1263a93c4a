"""The Excel file of the visit figures page (拜访统计, ``?format=xlsx``): the rows of the page
(units aggregating their reps, then reps) and the total, from the same `figures.VisitFigures`,
written by the shared report writer (`apps.leads.exports`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.leads.exports import Column, Sheet, pct, workbook

from .figures import Figures, VisitFigures


def _values(name: str, level: str, f: Figures, not_visited: int) -> list[Any]:
    return [
        name,
        level,
        f.plans,
        f.done,
        f.missed,
        pct(f.execution_rate),
        f.visits,
        f.effective,
        pct(f.effective_rate),
        f.customers,
        f.visits_per_customer,
        f.collections,
        f.orders,
        not_visited,
    ]


def figures_workbook(result: VisitFigures, *, filters: str) -> bytes:
    """One sheet: a row per unit and rep of the page, the total last."""
    levels = {"unit": _("Org unit"), "rep": _("Rep")}
    columns = [
        Column(_("Team / rep")),
        Column(_("Level")),
        Column(_("Plans"), "count"),
        Column(_("Done"), "count"),
        Column(_("Missed"), "count"),
        Column(_("Plan execution rate (%)"), "pct"),
        Column(_("Visits"), "count"),
        Column(_("Effective visits"), "count"),
        Column(_("Effective visit rate (%)"), "pct"),
        Column(_("Customers visited"), "count"),
        Column(_("Visits per customer"), "number"),
        Column(_("Collections"), "money"),
        Column(_("Orders"), "money"),
        Column(_("Not visited in %(days)d days") % {"days": result.days}, "count"),
    ]
    rows = [_values(r.name, str(levels[r.kind]), r.figures, r.not_visited) for r in result.rows]
    title = _("Visit statistics")
    return workbook(
        [
            Sheet(
                title=title,
                heading=title,
                filters=filters,
                columns=columns,
                rows=rows,
                total=_values(_("Total"), "", result.total, result.not_visited),
            )
        ]
    )
