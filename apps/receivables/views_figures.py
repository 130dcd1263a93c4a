"""Receivables figure pages (应收分析): aging as of a day with a stacked bar per row, and the
collection figures of a period (collection rate, DSO, overdue ratio, bad-debt ratio), grouped
by company, team, rep or customer, each row drilling down (team → its reps → their customers →
the customer's open installments); the same tables as an Excel file (``?format=xlsx``).

Thin: parse the filters, call `apps.receivables.figures` (whose docstring defines every
figure), render. A team, a person or a customer outside the caller's scope is a 404; a bad
filter a form error (400)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, scope_of
from apps.customers.models import Customer
from apps.leads.forms import check_period

from . import figures
from .figures import Period
from .selectors import today

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_TEAMS = 200  # the team select: a company has dozens of units
PER_PAGE = figures.CUSTOMER_PAGE
EXPORT_ROWS = figures.MAX_CUSTOMER_ROWS  # customers in the Excel file

GROUP_CHOICES = [
    ("company", gettext_lazy("Company")),
    ("team", gettext_lazy("Team")),
    ("rep", gettext_lazy("Rep")),
    ("customer", gettext_lazy("Customer")),
]
# Where a row leads: the next grouping and the filter its key sets.
DRILL_DOWN = {"company": ("team", None), "team": ("rep", "team"), "rep": ("customer", "owner")}
# The colours of the aging buckets (the workbench's bucket cards use the same).
BUCKET_CLASSES = {
    "current": "aging-current",
    "d1_30": "aging-1",
    "d31_60": "aging-2",
    "d61_90": "aging-3",
    "d90_plus": "aging-4",
}


class FiguresFilterForm(forms.Form):
    """The filters: the aging's day, the period (named or custom, inclusive), the grouping,
    the team / rep / customer narrowing, the customer search and page."""

    as_of = forms.DateField(
        label=gettext_lazy("Aging as of"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=Period.choices, required=False)
    start = forms.DateField(
        label=gettext_lazy("From"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    end = forms.DateField(
        label=gettext_lazy("To"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    group_by = forms.ChoiceField(
        label=gettext_lazy("Group by"), choices=GROUP_CHOICES, required=False
    )
    team = forms.IntegerField(label=gettext_lazy("Team"), required=False, min_value=1)
    owner = forms.IntegerField(label=gettext_lazy("Rep"), required=False, min_value=1)
    customer = forms.IntegerField(label=gettext_lazy("Customer"), required=False, min_value=1)
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    page = forms.IntegerField(label=gettext_lazy("Page"), required=False, min_value=1)

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        period = cleaned.get("period") or Period.THIS_MONTH
        cleaned["period"] = period
        cleaned["as_of"] = cleaned.get("as_of") or today()
        cleaned["page"] = cleaned.get("page") or 1
        if period != Period.CUSTOM:
            cleaned["start"], cleaned["end"] = figures.period_dates(period)
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None:
            self.add_error("start", forms.ValidationError(_("Enter the first day."), "required"))
        if end is None:
            self.add_error("end", forms.ValidationError(_("Enter the last day."), "required"))
        if start and end:
            check_period(start, end, error=lambda message, code: self.add_error(
                "end", forms.ValidationError(message, code)))  # fmt: skip
        return cleaned


@dataclass
class Filters:
    as_of: date
    period: str
    start: date
    end: date  # inclusive
    group_by: str
    team: OrgUnit | None
    owner: User | None
    customer: Customer | None
    q: str
    page: int

    def query(self, **changes: Any) -> str:
        """The query string of these filters with `changes` (None drops a key)."""
        values: dict[str, Any] = {
            "as_of": self.as_of.isoformat() if self.as_of != today() else None,
            "period": self.period,
            "start": self.start.isoformat() if self.period == Period.CUSTOM else None,
            "end": self.end.isoformat() if self.period == Period.CUSTOM else None,
            "group_by": self.group_by,
            "team": self.team.pk if self.team else None,
            "owner": self.owner.pk if self.owner else None,
            "customer": self.customer.pk if self.customer else None,
            "q": self.q or None,
            "page": self.page if self.page > 1 else None,
        }
        values.update(changes)
        params = QueryDict(mutable=True)
        for key, value in values.items():
            if value not in (None, ""):
                params[key] = str(value)
        return params.urlencode()

    @property
    def offset(self) -> int:
        return (self.page - 1) * PER_PAGE

    def narrowing(self) -> dict[str, Any]:
        return {"team": self.team, "owner": self.owner, "customer": self.customer}


def default_group_by(user: User) -> str:
    """Finance and admins start from the teams, a head from their people, a rep from their
    customers."""
    scope = scope_of(user, money=True)
    if scope is Scope.ALL:
        return "team"
    return "rep" if scope is Scope.SUBTREE else "customer"


def resolve_filters(user: User, data: dict) -> Filters:
    """The team, the rep and the customer of validated filter data, checked against `user`'s
    scope: one outside it raises Http404 (as a record outside the scope would)."""
    team = owner = customer = None
    if data.get("team"):
        team = figures.figure_teams(user=user).filter(pk=data["team"]).first()
        if team is None:
            raise Http404
    if data.get("owner"):
        owner = figures.figure_people(user=user, team=team).filter(pk=data["owner"]).first()
        if owner is None:
            raise Http404
    if data.get("customer"):
        customer = figures.figure_customer(user=user, pk=data["customer"])
        if customer is None:
            raise Http404
    return Filters(
        as_of=data["as_of"], period=data["period"], start=data["start"], end=data["end"],
        group_by=data.get("group_by") or default_group_by(user), team=team, owner=owner,
        customer=customer, q=(data.get("q") or "").strip(), page=data.get("page") or 1,
    )  # fmt: skip


# --- the tables for a page -----------------------------------------------------------------


def _drill(f: Filters, key: int | None) -> str | None:
    """Where a row of the current grouping leads (None: nowhere further down): the next
    grouping narrowed to the row, or for a customer its own page."""
    if f.group_by == "customer":
        if key is None:
            return None
        url = reverse("receivables:figures_customer", args=[key])
        return f"{url}?{f.query(page=None, q=None)}"
    group_by, param = DRILL_DOWN[f.group_by]
    if param and key is None:
        return None
    changes: dict[str, Any] = {"group_by": group_by, "page": None, "q": None}
    if param:
        changes[param] = key
    return f"{reverse('receivables:figures')}?{f.query(**changes)}"


def _segments(row: figures.AgingRow, top: Decimal) -> list[dict]:
    """A stacked bar: each bucket's amount as % of `top`."""
    top = top or Decimal(1)
    return [
        {"name": name, "label": label, "amount": amount, "css": BUCKET_CLASSES[name],
         "pct": f"{amount / top * 100:.1f}"}
        for name, label, amount in row.bucket_amounts()
        if amount
    ]  # fmt: skip


def _trail(f: Filters) -> list[dict]:
    """Where the figures are narrowed to, each step with the link that removes what follows."""
    everything = f.query(team=None, owner=None, customer=None, group_by=None, page=None, q=None)
    steps = [{"label": _("All"), "query": everything}]
    if f.team:
        query = f.query(owner=None, customer=None, group_by="rep", page=None, q=None)
        steps.append({"label": f.team.name, "query": query})
    if f.owner:
        query = f.query(customer=None, group_by="customer", page=None, q=None)
        steps.append({"label": f.owner.display_name, "query": query})
    if f.customer:
        steps.append({"label": f.customer.name, "query": f.query(page=None)})
    return steps


def _base_context(request: HttpRequest, form: FiguresFilterForm) -> dict:
    user = request.user
    oversees = scope_of(user, money=True) in (Scope.ALL, Scope.SUBTREE)
    return {
        "form": form,
        "periods": Period.choices,
        "custom": Period.CUSTOM,
        "group_choices": GROUP_CHOICES,
        "buckets": figures.BUCKETS,
        "legend": [(label, BUCKET_CLASSES[name]) for name, label in figures.BUCKETS],
        "oversees": oversees,
        "teams": list(figures.figure_teams(user=user)[:MAX_TEAMS]) if oversees else [],
    }


@login_required
@require_GET
def figures_page(request: HttpRequest) -> HttpResponse:
    """Aging and collection figures of the caller's scope (the page, or ``?format=xlsx``)."""
    form = FiguresFilterForm(request.GET)  # bound even when empty: the defaults apply
    context = _base_context(request, form)
    if not form.is_valid():
        context["period"] = request.GET.get("period", "")
        return render(request, "receivables/figures.html", context, status=400)
    f = resolve_filters(request.user, form.cleaned_data)
    export = request.GET.get("format") == "xlsx"
    limit = EXPORT_ROWS if export else PER_PAGE
    offset = 0 if export else f.offset
    common = {"user": request.user, "group_by": f.group_by, "search": f.q, "limit": limit,
              "offset": offset, **f.narrowing()}  # fmt: skip
    aging, collection = figures.aging_and_collection(
        as_of=f.as_of, start=f.start, end=f.end, **common
    )
    if export:
        return _xlsx_response(f, aging, collection)
    context.update(
        {
            "f": f,
            "period": f.period,
            "aging": aging,
            "collection": collection,
            "row": aging.total,
            "figures_row": collection.total,
            # The chart: a stacked bar per row, on the scale of the largest row; the total's
            # bar spans the whole width.
            "total_bar": _segments(aging.total, aging.total.open),
            "aging_rows": [
                {"row": r, "drill": _drill(f, r.key), "bar": _segments(r, aging.max_open)}
                for r in aging.rows
            ],
            "collection_rows": [{"row": r, "drill": _drill(f, r.key)} for r in collection.rows],
            "trail": _trail(f),
            "group_label": dict(GROUP_CHOICES)[f.group_by],
            "has_next": aging.has_next or collection.has_next,
            "next_query": f.query(page=f.page + 1),
            "previous_query": f.query(page=f.page - 1) if f.page > 1 else None,
            "export_query": f.query(format="xlsx", page=None),
        }
    )
    return render(request, "receivables/figures.html", context)


@login_required
@require_GET
def figures_customer(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's figures (its aging and its collection figures of the period) and its
    open installments with their days past due, oldest due first: the end of the
    drill-down. A customer with nothing in the caller's scope is a 404."""
    customer = figures.figure_customer(user=request.user, pk=pk)
    if customer is None:
        raise Http404
    form = FiguresFilterForm(request.GET)
    context = _base_context(request, form) | {"customer": customer}
    if not form.is_valid():
        context["period"] = request.GET.get("period", "")
        return render(request, "receivables/figures_customer.html", context, status=400)
    f = resolve_filters(request.user, {**form.cleaned_data, "customer": None})
    f.customer = customer
    aging = figures.aging(user=request.user, as_of=f.as_of, customer=customer)
    collection = figures.collection_figures(
        user=request.user, start=f.start, end=f.end, customer=customer
    )
    installments = figures.customer_installments(
        user=request.user, customer=customer, as_of=f.as_of, page=f.page
    )
    context.update(
        {
            "f": f,
            "period": f.period,
            "aging": aging,
            "row": aging.total,
            "total_bar": _segments(aging.total, aging.total.open),
            "figures_row": collection.total,
            "installments": installments,
            "trail": _trail(f),
            "back_query": f.query(customer=None, group_by="customer", page=None),
            "next_query": f.query(page=f.page + 1, customer=None),
            "previous_query": f.query(page=f.page - 1, customer=None) if f.page > 1 else None,
        }
    )
    return render(request, "receivables/figures_customer.html", context)


# --- the Excel file ------------------------------------------------------------------------

_MONEY_FORMAT = "#,##0.00;-#,##0.00"
_PCT_FORMAT = "0.0"


def figures_workbook(
    f: Filters, aging: figures.AgingReport, collection: figures.CollectionReport
) -> bytes:
    """The aging and the collection tables as an .xlsx: one sheet each, money and ratios as
    numbers with their formats, the filters in the first rows, the total last."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    head = str(dict(GROUP_CHOICES)[f.group_by])
    workbook = Workbook()
    aging_sheet = workbook.active
    collection_sheet = workbook.create_sheet()

    def fill(sheet, title: str, heading: str, columns: list, rows: list[list],
             ratio_columns: tuple[int, ...]) -> None:  # fmt: skip
        sheet.title = title[:31]
        sheet.append([heading])
        sheet["A1"].font = bold
        sheet.append([])
        sheet.append(columns)
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        header_row = sheet.max_row
        for values in rows:
            sheet.append(values)
            for cell in sheet[sheet.max_row][1:]:
                if cell.column - 1 in ratio_columns:
                    cell.number_format = _PCT_FORMAT
                elif isinstance(cell.value, Decimal):
                    cell.number_format = _MONEY_FORMAT
        for cell in sheet[sheet.max_row]:  # the total
            cell.font = bold
        sheet.column_dimensions["A"].width = 32
        for letter in "BCDEFGHIJK":
            sheet.column_dimensions[letter].width = 16
        sheet.freeze_panes = f"B{header_row + 1}"

    def aging_values(row: figures.AgingRow) -> list:
        return [row.label, *(getattr(row, name) for name, _label in figures.BUCKETS),
                row.open, row.overdue, _number(row.overdue_ratio)]  # fmt: skip

    fill(
        aging_sheet,
        _("Aging"),
        _("Aging as of %(date)s") % {"date": f.as_of.isoformat()},
        [
            head,
            *(str(label) for _name, label in figures.BUCKETS),
            _("Open amount"),
            _("Overdue"),
            _("Overdue ratio (%)"),
        ],
        [aging_values(r) for r in [*aging.rows, aging.total]],
        ratio_columns=(8,),
    )

    def collection_values(row: figures.CollectionRow) -> list:
        return [row.label, row.overdue_at_start, row.due, row.to_collect, row.collected,
                _number(row.collection_rate), row.receivable_at_end, _number(row.dso),
                _number(row.overdue_ratio), row.written_off,
                _number(row.bad_debt_ratio)]  # fmt: skip

    fill(
        collection_sheet,
        _("Collection"),
        _("Collection figures from %(start)s to %(end)s")
        % {"start": f.start.isoformat(), "end": f.end.isoformat()},
        [
            head,
            _("Overdue at start"),
            _("Due in period"),
            _("To collect"),
            _("Collected"),
            _("Collection rate (%)"),
            _("Receivable at end"),
            _("DSO (days)"),
            _("Overdue ratio (%)"),
            _("Written off"),
            _("Bad-debt ratio (%)"),
        ],
        [collection_values(r) for r in [*collection.rows, collection.total]],
        ratio_columns=(5, 7, 8, 10),
    )
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(value: Decimal | None) -> float | None:
    # A ratio as a plain number (its cell format shows one decimal); None stays empty.
    return None if value is None else float(value)


def _xlsx_response(
    f: Filters, aging: figures.AgingReport, collection: figures.CollectionReport
) -> HttpResponse:
    response = HttpResponse(figures_workbook(f, aging, collection), content_type=XLSX_CONTENT_TYPE)
    name = re.sub(r"[^0-9A-Za-z_-]+", "_", f.group_by)
    filename = f"receivables-figures-{name}-{f.as_of:%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
