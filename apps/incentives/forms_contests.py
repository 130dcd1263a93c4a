"""Forms of the contest pages: they parse input; the rules are the services'
(`apps.incentives.contests`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.goals.choices import Metric

from . import selectors_contests as selectors

_DATE = {"type": "date"}


class ContestForm(forms.Form):
    """A sales contest (销售竞赛): what, when, for which teams."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Rules and prizes"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What counts, what the winners get."),
    )  # fmt: skip
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices)
    starts_on = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs=_DATE))
    ends_on = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs=_DATE))
    units = forms.TypedMultipleChoiceField(
        label=_("Teams"), coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("The reps of these units and of the units below them take part."),
        error_messages={
            "required": _("Choose at least one team."),
            "invalid_choice": _("Choose teams within the units you head."),
        },
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The units the user may put in a contest (an org has a few hundred at most).
        self.fields["units"].choices = [
            (unit.pk, f"{'· ' * max(0, unit.depth - 1)}{unit.name}")
            for unit in selectors.contest_units_for(user)
        ]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("starts_on"), data.get("ends_on")
        if start and end and end < start:
            self.add_error("ends_on", _("The last day is before the first day."))
        return data


STATE_CHOICES = [
    (selectors.RUNNING, _("Running")),
    (selectors.UPCOMING, _("Upcoming")),
    (selectors.ENDED, _("Ended")),
]


class ContestFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATE_CHOICES)
