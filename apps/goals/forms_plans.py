"""Forms of the sales plan and target adjustment pages. Only the input's shape is checked
here; the rules (rights, sums, states) are the services' (`apps.goals.plans`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User

from .choices import DocumentStatus, Metric, PeriodKind
from .plans import PlanLine


class PlanForm(forms.Form):
    """The sections of a sales plan (销售计划书) and its unit and period."""

    org_unit = forms.ModelChoiceField(label=_("Org unit"), queryset=None, empty_label=None)
    period_kind = forms.ChoiceField(
        label=_("Period"), choices=PeriodKind.choices, initial=PeriodKind.QUARTER
    )
    day = forms.DateField(
        label=_("A day of the period"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_("The plan covers the whole period that contains this day."),
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("Left empty: the unit and the period."),
    )
    problems = forms.CharField(
        label=_("Problems to solve"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    profit_target = forms.DecimalField(
        label=_("Profit target"), required=False, max_digits=16, decimal_places=2
    )
    expense_budget = forms.DecimalField(
        label=_("Expense budget"), required=False, max_digits=16, decimal_places=2
    )
    expense_control_plan = forms.CharField(
        label=_("Expense control plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    collection_plan = forms.CharField(
        label=_("Collection plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    price_plan = forms.CharField(
        label=_("Price plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    channel_plan = forms.CharField(
        label=_("Channel plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    promotion_plan = forms.CharField(
        label=_("Promotion plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    training_plan = forms.CharField(
        label=_("Training plan"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    SECTIONS = (
        "problems",
        "profit_target",
        "expense_budget",
        "expense_control_plan",
        "collection_plan",
        "price_plan",
        "channel_plan",
        "promotion_plan",
        "training_plan",
    )

    def __init__(
        self, *args: Any, units=None, fixed_unit: bool = False, grid_url: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = units
        if fixed_unit:
            self.fields["org_unit"].disabled = True
        elif grid_url:
            # Another unit has other reps: reload the target grid's rows (htmx).
            self.fields["org_unit"].widget.attrs.update(
                {
                    "hx-get": grid_url,
                    "hx-target": "#plan-grid",
                    "hx-swap": "outerHTML",
                    "hx-trigger": "change",
                }
            )
        self.fields["day"].initial = timezone.localdate()

    def sections(self) -> list[forms.BoundField]:
        return [self[name] for name in self.SECTIONS]

    def data_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in ("title", *self.SECTIONS)}


def _cell_name(user_id: int | None, metric: str) -> str:
    return f"t-{user_id or 'unit'}-{metric}"


class TargetGridForm(forms.Form):
    """The plan's target grid: rows = the unit's total and each rep, columns = the metrics;
    an empty cell sets no target."""

    def __init__(self, *args: Any, reps: list[User], unit_label: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reps = reps
        self.unit_label = unit_label
        for user_id in [None, *[r.pk for r in reps]]:
            for metric in Metric.values:
                self.fields[_cell_name(user_id, metric)] = forms.DecimalField(
                    label=Metric(metric).label,
                    required=False,
                    min_value=Decimal("0"),
                    max_digits=16,
                    decimal_places=2,
                    widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
                )

    @staticmethod
    def initial_from(lines: list[PlanLine]) -> dict[str, Decimal]:
        return {_cell_name(line.user_id, line.metric): line.amount for line in lines}

    def metrics(self) -> list[Any]:
        return list(Metric)

    def rows(self) -> list[dict[str, Any]]:
        people = [(None, self.unit_label or _("Unit total"))]
        people += [(rep.pk, rep.display_name) for rep in self.reps]
        return [
            {
                "user_id": user_id,
                "label": label,
                "is_unit": user_id is None,
                "cells": [self[_cell_name(user_id, m)] for m in Metric.values],
            }
            for user_id, label in people
        ]

    def lines(self) -> list[PlanLine]:
        lines: list[PlanLine] = []
        for user_id in [None, *[r.pk for r in self.reps]]:
            for metric in Metric.values:
                value = self.cleaned_data.get(_cell_name(user_id, metric))
                if value is not None:
                    lines.append(PlanLine(metric, value, user_id))
        return lines


class PlanFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", ""), *DocumentStatus.choices], required=False)
    period_kind = forms.ChoiceField(choices=[("", ""), *PeriodKind.choices], required=False)
    day = forms.DateField(required=False)
    org_unit = forms.IntegerField(required=False, min_value=1)


class AdjustmentForm(forms.Form):
    """The difficulty report (执行困难报告单) and the proposed target (修正单)."""

    proposed_amount = forms.DecimalField(
        label=_("Proposed target"), max_digits=16, decimal_places=2, min_value=Decimal("0")
    )
    difficulty_report = forms.CharField(
        label=_("Difficulty report"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What stands in the way of the target, and why the new amount is right."),
    )


class AdjustmentFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", ""), *DocumentStatus.choices], required=False)
