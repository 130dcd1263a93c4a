"""Excel files of the report pages (pandas + openpyxl), and the files of the lead reports (the
response SLA and the lead sources).

`workbook` writes any number of `Sheet`s the same way: a title row, a row telling the filters,
a bold shaded header of translated column names, one row per line, a bold totals row; money as
numbers with two decimals, counts as whole numbers, percentages as numbers with one decimal
(the header says "(%)"), days with one decimal. The visit and pipeline figures write their
files with it too, so every report file reads alike. The numbers come from the same selectors
as the pages: a file never computes a figure of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_LEAD_ROWS = 5000  # documents listed in a file (the breached leads)
HEADER_ROW = 3  # 1: the title, 2: the filters, 3: the header
FORMATS = {
    "money": "#,##0.00",
    "count": "#,##0",
    "pct": "0.0",
    "days": "0.0",
    "number": "0.00",
}


@dataclass(frozen=True)
class Column:
    """A column: its translated header and what its values are ("text", "money", "count",
    "pct", "days" or "number")."""

    header: str
    kind: str = "text"


@dataclass
class Sheet:
    title: str
    heading: str
    filters: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    total: list[Any] | None = None  # the totals row, bold, last


def number(value: Any) -> Any:
    """A cell value: a Decimal as a float (a number in Excel, never text), None as empty."""
    if isinstance(value, Decimal):
        return float(value)
    return value


def pct(rate: float | Decimal | None) -> float | None:
    """A rate (0.625) as the percentage number of a "(%)" column (62.5); None stays empty."""
    return None if rate is None else round(float(rate) * 100, 1)


def _sheet_name(text: str, used: set[str]) -> str:
    name = re.sub(r"[\\/*?:\[\]]", " ", text)[:31] or "Sheet"
    while name in used:
        name = f"{name[:28]}~{len(used)}"
    used.add(name)
    return name


def _write(writer: Any, sheet: Sheet, name: str) -> None:
    import pandas as pd
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    rows = [[number(v) for v in row] for row in sheet.rows]
    if sheet.total is not None:
        rows.append([number(v) for v in sheet.total])
    frame = pd.DataFrame(rows, columns=[c.header for c in sheet.columns], dtype=object)
    frame.to_excel(writer, sheet_name=name, startrow=HEADER_ROW - 1, index=False)
    ws = writer.sheets[name]
    ws.cell(row=1, column=1, value=sheet.heading).font = Font(bold=True, size=13)
    ws.cell(row=2, column=1, value=sheet.filters)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    last = HEADER_ROW + len(rows)
    for index, column in enumerate(sheet.columns, start=1):
        header = ws.cell(row=HEADER_ROW, column=index)
        header.font, header.fill, header.border = bold, fill, None
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(index)].width = 28 if column.kind == "text" else 15
        number_format = FORMATS.get(column.kind)
        if number_format:
            for row in range(HEADER_ROW + 1, last + 1):
                ws.cell(row=row, column=index).number_format = number_format
    if sheet.total is not None:
        for cell in ws[last]:
            cell.font = bold
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=2)


def workbook(sheets: Iterable[Sheet]) -> bytes:
    """The .xlsx of `sheets`, one worksheet each, in order."""
    import pandas as pd

    buffer = BytesIO()
    used: set[str] = set()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for sheet in sheets:
            _write(writer, sheet, _sheet_name(sheet.title, used))
    return buffer.getvalue()


def filename(report: str, start: date, end: date, *parts: Any) -> str:
    """`report-20250301-20250331-part.xlsx` (ASCII only)."""
    safe = [re.sub(r"[^0-9A-Za-z_-]+", "_", str(p)) for p in parts if p not in (None, "")]
    return "-".join([report, f"{start:%Y%m%d}", f"{end:%Y%m%d}", *safe]) + ".xlsx"


def xlsx_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def period_text(start: date, end: date, *narrowing: str) -> str:
    """The filters row: "From 2025-03-01 to 2025-03-31 · Team 1 · 王伟"."""
    text = _("From %(start)s to %(end)s") % {"start": start.isoformat(), "end": end.isoformat()}
    return " · ".join([text, *(n for n in narrowing if n)])


# --- the lead reports ----------------------------------------------------------------------


def _sla_values(name: str, f: Any) -> list[Any]:
    return [name, f.due, f.responded_in_time, f.responded_late, f.breached, pct(f.rate)]


def _sla_columns(head: str) -> list[Column]:
    return [
        Column(head),
        Column(_("Due"), "count"),
        Column(_("Responded in time"), "count"),
        Column(_("Responded late"), "count"),
        Column(_("Breached"), "count"),
        Column(_("Compliance rate (%)"), "pct"),
    ]


def sla_workbook(report: Any, *, filters: str) -> bytes:
    """The response SLA figures (`sla_figures.sla_report`): by owner, by team and by grade,
    each with the total; then the breached leads (at most `MAX_LEAD_ROWS`)."""
    from apps.accounts.names import person_name

    def owner_name(owner: Any) -> str:
        if owner is None:
            return _("No owner")
        return person_name(owner.first_name, owner.last_name) or owner.username

    total = _sla_values(_("Total"), report.total)
    sheets = [
        Sheet(_("By owner"), _("Response SLA compliance by owner"), filters,
              _sla_columns(_("Owner")),
              [_sla_values(owner_name(r.owner), r.figures) for r in report.by_owner], total),
        Sheet(_("By team"), _("Response SLA compliance by team"), filters,
              _sla_columns(_("Team")),
              [_sla_values(r.team.name if r.team else _("No owner"), r.figures)
               for r in report.by_team], total),
        Sheet(_("By grade"), _("Response SLA compliance by grade"), filters,
              _sla_columns(_("Grade")),
              [_sla_values(r.grade, r.figures) for r in report.by_grade], total),
    ]  # fmt: skip
    leads = list(report.breached[:MAX_LEAD_ROWS])
    sheets.append(
        Sheet(
            _("Breached leads"),
            _("Leads that missed the response time"),
            filters,
            [
                Column(_("Company")),
                Column(_("Grade")),
                Column(_("Owner")),
                Column(_("First response due")),
                Column(_("First responded")),
            ],
            [
                [
                    lead.company_name,
                    lead.grade,
                    owner_name(lead.owner),
                    _local(lead.first_response_due_at),
                    _local(lead.first_responded_at),
                ]
                for lead in leads
            ],
            [_("Total: %(count)d") % {"count": len(leads)}, None, None, None, None],
        )
    )
    return workbook(sheets)


def _local(value: Any) -> str | None:
    from django.utils import timezone

    return None if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def sources_workbook(result: Any, *, filters: str) -> bytes:
    """The lead source figures (`source_figures.source_figures`): a row per source (or per
    channel of one source) and the total."""
    head = _("Channel") if result.source else _("Source")
    columns = [
        Column(head),
        Column(_("Leads captured"), "count"),
        Column(_("Duplicates"), "count"),
        Column(_("Contacted"), "count"),
        Column(_("Qualified"), "count"),
        Column(_("Converted"), "count"),
        Column(_("Conversion rate (%)"), "pct"),
        Column(_("Median first response (hours)"), "days"),
        Column(_("SLA breaches (%)"), "pct"),
        Column(_("Won deals"), "count"),
        Column(_("Won amount"), "money"),
    ]

    def values(r: Any) -> list[Any]:
        return [r.label, r.captured, r.duplicates, r.contacted, r.qualified, r.converted,
                pct(r.conversion_rate), r.response_hours, pct(r.breach_rate), r.won_deals,
                r.won_amount]  # fmt: skip

    title = _("Lead sources")
    return workbook(
        [
            Sheet(
                title,
                title,
                filters,
                columns,
                [values(r) for r in result.rows],
                values(result.total),
            )
        ]
    )
