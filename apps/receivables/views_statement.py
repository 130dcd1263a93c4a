"""The statement of account page (对账单): a period form, the statement laid out as an A4
document (the print button prints only the document, with the customer's confirmation block),
and the same statement as an Excel file (``?format=xlsx``). Thin: `statement.statement_of`
reads; a customer outside the caller's scope is a 404, a bad period a form error."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from apps.accounts.selectors import seller_name

from .statement import (
    Statement,
    default_period,
    statement_customers,
    statement_of,
    statement_period,
)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Days the customer has to return the signed statement (setting STATEMENT_CONFIRM_DAYS).
DEFAULT_CONFIRM_DAYS = 10


def confirm_days() -> int:
    return int(getattr(settings, "STATEMENT_CONFIRM_DAYS", DEFAULT_CONFIRM_DAYS))


class StatementPeriodForm(forms.Form):
    """The period of the statement; empty fields take the defaults (1 January to today)."""

    start = forms.DateField(
        label=gettext_lazy("From"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    end = forms.DateField(
        label=gettext_lazy("To"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["start"], cleaned["end"] = statement_period(
                cleaned.get("start"), cleaned.get("end")
            )
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                for error in errors:
                    self.add_error(name, error)
        return cleaned


# --- the Excel file ------------------------------------------------------------------------

_MONEY_FORMAT = "#,##0.00;-#,##0.00"
_DATE_FORMAT = "yyyy-mm-dd"


def _filename(statement: Statement) -> str:
    # Characters Windows refuses in a file name, and spaces, become "_".
    name = re.sub(r'[\\/:*?"<>|\s]+', "_", statement.customer.name).strip("_") or str(
        statement.customer.pk
    )
    return f"statement-{name}-{statement.start:%Y%m%d}-{statement.end:%Y%m%d}.xlsx"


def statement_workbook(statement: Statement, *, company_name: str) -> bytes:
    """The statement as an .xlsx: a title block, the ledger (dates and money as numbers with
    their formats), the open installments, the credit balance and the confirmation note.

    The closing balance cell is also the workbook's defined name ``closing_balance``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.workbook.defined_name import DefinedName

    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="F1F3F5")
    thin = Side(style="thin", color="ADB5BD")
    boxed = Border(top=thin, bottom=thin, left=thin, right=thin)

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Statement")[:31]

    def row(values: list, *, font=None, fill=None, border=None) -> int:
        sheet.append(values)
        number = sheet.max_row
        for cell in sheet[number]:
            if cell.column > len(values):
                continue
            if isinstance(cell.value, date):
                cell.number_format = _DATE_FORMAT
            elif cell.data_type == "n" and cell.value is not None and cell.column >= 5:
                cell.number_format = _MONEY_FORMAT
            if font:
                cell.font = font
            if fill:
                cell.fill = fill
            if border:
                cell.border = border
        return number

    customer = statement.customer
    sheet.append([_("Statement of account")])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells("A1:G1")
    sheet["A1"].alignment = Alignment(horizontal="center")
    row([company_name], font=bold)
    sheet.merge_cells(f"A{sheet.max_row}:G{sheet.max_row}")
    row([_("Customer"), customer.name])
    row([_("Unified social credit code"), customer.credit_code or ""])
    row([_("Address"), customer.address or ""])
    row([_("Period"), statement.start, statement.end])
    row([_("Printed on"), statement.printed_on])
    row([_("Currency"), settings.CURRENCY])
    sheet.append([])

    columns = [_("Date"), _("Type"), _("Reference"), _("Description"),
               pgettext("ledger", "Debit"), pgettext("ledger", "Credit"),
               pgettext("ledger", "Balance")]  # fmt: skip
    header_row = row(columns, font=bold, fill=header_fill, border=boxed)
    row(
        [statement.start, _("Opening balance"), "", "", None, None, statement.opening_balance],
        font=bold, border=boxed,
    )  # fmt: skip
    for line in statement.lines:
        row(
            [line.date, line.kind_display, line.reference, line.description,
             line.debit or None, line.credit or None, line.balance],
            border=boxed,
        )  # fmt: skip
    row(
        [None, _("Total for the period"), "", "", statement.total_debit, statement.total_credit,
         None],
        font=bold, border=boxed,
    )  # fmt: skip
    closing_row = row(
        [statement.end, _("Closing balance"), "", "", None, None, statement.closing_balance],
        font=bold, border=boxed,
    )  # fmt: skip
    sheet.append([])

    on = f"{statement.printed_on:%Y-%m-%d}"
    sheet.append([_("Open installments on %(date)s") % {"date": on}])
    sheet.cell(row=sheet.max_row, column=1).font = bold
    row(
        [_("Due date"), _("Contract"), _("Installment"), _("Kind"), _("Amount"),
         _("Open amount"), _("Days overdue")],
        font=bold, fill=header_fill, border=boxed,
    )  # fmt: skip
    for installment in statement.open_installments:
        number = row(
            [installment.due_date, installment.contract.number, installment.sequence,
             installment.get_kind_display(), installment.amount, installment.open_value,
             installment.days_overdue],
            border=boxed,
        )  # fmt: skip
        sheet.cell(row=number, column=7).number_format = "0"
    row(
        [None, _("Total open"), None, None, None, statement.open_total, None],
        font=bold, border=boxed,
    )  # fmt: skip
    row([None, _("Of which overdue"), None, None, None, statement.overdue_total, None])
    row([None, _("Unallocated credit balance"), None, None, None, statement.credit_balance, None])
    sheet.append([])
    sheet.append([confirmation_text()])
    sheet.merge_cells(f"A{sheet.max_row}:G{sheet.max_row}")
    sheet.cell(row=sheet.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.row_dimensions[sheet.max_row].height = 45

    for letter, width in zip("ABCDEFG", (14, 22, 22, 40, 16, 16, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{header_row + 1}"
    reference = f"'{sheet.title}'!$G${closing_row}"
    workbook.defined_names["closing_balance"] = DefinedName("closing_balance", attr_text=reference)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def confirmation_text() -> str:
    return _(
        "Please check this statement against your records and return it signed and stamped "
        "within %(days)d days. If a figure does not agree, write the difference on it."
    ) % {"days": confirm_days()}


# --- the page ------------------------------------------------------------------------------


@login_required
@require_GET
def customer_statement(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The statement of account of one customer: ``?start=&end=`` (YYYY-MM-DD; 1 January to
    today by default), ``&format=xlsx`` for the Excel file."""
    asked = "start" in request.GET or "end" in request.GET
    initial_start, initial_end = default_period()
    form = StatementPeriodForm(
        request.GET if asked else None, initial={"start": initial_start, "end": initial_end}
    )
    if asked and not form.is_valid():
        # Out of scope stays a 404 whatever the dates.
        customer = get_object_or_404(statement_customers(user=request.user), pk=customer_id)
        context = {"form": form, "customer": customer, "statement": None}
        return render(request, "receivables/statement.html", context, status=400)
    start, end = (
        (form.cleaned_data["start"], form.cleaned_data["end"])
        if asked
        else (initial_start, initial_end)
    )
    statement = statement_of(user=request.user, customer_id=customer_id, start=start, end=end)
    company_name = seller_name()
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            statement_workbook(statement, company_name=company_name),
            content_type=XLSX_CONTENT_TYPE,
        )
        response["Content-Disposition"] = content_disposition_header(True, _filename(statement))
        return response
    context = {
        "form": form,
        "customer": statement.customer,
        "statement": statement,
        "company_name": company_name,
        "currency": settings.CURRENCY,
        "confirmation_text": confirmation_text(),
        "confirm_days": confirm_days(),
    }
    return render(request, "receivables/statement.html", context)
