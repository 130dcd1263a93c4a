"""The payroll file of a month's approved commission statements (Excel, written like every
report file by `apps.leads.exports.workbook`): sheet 1 a row per rep (name, login, user id,
team, collected, base, target, tier commission, accelerator, adjustments, payable) and the
totals; sheet 2 the lines (the allocations behind each statement); sheet 3 the adjustments of
closed months booked on them. The figures are the statements' own, never recomputed here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from apps.leads.exports import Column, Sheet, workbook

from .models import CommissionAdjustment, CommissionLine, CommissionStatement

ZERO = Decimal("0")


def _rep(statement: CommissionStatement) -> list:
    rep = statement.rep
    return [rep.display_name, rep.username, rep.pk]


def payroll_workbook(
    *,
    month: date,
    statements: list[CommissionStatement],
    lines: Iterable[CommissionLine],
    adjustments: Iterable[CommissionAdjustment],
) -> bytes:
    """The .xlsx of the statements (with `rep` and `org_unit` loaded), their lines (with
    `allocation` and `contract`) and adjustments."""
    by_id = {s.pk: s for s in statements}
    filters = _("Approved statements of %(month)s") % {"month": f"{month:%Y-%m}"}
    who = [Column(_("Rep")), Column(_("Login")), Column(_("User ID"), "count")]
    money = ("collected", "base", "target", "tier_amount", "accelerator_amount", "adjustments",
             "payable")  # fmt: skip
    summary = Sheet(
        title=_("Payroll"),
        heading=_("Commissions for payroll: %(month)s") % {"month": f"{month:%Y-%m}"},
        filters=filters,
        columns=[
            *who,
            Column(_("Team")),
            Column(_("Collected"), "money"),
            Column(_("Commission base"), "money"),
            Column(_("Collection target"), "money"),
            Column(_("Tier commission"), "money"),
            Column(_("Accelerator"), "money"),
            Column(_("Adjustments"), "money"),
            Column(_("Payable"), "money"),
        ],
        rows=[
            [*_rep(s), s.org_unit.name if s.org_unit else "", *(getattr(s, n) for n in money)]
            for s in statements
        ],
        total=[
            _("Total"),
            "",
            None,
            "",
            *(sum((getattr(s, n) or ZERO for s in statements), ZERO) for n in money),
        ],
    )
    detail = Sheet(
        title=_("Lines"),
        heading=_("Collections behind the commissions: %(month)s") % {"month": f"{month:%Y-%m}"},
        filters=filters,
        columns=[
            *who,
            Column(_("Received on")),
            Column(_("Payment"), "count"),
            Column(_("Allocation"), "count"),
            Column(_("Contract")),
            Column(_("Installment"), "count"),
            Column(_("Collected"), "money"),
            Column(_("Factor"), "number"),
            Column(_("Commission base"), "money"),
        ],
        rows=[
            [
                *_rep(by_id[line.statement_id]),
                line.received_on.isoformat(),
                line.allocation.payment_id,
                line.allocation_id,
                line.contract.number,
                line.installment_id,
                line.amount,
                line.factor,
                line.base,
            ]
            for line in lines
        ],
    )
    # The collected amount (column 9) and the base (column 11) summed.
    detail.total = [_("Total"), "", None, "", None, None, "", None,
                    sum((row[8] for row in detail.rows), ZERO), None,
                    sum((row[10] for row in detail.rows), ZERO)]  # fmt: skip
    adjusted = Sheet(
        title=_("Adjustments"),
        heading=_("Adjustments of closed months: %(month)s") % {"month": f"{month:%Y-%m}"},
        filters=filters,
        columns=[
            *who,
            Column(_("Month adjusted")),
            Column(_("Amount"), "money"),
            Column(_("Reason")),
        ],
        rows=[
            [
                *_rep(by_id[adjustment.statement_id]),
                f"{adjustment.source_month:%Y-%m}",
                adjustment.amount,
                adjustment.reason,
            ]
            for adjustment in adjustments
        ],
    )
    adjusted.total = [_("Total"), "", None, "", sum((row[4] for row in adjusted.rows), ZERO), ""]
    return workbook([summary, detail, adjusted])
