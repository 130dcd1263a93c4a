"""Forms of the commission pages: they parse input (a month, percentages, the tier and factor
rows); the rules are the services' (`apps.incentives.commissions`)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OrgUnit, User
from apps.accounts.selectors import org_unit_list

from .choices import FactorKind, StatementStatus
from .commissions import FactorSpec, PlanData, TierSpec
from .selectors_commissions import StatementFilters

HUNDRED = Decimal("100")
INDENT = "\u2003"  # an em space per level of the org tree
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def parse_month(raw: str) -> date:
    """ "2026-06" → 1 June 2026; anything else is a ValueError."""
    match = _MONTH.match(raw or "")
    if not match:
        raise ValueError(raw)
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise ValueError(raw)
    return date(year, month, 1)


class MonthField(forms.CharField):
    """A month typed as YYYY-MM (the browser's month input), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, e.g. 2026-06.")}

    def to_python(self, value: Any) -> date | None:
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def prepare_value(self, value: Any) -> Any:
        return f"{value:%Y-%m}" if isinstance(value, date) else value


class StatementFilterForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)
    unit = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=OrgUnit.objects.none(),
        empty_label=_("All teams"),
    )  # fmt: skip
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("All statuses")), *StatementStatus.choices],
    )  # fmt: skip
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            org_unit_list(user=user).filter(is_active=True).order_by("path")
        )

    def filters(self) -> StatementFilters:
        """The valid filters (an invalid one is shown as an error and ignored)."""
        if not self.is_bound:
            return StatementFilters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return StatementFilters(
            month=data.get("month"),
            status=data.get("status") or "",
            unit=data.get("unit"),
            search=(data.get("q") or "").strip(),
        )


class TeamSubmitForm(forms.Form):
    """ "Submit all drafts of my team for month M"."""

    month = MonthField(label=_("Month"))
    unit = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=OrgUnit.objects.none(),
        empty_label=_("Every team I head"),
    )  # fmt: skip

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = (
            org_unit_list(user=user).filter(is_active=True).order_by("path")
        )


class PayrollExportForm(forms.Form):
    month = MonthField(label=_("Month"))


def _percent_field(label: str, **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=5, decimal_places=2, min_value=Decimal("0"),
        max_value=HUNDRED, **kwargs,
    )  # fmt: skip


class UnitsField(forms.ModelMultipleChoiceField):
    """Org units in tree order, indented by depth (a few dozen rows: the whole tree)."""

    def label_from_instance(self, obj: OrgUnit) -> str:
        return INDENT * obj.depth + obj.name


class PlanForm(forms.Form):
    """A commission plan's own fields (the tiers and factors are formsets)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty while the plan applies."),
    )  # fmt: skip
    units = UnitsField(
        label=_("Units"), required=False, queryset=OrgUnit.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_(
            "For the reps of these units and the units below them; none: every rep. Where two "
            "plans apply, the one of the closer unit wins."
        ),
    )  # fmt: skip
    accelerator_pct = _percent_field(
        _("Extra rate above target (%)"), initial=Decimal("0"),
        help_text=_("Added on the part of the month's base above the rep's collection target."),
    )  # fmt: skip
    clawback_on_write_off = forms.BooleanField(
        label=_("Claw back the commission of a written-off installment"), required=False,
        initial=True,
    )  # fmt: skip
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = OrgUnit.objects.filter(is_active=True).order_by("path")


class TierForm(forms.Form):
    from_amount = forms.DecimalField(
        label=_("From base amount"), max_digits=16, decimal_places=2, min_value=Decimal("0")
    )
    rate_pct = _percent_field(_("Rate (%)"))


class FactorForm(forms.Form):
    kind = forms.ChoiceField(label=_("Applies to"), choices=[("", "—"), *FactorKind.choices])
    value = forms.CharField(
        label=_("Product line or tier"), max_length=100,
        help_text=_("A product line as on the products (e.g. 服务), or a customer tier (A–D)."),
    )  # fmt: skip
    factor = forms.DecimalField(
        label=_("Factor"), max_digits=6, decimal_places=4, min_value=Decimal("0"),
        max_value=Decimal("99.9999"),
    )  # fmt: skip


class RowFormSet(forms.BaseFormSet):
    """Rows typed in a table: a row left empty is skipped, a row cleared is removed (no row
    counts as "initial", so none is required)."""

    def initial_form_count(self) -> int:
        return 0


TierFormSet = forms.formset_factory(TierForm, formset=RowFormSet, extra=2)
FactorFormSet = forms.formset_factory(FactorForm, formset=RowFormSet, extra=2)
EMPTY_ROWS = 2


def row_formset(
    cls: type[forms.BaseFormSet], *, prefix: str, data: Any = None, initial: list | None = None
) -> forms.BaseFormSet:
    """A bound formset of the posted rows, or an unbound one of `initial` plus empty rows."""
    if data is not None:
        return cls(data, prefix=prefix)
    formset = cls(initial=initial or [], prefix=prefix)
    formset.extra = len(initial or []) + EMPTY_ROWS
    return formset


def _filled(formset: forms.BaseFormSet) -> list[dict]:
    return [form.cleaned_data for form in formset.forms if getattr(form, "cleaned_data", None)]


def plan_data(form: PlanForm, tiers: forms.BaseFormSet, factors: forms.BaseFormSet) -> PlanData:
    """The service's input from the valid forms (percentages become fractions)."""
    data = form.cleaned_data
    return PlanData(
        name=data["name"],
        valid_from=data["valid_from"],
        valid_to=data.get("valid_to"),
        units=list(data.get("units") or []),
        accelerator_rate=(data.get("accelerator_pct") or Decimal("0")) / HUNDRED,
        clawback_on_write_off=bool(data.get("clawback_on_write_off")),
        notes=data.get("notes") or "",
        tiers=[TierSpec(row["from_amount"], row["rate_pct"] / HUNDRED) for row in _filled(tiers)],
        factors=[FactorSpec(row["kind"], row["value"], row["factor"]) for row in _filled(factors)],
    )


def plan_initial(plan: Any) -> tuple[dict, list[dict], list[dict]]:
    """The forms' initial data of an existing plan."""
    form = {
        "name": plan.name,
        "valid_from": plan.valid_from,
        "valid_to": plan.valid_to,
        "units": list(plan.units.all()),
        "accelerator_pct": (plan.accelerator_rate * HUNDRED).quantize(Decimal("0.01")),
        "clawback_on_write_off": plan.clawback_on_write_off,
        "notes": plan.notes,
    }
    tiers = [
        {"from_amount": t.from_amount, "rate_pct": (t.rate * HUNDRED).quantize(Decimal("0.01"))}
        for t in plan.tiers.all()
    ]
    factors = [{"kind": f.kind, "value": f.value, "factor": f.factor} for f in plan.factors.all()]
    return form, tiers, factors
