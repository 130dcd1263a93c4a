"""The long tables of the figure pages — the forecast by team and by rep, the win rate by team
and by rep — as the HTML of their body rows, built here once per page.

A company-wide viewer has one row per rep (hundreds) of up to 13 cells: in the template
language each cell cost a dozen node renders, two `floatformat|intcomma` and a drill-down link
(most of the forecast page's time at scale). Each row is the same markup the template wrote;
every text that comes from the data (names, the filters' query string) is escaped, the numbers
are formatted as the template's filters formatted them (`money_text`, `one_decimal_text`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from . import figures

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def money_text(value: Decimal, decimal_separator: str | None = None) -> str:
    """`{{ value|floatformat:2|intcomma }}`: rounded half up to the cent, the whole part in
    groups of three with commas (humanize's `intcomma` of floatformat's text groups it so in
    every language), the decimal separator of the active language."""
    rounded = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    if not rounded:
        rounded = abs(rounded)  # floatformat writes no sign on a zero
    text = f"{rounded:,.2f}"
    separator = decimal_separator or get_format("DECIMAL_SEPARATOR")
    return text if separator == "." else text.replace(".", separator)


def one_decimal_text(value: float, decimal_separator: str | None = None) -> str:
    """`{{ value|floatformat:1 }}` of a float: its shortest decimal form rounded half up."""
    rounded = Decimal(repr(value)).quantize(TENTH, rounding=ROUND_HALF_UP)
    if not rounded:
        rounded = abs(rounded)
    text = f"{rounded:f}"
    separator = decimal_separator or get_format("DECIMAL_SEPARATOR")
    return text if separator == "." else text.replace(".", separator)


def _name_cell(row, team_query: str, css: str) -> str:
    """The row's header: a team → that team's figures, a rep → the rep's figures."""
    if row.kind == "team" and row.id:
        inner = f'<a href="?{team_query}&amp;team={row.id}">{escape(row.name or _("No unit"))}</a>'
    elif row.kind == "rep":
        inner = f'<a href="?{team_query}&amp;owner={row.id}">{escape(row.name)}</a>'
    else:
        inner = escape(row.name or _("No unit"))
    return f'<th scope="row" class="{css}">{inner}</th>'


def forecast_rows(
    rows: list[figures.ForecastRow],
    buckets: list[figures.ForecastBucket],
    *,
    team_query: str,
    list_url: str,
) -> SafeString:
    """The body rows of a forecast table: per row its name (a drill-down link), a cell per
    bucket (the weighted amount linking to the open deals of that row and month, the amount
    and the number of deals below it) and the row's total."""
    sep = get_format("DECIMAL_SEPARATOR")
    query = escape(team_query)
    months = {b.key: f"&amp;month={b.month:%Y-%m}" if b.month else "" for b in buckets}
    empty = '<span class="text-body-tertiary">—</span>'
    out = []
    for row in rows:
        link = f"{list_url}?state=open&amp;{'owner' if row.kind == 'rep' else 'team'}={row.id}"
        drill = bool(row.id and list_url)
        parts = [
            f'<tr data-{row.kind}="{row.id or ""}">',
            _name_cell(row, query, "fw-normal text-nowrap"),
        ]
        for b in buckets:
            cell = row.cells.get(b.key)
            if cell is None or not cell.deals:
                body = empty
            else:
                weighted = f'<span class="fw-semibold">{money_text(cell.weighted, sep)}</span>'
                if drill:
                    weighted = f'<a href="{link}{months[b.key]}" class="text-reset">{weighted}</a>'
                body = (
                    f'{weighted}<div class="small text-body-secondary">'
                    f"{money_text(cell.amount, sep)} · {cell.deals}</div>"
                )
            parts.append(f'<td class="text-end text-nowrap" data-bucket="{b.key}">{body}</td>')
        total = row.total
        parts.append(
            '<td class="text-end text-nowrap" data-figure="total"><span class="fw-semibold">'
            f'{money_text(total.weighted, sep)}</span><div class="small text-body-secondary">'
            f"{money_text(total.amount, sep)} · {total.deals}</div></td></tr>"
        )
        out.append("".join(parts))
    return mark_safe("\n".join(out))  # noqa: S308 (every data text above is escaped)


def forecast_total_cells(
    totals: figures.ForecastRow, buckets: list[figures.ForecastBucket]
) -> SafeString:
    """The footer's cells: the totals per bucket and in all."""
    sep = get_format("DECIMAL_SEPARATOR")
    cells = [*(totals.cell(b.key) for b in buckets), totals.total]
    return mark_safe(  # noqa: S308 (numbers only)
        "".join(
            f'<td class="text-end text-nowrap fw-semibold">{money_text(c.weighted, sep)}'
            f'<div class="small text-body-secondary fw-normal">{money_text(c.amount, sep)} · '
            f"{c.deals}</div></td>"
            for c in cells
        )
    )


def win_rate_rows(rows: list[figures.ClosedRow], *, team_query: str, list_url: str) -> SafeString:
    """The body rows of a win-rate table: per row its name (a drill-down link), the won and
    the lost deals (links to them), the win rate, the cycle time and the win-rate bar."""
    sep = get_format("DECIMAL_SEPARATOR")
    query = escape(team_query)
    out = []
    for row in rows:
        x = row.figures
        won, lost = str(x.won), str(x.lost)
        if list_url and row.id:
            link = f"{list_url}?{'owner' if row.kind == 'rep' else 'team'}={row.id}"
            won = f'<a href="{link}&amp;stage=won">{won}</a>'
            lost = f'<a href="{link}&amp;stage=lost">{lost}</a>'
        pct = x.win_pct
        rate = "—" if pct is None else f"{one_decimal_text(pct, sep)}%"
        cycle = "—" if x.cycle_days is None else one_decimal_text(x.cycle_days, sep)
        out.append(
            f'<tr data-{row.kind}="{row.id or ""}">'
            f"{_name_cell(row, query, 'fw-normal')}"
            f'<td class="text-end" data-figure="won">{won}</td>'
            f'<td class="text-end" data-figure="lost">{lost}</td>'
            f'<td class="text-end fw-semibold" data-figure="win_rate">{rate}</td>'
            f'<td class="text-end" data-figure="cycle_days">{cycle}</td>'
            '<td class="d-none d-md-table-cell"><div class="bg-body-tertiary rounded" '
            'style="height:.8rem"><div class="bg-success rounded h-100" '
            f'style="width:{(pct or 0):.1f}%"></div></div></td></tr>'
        )
    return mark_safe("\n".join(out))  # noqa: S308 (every data text above is escaped)
