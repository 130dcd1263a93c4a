"""The Excel file of a period's scorecard ranking, written like every report file
(`apps.leads.exports.workbook`: a title row, the filters, a bold header, one row per scorecard,
a bold row of averages): rank in the company and in the team, the person, the team, the score,
the grade, the status, then each metric's value and points. The rows are the ranking page's
(`selectors_scorecards.ranking`), in the same scope."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils.translation import gettext as _

from apps.leads.exports import Column, Sheet, workbook, xlsx_response

from .choices import KpiMetric
from .models import ScorecardLine
from .selectors_scorecards import Ranking

MAX_ROWS = 5000


def ranking_rows(ranking: Ranking) -> list:
    """The ranking's cards with their lines (two queries)."""
    return list(
        ranking.cards.prefetch_related(
            Prefetch("lines", queryset=ScorecardLine.objects.order_by("position", "id"))
        )[:MAX_ROWS]
    )


def ranking_workbook(ranking: Ranking, *, unit_name: str = "") -> bytes:
    cards = ranking_rows(ranking)
    metrics = [m.metric for m in ranking.scheme.metrics.order_by("position", "id")]
    columns = [
        Column(_("Rank in company"), "count"),
        Column(_("Rank in team"), "count"),
        Column(_("Name")),
        Column(_("Team")),
        Column(_("Score"), "number"),
        Column(_("Grade")),
        Column(_("Status")),
    ]
    for metric in metrics:
        label = str(KpiMetric(metric).label)
        columns += [
            Column(f"{label}: {_('value')}", "number"),
            Column(f"{label}: {_('points')}", "number"),
        ]
    rows = []
    for card in cards:
        lines = {line.metric: line for line in card.lines.all()}
        row = [
            card.rank_in_company, card.rank_in_unit, card.user.display_name,
            card.org_unit.name if card.org_unit else "", card.score, card.grade,
            card.get_status_display(),
        ]  # fmt: skip
        for metric in metrics:
            line = lines.get(metric)
            measured = line is not None and line.value is not None
            row += [line.value if measured else None, line.points if measured else None]
        rows.append(row)
    average = None
    if cards:
        mean = sum((c.score for c in cards), Decimal(0)) / len(cards)
        average = [None, None, _("Average"), "", mean.quantize(Decimal("0.01"), ROUND_HALF_UP),
                   "", ""] + [None] * (2 * len(metrics))  # fmt: skip
    filters = " · ".join(
        part for part in (ranking.period.label(), ranking.scheme.name, unit_name) if part
    )
    sheet = Sheet(
        title=_("Ranking"), heading=_("Scorecard ranking"), filters=filters, columns=columns,
        rows=rows, total=average,
    )  # fmt: skip
    return workbook([sheet])


def filename(ranking: Ranking) -> str:
    period = ranking.period
    tag = (
        f"{period.start:%Y-%m}"
        if period.kind == "month"
        else (f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}")
    )
    return f"scorecards-{tag}-{ranking.scheme.role}-{ranking.scheme.pk}.xlsx"


def ranking_response(ranking: Ranking, *, unit_name: str = "") -> HttpResponse:
    return xlsx_response(ranking_workbook(ranking, unit_name=unit_name), filename(ranking))
