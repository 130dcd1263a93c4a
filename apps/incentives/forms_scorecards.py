"""Forms of the scorecard and scoring-scheme pages. They parse the input's shape; the rules
(weights adding up to 100, curves, grades, one active scheme per role and period, who may do
what) are the services' (`apps.incentives.scorecards`), whose field errors the views put back
on these forms."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.goals.periods import Period, period_of

from .choices import AssessmentPeriod, Curve, Grade, KpiMetric, SchemeRole, ScorecardStatus
from .kpi import DEFINITIONS
from .models import ScoringScheme
from .scorecards import ASSESSMENT_MAX, MetricSpec, SchemeData

_NUMBER = {"step": "any", "inputmode": "decimal"}


class SchemeForm(forms.Form):
    """The scheme's own fields (考核方案)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(label=_("Role assessed"), choices=SchemeRole.choices)
    period_kind = forms.ChoiceField(
        label=_("Period"), choices=AssessmentPeriod.choices, initial=AssessmentPeriod.MONTH
    )
    grade_s_min = forms.DecimalField(
        label=_("Lowest score for S"), max_digits=7, decimal_places=2, initial=Decimal(95),
        widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    grade_a_min = forms.DecimalField(
        label=_("Lowest score for A"), max_digits=7, decimal_places=2, initial=Decimal(85),
        widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    grade_b_min = forms.DecimalField(
        label=_("Lowest score for B"), max_digits=7, decimal_places=2, initial=Decimal(70),
        widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    grade_c_min = forms.DecimalField(
        label=_("Lowest score for C"), max_digits=7, decimal_places=2, initial=Decimal(60),
        help_text=_("Below C is D."), widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    @classmethod
    def initial_of(cls, scheme: ScoringScheme) -> dict[str, Any]:
        return {
            name: getattr(scheme, name)
            for name in ("name", "role", "period_kind", "grade_s_min", "grade_a_min",
                         "grade_b_min", "grade_c_min", "notes")
        }  # fmt: skip


_THRESHOLD = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*[:：]\s*([0-9]+(?:\.[0-9]+)?)\s*$")


def parse_thresholds(raw: str) -> list[tuple[Decimal, Decimal]]:
    """ "60:50, 80:80, 100:100" (or one pair per line) → [(60, 50), (80, 80), (100, 100)];
    ValueError on anything else."""
    steps = []
    for part in re.split(r"[,，;；\n]+", raw or ""):
        if not part.strip():
            continue
        match = _THRESHOLD.match(part)
        if match is None:
            raise ValueError(part)
        steps.append((Decimal(match.group(1)), Decimal(match.group(2))))
    return steps


def format_thresholds(thresholds: list[dict]) -> str:
    return ", ".join(
        f"{Decimal(str(t['at'])).normalize():f}:{Decimal(str(t['points'])).normalize():f}"
        for t in thresholds or []
    )


class MetricLineForm(forms.Form):
    """One metric of the scheme (a row of the metric table): left out while its weight is
    empty."""

    metric = forms.ChoiceField(choices=KpiMetric.choices, widget=forms.HiddenInput)
    weight = forms.DecimalField(
        label=_("Weight (%)"), required=False, max_digits=5, decimal_places=2,
        widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    curve = forms.ChoiceField(label=_("Scoring curve"), choices=Curve.choices, initial=Curve.LINEAR)
    zero_at = forms.DecimalField(
        label=_("Value scoring 0"), required=False, max_digits=16, decimal_places=4,
        widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    full_at = forms.DecimalField(
        label=_("Value scoring 100"), required=False, max_digits=16, decimal_places=4,
        widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    cap = forms.DecimalField(
        label=_("Highest points"), required=False, max_digits=7, decimal_places=2,
        initial=Decimal(120), widget=forms.NumberInput(attrs=_NUMBER),
    )  # fmt: skip
    lower_is_better = forms.BooleanField(label=_("Less is better"), required=False)
    thresholds = forms.CharField(
        label=_("Thresholds"), required=False, max_length=1000,
        help_text=_("value:points pairs, e.g. 60:50, 80:80, 100:100"),
    )  # fmt: skip

    def clean_thresholds(self) -> list[tuple[Decimal, Decimal]]:
        raw = self.cleaned_data.get("thresholds") or ""
        try:
            return parse_thresholds(raw)
        except (ValueError, InvalidOperation):
            raise forms.ValidationError(
                _("Write each threshold as value:points, for example 80:60."), code="invalid"
            ) from None

    @property
    def metric_value(self) -> str:
        return self["metric"].value()

    @property
    def label(self) -> str:
        value = self.metric_value
        return KpiMetric(value).label if value in KpiMetric.values else value

    @property
    def definition(self) -> str:
        return DEFINITIONS.get(self.metric_value, "")

    def is_used(self) -> bool:
        return self.is_valid() and self.cleaned_data.get("weight") is not None

    def spec(self) -> MetricSpec:
        data = self.cleaned_data
        return MetricSpec(
            metric=data["metric"], weight=data.get("weight"), curve=data.get("curve"),
            zero_at=data.get("zero_at") if data.get("zero_at") is not None else Decimal(0),
            full_at=data.get("full_at"),
            cap=data.get("cap") if data.get("cap") is not None else Decimal(120),
            lower_is_better=bool(data.get("lower_is_better")),
            thresholds=data.get("thresholds") or [],
        )  # fmt: skip


class BaseMetricLineFormSet(forms.BaseFormSet):
    def form_for(self, metric: str) -> MetricLineForm | None:
        for form in self.forms:
            if form["metric"].value() == metric:
                return form
        return None


MetricLineFormSet = forms.formset_factory(
    MetricLineForm, formset=BaseMetricLineFormSet, extra=0, max_num=len(KpiMetric.values),
    validate_max=True,
)  # fmt: skip


def metric_initial(scheme: ScoringScheme | None) -> list[dict[str, Any]]:
    """A row per metric: the scheme's lines first in their order, then the metrics it leaves
    out (empty weight)."""
    rows = []
    used = set()
    if scheme is not None:
        for line in scheme.metrics.all():
            used.add(line.metric)
            rows.append(
                {
                    "metric": line.metric, "weight": line.weight, "curve": line.curve,
                    "zero_at": line.zero_at, "full_at": line.full_at, "cap": line.cap,
                    "lower_is_better": line.lower_is_better,
                    "thresholds": format_thresholds(line.thresholds),
                }
            )  # fmt: skip
    for metric in KpiMetric.values:
        if metric not in used:
            lower = metric == KpiMetric.OVERDUE_RATIO
            rows.append(
                {
                    "metric": metric, "curve": Curve.LINEAR, "cap": Decimal(120),
                    "zero_at": Decimal(100 if lower else 0),
                    "full_at": Decimal(0 if lower else 100), "lower_is_better": lower,
                }
            )  # fmt: skip
    return rows


def scheme_data(form: SchemeForm, formset: BaseMetricLineFormSet) -> SchemeData:
    """What the service gets from the valid forms: the scheme's fields and the used lines."""
    data = form.cleaned_data
    return SchemeData(
        name=data["name"], role=data["role"], period_kind=data["period_kind"],
        grade_s_min=data["grade_s_min"], grade_a_min=data["grade_a_min"],
        grade_b_min=data["grade_b_min"], grade_c_min=data["grade_c_min"],
        notes=data.get("notes") or "",
        metrics=[f.spec() for f in formset.forms if f.is_used()],
    )  # fmt: skip


class AssessmentForm(forms.Form):
    """The written assessment (考核评估) of the head."""

    assessment = forms.CharField(
        label=_("Written assessment"), required=False, max_length=ASSESSMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Strengths, what to improve, and what was agreed for the next period."),
    )  # fmt: skip


def parse_period(raw: str) -> Period | None:
    """ "month:2026-06-01" → that month (a quarter likewise); None for anything else."""
    kind, _sep, start = (raw or "").partition(":")
    if kind not in AssessmentPeriod.values:
        return None
    try:
        day = date.fromisoformat(start)
    except ValueError:
        return None
    period = period_of(kind, day)
    return period if period.start == day else None


def period_key(period: Period) -> str:
    return f"{period.kind}:{period.start.isoformat()}"


class PeriodField(forms.CharField):
    """A period as "kind:first day" (the value of the period selects)."""

    def to_python(self, value: Any) -> Period | None:
        value = super().to_python(value)
        if not value:
            return None
        period = parse_period(value) if len(value) <= 30 else None
        if period is None:
            raise forms.ValidationError(
                _("Choose a period from the list (e.g. month:2026-06-01)."), code="invalid"
            )
        return period


class ScorecardFilterForm(forms.Form):
    period = PeriodField(label=_("Period"), required=False)
    unit = forms.IntegerField(label=_("Team"), required=False, min_value=1)
    grade = forms.ChoiceField(
        label=_("Grade"), required=False, choices=[("", _("All grades")), *Grade.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("All statuses")), *ScorecardStatus.choices],
    )  # fmt: skip
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=100000)


class RankingFilterForm(forms.Form):
    period = PeriodField(label=_("Period"), required=False)
    scheme = forms.IntegerField(label=_("Scheme"), required=False, min_value=1)
    unit = forms.IntegerField(label=_("Team"), required=False, min_value=1)
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=100000)


class PublishAllForm(forms.Form):
    period = PeriodField(label=_("Period"))
    unit = forms.IntegerField(label=_("Team"), required=False, min_value=1)
    scheme = forms.IntegerField(label=_("Scheme"), required=False, min_value=1)


class RecomputeForm(forms.Form):
    """The period an administrator recomputes: a day in it."""

    day = forms.DateField(
        label=_("A day of the period"), input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
