"""Excel files of the goal reports (pandas + openpyxl): the same numbers as the pages, from the
same reports (`attainment.attainment`, `comparison.comparison`). Each sheet has a title row,
a bold shaded header row of translated column names, one row per line, a bold totals row;
money as numbers with two decimals, counts as whole numbers, percentages with one decimal."""

from __future__ import annotations

import re
from decimal import Decimal
from io import BytesIO
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .attainment import Attainment
from .choices import Metric, PeriodKind
from .comparison import Comparison, View
from .periods import Period
from .targets import is_money

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "#,##0"
PCT_FORMAT = "0.0"
HEADER_ROW = 3  # 1: title, 2: the filters, 3: the header
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_BOLD = Font(bold=True)


def period_tag(period: Period) -> str:
    """The period in a file name: 2026, 2026-Q2, 2026-06."""
    if period.kind == PeriodKind.YEAR:
        return f"{period.start.year}"
    if period.kind == PeriodKind.QUARTER:
        return f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"
    if period.kind == PeriodKind.MONTH:
        return f"{period.start:%Y-%m}"
    return f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"


def filename(report: str, period: Period, *parts: str) -> str:
    safe = [re.sub(r"[^0-9A-Za-z_-]+", "_", part) for part in parts if part]
    return "-".join([report, period_tag(period), *safe]) + ".xlsx"


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _sheet_title(text: str, used: set[str]) -> str:
    title = re.sub(r"[\\/*?:\[\]]", " ", text)[:31]
    while title in used:
        title = title[:28] + f"~{len(used)}"
    used.add(title)
    return title


def _write(
    writer: pd.ExcelWriter,
    sheet: str,
    heading: str,
    filters: str,
    columns: list[tuple[str, str]],
    rows: list[list[Any]],
) -> None:
    """One sheet: `columns` are (header, format) with format "text", "money", "count" or
    "pct"; the last of `rows` is the totals row."""
    frame = pd.DataFrame(rows, columns=[name for name, _fmt in columns])
    frame.to_excel(writer, sheet_name=sheet, startrow=HEADER_ROW - 1, index=False)
    ws = writer.sheets[sheet]
    ws.cell(row=1, column=1, value=heading).font = Font(bold=True, size=13)
    ws.cell(row=2, column=1, value=filters)
    for index, (_name, fmt) in enumerate(columns, start=1):
        header = ws.cell(row=HEADER_ROW, column=index)
        header.font, header.fill = _BOLD, _HEADER_FILL
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.border = None
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = 28 if fmt == "text" else 16
        number_format = {"money": MONEY_FORMAT, "count": COUNT_FORMAT, "pct": PCT_FORMAT}.get(fmt)
        for row in range(HEADER_ROW + 1, HEADER_ROW + len(rows) + 1):
            cell = ws.cell(row=row, column=index)
            if number_format:
                cell.number_format = number_format
    for cell in ws[HEADER_ROW + len(rows)]:
        cell.font = _BOLD
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=2)


def _save(fill: Any) -> bytes:
    buffer = BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        fill(writer)
    return buffer.getvalue()


def _kind_label(kind: str) -> str:
    return {"unit": _("Org unit"), "rep": _("Rep"), "total": _("Total")}.get(kind, kind)


def attainment_workbook(report: Attainment, *, metrics: list[str] | None = None) -> bytes:
    """One sheet per metric of the report (or of `metrics`): each row's target, actual,
    attainment, the time elapsed and the gap, then the node's totals."""
    used: set[str] = set()

    def fill(writer: pd.ExcelWriter) -> None:
        for metric in metrics or report.metrics:
            label = str(Metric(metric).label)
            amount = "money" if is_money(metric) else "count"
            columns = [
                (_("Name"), "text"),
                (_("Level"), "text"),
                (_("Target"), amount),
                (_("Actual"), amount),
                (_("Attainment (%)"), "pct"),
                (_("Time elapsed (%)"), "pct"),
                (_("Gap"), amount),
            ]
            rows = []
            for row in report.rows:
                cell = row.cells[metric]
                rows.append([row.name, _kind_label(row.kind), _number(cell.target),
                             _number(cell.actual), _number(cell.attainment),
                             _number(report.elapsed), _number(cell.gap)])  # fmt: skip
            total = report.totals[metric]
            rows.append([_("Total: %(name)s") % {"name": report.node.name}, _("Total"),
                         _number(total.target), _number(total.actual),
                         _number(total.attainment), _number(report.elapsed),
                         _number(total.gap)])  # fmt: skip
            _write(
                writer, _sheet_title(label, used),
                _("Target attainment: %(metric)s") % {"metric": label},
                _("%(period)s (%(start)s – %(end)s) · %(node)s") % {
                    "period": report.period.label(), "start": report.period.start.isoformat(),
                    "end": report.period.end.isoformat(), "node": report.node.name,
                },
                columns, rows,
            )  # fmt: skip

    return _save(fill)


def comparison_workbook(result: Comparison) -> bytes:
    """The comparison's lines (or months) and their total, on one sheet."""
    label = str(Metric(result.metric).label)
    amount = "money" if is_money(result.metric) else "count"
    total = result.total
    if result.view in (View.REPS, View.TEAMS):
        columns = [(_("Rank"), "count"), (_("Name"), "text"), (_("Target"), amount),
                   (_("Actual"), amount), (_("Attainment (%)"), "pct")]  # fmt: skip
        rows = [[line.rank, line.name, _number(line.target), _number(line.actual),
                 _number(line.attainment)] for line in result.lines]  # fmt: skip
        rows.append([None, _("Total"), _number(total.target), _number(total.actual),
                     _number(total.attainment)])  # fmt: skip
    elif result.view == View.MONTHS:
        columns = [(_("Month"), "text"), (_("Target"), amount), (_("Actual"), amount),
                   (_("Attainment (%)"), "pct")]  # fmt: skip
        rows = [[f"{p.start:%Y-%m}", _number(p.target), _number(p.actual),
                 _number(p.attainment)] for p in result.points]  # fmt: skip
        rows.append([_("Total"), _number(total.target), _number(total.actual),
                     _number(total.attainment)])  # fmt: skip
    else:
        columns = [(_("Name"), "text"), (_("This period"), amount),
                   (_("Same period last year"), amount), (_("Growth (%)"), "pct")]  # fmt: skip
        rows = [[line.name, _number(line.actual), _number(line.previous), _number(line.growth)]
                for line in result.lines]  # fmt: skip
        rows.append([_("Total"), _number(total.actual), _number(total.previous),
                     _number(total.growth)])  # fmt: skip
    view_label = str(View(result.view).label)

    def fill(writer: pd.ExcelWriter) -> None:
        _write(
            writer, _sheet_title(view_label, set()),
            _("%(view)s: %(metric)s") % {"view": view_label, "metric": label},
            _("%(period)s (%(start)s – %(end)s) · %(node)s") % {
                "period": result.period.label(), "start": result.period.start.isoformat(),
                "end": result.period.end.isoformat(), "node": result.node.name,
            },
            columns, rows,
        )  # fmt: skip

    return _save(fill)
