"""Excel files of the pipeline figure pages (``?format=xlsx``): the weighted forecast (by team,
by rep, and the month targets with their gap) and the funnel page (funnel, stage durations,
win rates). The same objects as the pages (`apps.opportunities.figures`), written by the
shared report writer (`apps.leads.exports`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from apps.leads.exports import Column, Sheet, number, workbook

from . import figures


def _bucket_header(bucket: figures.ForecastBucket) -> str:
    return bucket.month.strftime("%Y-%m") if bucket.month else _("Overdue")


def _forecast_sheet(
    title: str, head: str, forecast: figures.Forecast, rows: list[figures.ForecastRow], filters: str
) -> Sheet:
    """Weighted amount per bucket, then the row's weighted total, amount and deals."""
    columns = [Column(head)]
    columns += [Column(_("Weighted %(month)s") % {"month": _bucket_header(b)}, "money")
                for b in forecast.buckets]  # fmt: skip
    columns += [Column(_("Weighted total"), "money"), Column(_("Amount"), "money"),
                Column(_("Deals"), "count")]  # fmt: skip

    def values(row: figures.ForecastRow, name: str) -> list[Any]:
        total = row.total
        return [name, *(row.cell(b.key).weighted for b in forecast.buckets), total.weighted,
                total.amount, total.deals]  # fmt: skip

    return Sheet(
        title=title,
        heading=_("Weighted forecast: %(title)s") % {"title": title},
        filters=filters,
        columns=columns,
        rows=[values(r, r.name or _("No unit")) for r in rows],
        total=values(forecast.totals, _("Total")),
    )


def forecast_workbook(forecast: figures.Forecast, *, filters: str, by_team: bool) -> bytes:
    """The forecast by team (unless narrowed to one person), by rep, and by month against the
    target."""
    sheets = []
    if by_team:
        sheets.append(_forecast_sheet(_("By team"), _("Team"), forecast, forecast.by_team, filters))
    sheets.append(_forecast_sheet(_("By rep"), _("Rep"), forecast, forecast.by_rep, filters))
    months = forecast.target_rows()
    has_target = forecast.totals.target is not None
    sheets.append(
        Sheet(
            title=_("Against target"),
            heading=_("Weighted forecast against the signed contract amount target"),
            filters=filters,
            columns=[
                Column(_("Month")),
                Column(_("Weighted forecast"), "money"),
                Column(_("Target"), "money"),
                Column(_("Gap"), "money"),
            ],
            rows=[
                [m["bucket"].month.strftime("%Y-%m"), m["weighted"], m["target"], m["gap"]]
                for m in months
            ],
            total=[
                _("Total"),
                sum((m["weighted"] for m in months), figures.ZERO),
                forecast.totals.target if has_target else None,
                forecast.target_gap,
            ],
        )
    )
    return workbook(sheets)


def funnel_workbook(result: figures.PipelineFigures, *, filters: str, by_team: bool) -> bytes:
    """The funnel (deals created in the period by the furthest stage reached), the days in
    each stage, and the win rates by team and by rep."""
    funnel = result.funnel
    funnel_sheet = Sheet(
        title=_("Funnel"),
        heading=_("Funnel conversion"),
        filters=filters,
        columns=[
            Column(_("Stage")),
            Column(_("Deals reached"), "count"),
            Column(_("Share of created (%)"), "pct"),
            Column(_("Went on to the next stage (%)"), "pct"),
        ],
        rows=[[s.label, s.reached, s.share_pct, s.next_pct] for s in funnel.steps],
        total=[_("Created"), funnel.created, 100.0 if funnel.created else None, None],
    )
    durations = result.durations
    durations_sheet = Sheet(
        title=_("Days in each stage"),
        heading=_("Days in each stage"),
        filters=filters,
        columns=[
            Column(_("Stage")),
            Column(_("Stays"), "count"),
            Column(_("Average (days)"), "days"),
            Column(_("Median (days)"), "days"),
            Column(_("Expected (days)"), "count"),
        ],
        rows=[[d.label, d.stays, d.avg_days, d.median_days, d.expected_days] for d in durations],
        total=[_("Total"), sum(d.stays for d in durations), None, None, None],
    )
    rates = result.win_rates

    def rate_sheet(title: str, head: str, rows: list[figures.ClosedRow]) -> Sheet:
        def values(name: str, x: figures.ClosedFigures) -> list[Any]:
            return [name, x.won, x.lost, number(x.win_pct), x.cycle_days]

        return Sheet(
            title=title,
            heading=title,
            filters=filters,
            columns=[
                Column(head),
                Column(_("Won"), "count"),
                Column(_("Lost"), "count"),
                Column(_("Win rate (%)"), "pct"),
                Column(_("Cycle (days)"), "days"),
            ],
            rows=[values(r.name or _("No unit"), r.figures) for r in rows],
            total=values(_("Total"), rates.total),
        )

    sheets = [funnel_sheet, durations_sheet]
    if by_team:
        sheets.append(rate_sheet(_("Win rate by team"), _("Team"), rates.by_team))
    sheets.append(rate_sheet(_("Win rate by rep"), _("Rep"), rates.by_rep))
    return workbook(sheets)
