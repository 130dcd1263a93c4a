"""Excel files of the process diagnostics and of the competitor analysis (``?format=xlsx``):
the same objects as the pages (`diagnostics.process_diagnostics`,
`competitors.competitor_analysis`), written by the shared report writer
(`apps.leads.exports`), so every report file reads alike."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from apps.leads.exports import Column, Sheet, workbook

from .competitors import CompetitorAnalysis
from .diagnostics import Diagnostics, Node, Trend


def _slow(node: Node) -> str:
    return str(node.slow_rank) if node.slow_rank else ""


def _node_values(node: Node) -> list[Any]:
    w = node.waits
    return [
        w.passed, node.p50, node.p90, node.expected_value, node.ratio, w.passed_over_pct,
        w.pending, node.pending_p50, node.oldest, w.pending_over_pct, _slow(node),
    ]  # fmt: skip


def _node_columns(unit: str) -> list[Column]:
    if unit == "days":
        p50, p90 = _("Median (days)"), _("90th percentile (days)")
        expected, now_p50 = _("Expected (days)"), _("Waiting now: median (days)")
        oldest = _("Longest wait now (days)")
    else:
        p50, p90 = _("Median (hours)"), _("90th percentile (hours)")
        expected, now_p50 = _("Reminder after (hours)"), _("Waiting now: median (hours)")
        oldest = _("Longest wait now (hours)")
    return [
        Column(_("Passed"), "count"), Column(p50, "days"), Column(p90, "days"),
        Column(expected, "days"), Column(_("90th percentile ÷ expected"), "number"),
        Column(_("Over expected (%)"), "pct"), Column(_("Waiting now"), "count"),
        Column(now_p50, "days"), Column(oldest, "days"),
        Column(_("Waiting now, over expected (%)"), "pct"), Column(_("Slowest")),
    ]  # fmt: skip


def _trend_sheet(title: str, heading: str, trend: Trend, names: dict[str, list[str]],
                 heads: list[str], filters: str) -> Sheet:  # fmt: skip
    columns = [Column(h) for h in heads]
    for month in trend.months:
        label = month.strftime("%Y-%m")
        columns += [Column(_("%(month)s passed") % {"month": label}, "count"),
                    Column(_("%(month)s median") % {"month": label}, "days"),
                    Column(_("%(month)s 90th percentile") % {"month": label}, "days")]  # fmt: skip
    rows = []
    for key, points in trend.series.items():
        row: list[Any] = list(names.get(key, [key] * len(heads)))
        for point in points:
            row += [point.passed, point.p50, point.p90]
        rows.append(row)
    return Sheet(title=title, heading=heading, filters=filters, columns=columns, rows=rows)


def filters_text(start, end, team) -> str:
    text = _("From %(start)s to %(end)s") % {"start": start.isoformat(), "end": end.isoformat()}
    return " · ".join(t for t in (text, team.name if team else "") if t)


def diagnostics_workbook(result: Diagnostics) -> bytes:
    """Stages, approval steps, where documents wait longest now, and the two trends."""
    filters = filters_text(result.start, result.end, result.team)
    stages = Sheet(
        title=_("Stages"),
        heading=_("Process diagnostics: pipeline stages"),
        filters=filters,
        columns=[Column(_("Stage")), *_node_columns("days")],
        rows=[[n.label, *_node_values(n)] for n in result.stages],
    )
    steps = Sheet(
        title=_("Approval steps"),
        heading=_("Process diagnostics: approval steps"),
        filters=filters,
        columns=[Column(_("Document")), Column(_("Step")), *_node_columns("hours")],
        rows=[[n.document_label, n.label, *_node_values(n)] for n in result.steps],
    )
    oldest = Sheet(
        title=_("Waiting longest"),
        heading=_("Deals waiting longest in their stage now"),
        filters=filters,
        columns=[
            Column(_("Opportunity")),
            Column(_("Stage")),
            Column(_("Owner")),
            Column(_("In stage since")),
            Column(_("Days in stage"), "days"),
            Column(_("Expected (days)"), "count"),
        ],
        rows=[
            [
                s.name,
                s.stage_label,
                s.owner_name,
                timezone.localtime(s.entered_at).strftime("%Y-%m-%d %H:%M"),
                s.waited_days,
                s.expected_days,
            ]
            for s in result.oldest_stays
        ],
    )
    pending = Sheet(
        title=_("Pending longest"),
        heading=_("Approvals pending longest now"),
        filters=filters,
        columns=[
            Column(_("Document")),
            Column(_("Title")),
            Column(_("Step")),
            Column(_("Approvers")),
            Column(_("Submitted by")),
            Column(_("Waiting since")),
            Column(_("Hours waiting"), "days"),
        ],
        rows=[
            [
                r.document_label,
                r.title,
                r.step_name,
                ", ".join(r.approvers),
                r.submitter_name,
                timezone.localtime(r.since).strftime("%Y-%m-%d %H:%M"),
                r.waited_hours,
            ]
            for r in result.oldest_requests
        ],
    )
    stage_names = {n.key: [n.label] for n in result.stages}
    step_names = {n.key: [n.document_label, n.label] for n in result.steps}
    for key in result.step_trend.series:
        document_type, _sep, step = key.partition("/")
        step_names.setdefault(key, [document_type, step])
    sheets = [
        stages, steps, oldest, pending,
        _trend_sheet(_("Stage trend"), _("Days in stage per month"), result.stage_trend,
                     stage_names, [_("Stage")], filters),
        _trend_sheet(_("Approval trend"), _("Hours at each approval step per month"),
                     result.step_trend, step_names, [_("Document"), _("Step")], filters),
    ]  # fmt: skip
    return workbook(sheets)


def competitors_workbook(result: CompetitorAnalysis) -> bytes:
    """Lost deals and mentions per competitor, and per month."""
    filters = filters_text(result.start, result.end, result.team)
    months = [m.strftime("%Y-%m") for m in result.months]
    summary = Sheet(
        title=_("By competitor"),
        heading=_("Deals lost to competitors and mentions in visit records"),
        filters=filters,
        columns=[
            Column(_("Competitor")),
            Column(_("In the registry")),
            Column(_("Lost deals"), "count"),
            Column(_("Share of lost deals (%)"), "pct"),
            Column(_("Amount lost"), "money"),
            Column(_("Share of amount lost (%)"), "pct"),
            Column(_("Mentions in visit records"), "count"),
        ],
        rows=[
            [
                r.name,
                _("Yes") if r.kind == "competitor" else _("No"),
                r.lost,
                r.lost_share,
                r.amount,
                r.amount_share,
                r.mentions if r.kind == "competitor" else None,
            ]
            for r in result.rows
        ],
        total=[
            _("Total"),
            "",
            result.lost,
            100.0 if result.lost else None,
            result.amount,
            100.0 if result.amount else None,
            result.mentioning_records,
        ],
    )
    lost = Sheet(
        title=_("Lost by month"),
        heading=_("Deals lost per competitor and month"),
        filters=filters,
        columns=[Column(_("Competitor")), *[Column(m, "count") for m in months],
                 *[Column(_("Amount %(month)s") % {"month": m}, "money") for m in months]],
        rows=[[r.name, *[r.month(m).lost for m in result.months],
               *[r.month(m).amount for m in result.months]] for r in result.rows],
        total=[_("Total"), *[c.lost for c in result.month_totals()],
               *[c.amount for c in result.month_totals()]],
    )  # fmt: skip
    mentions = Sheet(
        title=_("Mentions by month"),
        heading=_("Visit records mentioning each competitor, per month"),
        filters=filters,
        columns=[Column(_("Competitor")), *[Column(m, "count") for m in months],
                 Column(_("Total"), "count")],
        rows=[[r.name, *[r.month(m).mentions for m in result.months], r.mentions]
              for r in result.competitors],
    )  # fmt: skip
    return workbook([summary, lost, mentions])
