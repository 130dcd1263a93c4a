"""Forms of the target pages: the list's filters, a new target, a changed amount, and a split
(direction, method, and by hand an amount per part)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import OrgUnit, User

from . import selectors
from .choices import Metric, PeriodKind, ScopeKind, SplitMethod, TargetStatus
from .targets import ChildSpec, Direction


def _blank(label: Any, choices: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class TargetFilterForm(forms.Form):
    metric = forms.ChoiceField(
        label=gettext_lazy("Metric"), required=False,
        choices=_blank(gettext_lazy("All metrics"), Metric.choices),
    )  # fmt: skip
    period_kind = forms.ChoiceField(
        label=gettext_lazy("Period"), required=False,
        choices=_blank(gettext_lazy("All periods"), PeriodKind.choices),
    )  # fmt: skip
    year = forms.IntegerField(
        label=gettext_lazy("Year"), required=False, min_value=2000, max_value=2100
    )
    scope_kind = forms.ChoiceField(
        label=gettext_lazy("Scope"), required=False,
        choices=_blank(gettext_lazy("All scopes"), ScopeKind.choices),
    )  # fmt: skip
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False,
        choices=_blank(gettext_lazy("All statuses"), TargetStatus.choices),
    )  # fmt: skip

    def filters(self) -> dict[str, Any]:
        """The valid filters as selector arguments (an invalid one is ignored)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            name: data.get(name) or None
            for name in ("metric", "period_kind", "year", "scope_kind", "status")
            if name not in self.errors
        }


class _UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgUnit) -> str:
        return "— " * max(obj.depth - 1, 0) + obj.name


class _RepChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} · {obj.org_unit.name}" if obj.org_unit_id else obj.display_name


class TargetCreateForm(forms.Form):
    metric = forms.ChoiceField(label=gettext_lazy("Metric"), choices=Metric.choices)
    period_kind = forms.ChoiceField(
        label=gettext_lazy("Period"), choices=PeriodKind.choices, initial=PeriodKind.MONTH
    )
    day = forms.DateField(
        label=gettext_lazy("Day in the period"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("Any day of it: the year, quarter, month or week containing it."),
    )
    scope_kind = forms.ChoiceField(label=gettext_lazy("Scope"), choices=ScopeKind.choices)
    org_unit = _UnitChoice(
        label=gettext_lazy("Org unit"), queryset=OrgUnit.objects.none(), required=False,
        help_text=gettext_lazy("For an org unit's target."),
    )  # fmt: skip
    user = _RepChoice(
        label=gettext_lazy("Rep"), queryset=User.objects.none(), required=False,
        help_text=gettext_lazy("For a rep's target."),
    )  # fmt: skip
    amount = forms.DecimalField(
        label=gettext_lazy("Target"), min_value=Decimal("0"), max_digits=16, decimal_places=2,
        help_text=gettext_lazy("Money to the cent; customers and visits in whole numbers."),
    )  # fmt: skip
    reason = forms.CharField(
        label=gettext_lazy("Note"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = selectors.settable_units(user)
        self.fields["user"].queryset = selectors.settable_reps(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        scope = data.get("scope_kind")
        if scope == ScopeKind.UNIT and not data.get("org_unit") and "org_unit" not in self.errors:
            self.add_error("org_unit", _("Choose the org unit of the target."))
        if scope == ScopeKind.REP and not data.get("user") and "user" not in self.errors:
            self.add_error("user", _("Choose the rep of the target."))
        return data


class TargetAmountForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("New target"), min_value=Decimal("0"), max_digits=16,
        decimal_places=2,
    )  # fmt: skip
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


PART_PREFIX = "part-"


class TargetDecomposeForm(forms.Form):
    """Direction and method; by hand, one amount per part (`part-<key>`), prefilled."""

    direction = forms.ChoiceField(label=gettext_lazy("Direction"), choices=Direction.choices)
    method = forms.ChoiceField(label=gettext_lazy("Split method"), choices=SplitMethod.choices)

    def __init__(
        self,
        *args: Any,
        directions: Sequence[str],
        specs: Sequence[ChildSpec] = (),
        prefill: Sequence[Decimal] = (),
        decimals: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["direction"].choices = [
            (value, label) for value, label in Direction.choices if value in directions
        ]
        self.specs = list(specs)
        for index, spec in enumerate(self.specs):
            self.fields[PART_PREFIX + spec.key] = forms.DecimalField(
                label=spec.label, required=False, min_value=Decimal("0"), max_digits=16,
                decimal_places=decimals, initial=prefill[index] if index < len(prefill) else None,
            )  # fmt: skip

    def parts(self) -> list[tuple[ChildSpec, forms.BoundField]]:
        return [(spec, self[PART_PREFIX + spec.key]) for spec in self.specs]

    def manual(self) -> dict[str, Decimal]:
        """The amounts by hand, keyed by part (an empty input is zero)."""
        return {
            spec.key: self.cleaned_data.get(PART_PREFIX + spec.key) or Decimal("0")
            for spec in self.specs
        }
