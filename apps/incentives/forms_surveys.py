"""Forms of the survey pages: the customer's answer (public page) and the list's filters. They
parse input; the rules are the services' (`apps.incentives.surveys`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User

from . import selectors_surveys as selectors
from .choices import SurveyTrigger
from .surveys import COMMENT_MAX

SCORE_CHOICES = [(n, str(n)) for n in range(1, 6)]
NPS_CHOICES = [(n, str(n)) for n in range(0, 11)]


class SurveyAnswerForm(forms.Form):
    """What the customer answers: satisfaction 1–5 (required), likelihood to recommend 0–10
    (optional), a comment."""

    score = forms.TypedChoiceField(
        label=_("How satisfied are you with us overall?"), choices=SCORE_CHOICES, coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a satisfaction from 1 to 5."),
                        "invalid_choice": _("Choose a satisfaction from 1 to 5.")},
    )  # fmt: skip
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us? 0–10"), choices=NPS_CHOICES, coerce=int,
        required=False, empty_value=None, widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": _("Choose how likely you are to recommend us, from 0 to 10.")
        },
    )  # fmt: skip
    comment = forms.CharField(
        label=_("Anything you would like to tell us?"), required=False, max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )  # fmt: skip


ANSWERED_CHOICES = [("", _("Answered or not")), ("yes", _("Answered")), ("no", _("Not answered"))]


class SurveyFilterForm(forms.Form):
    start = forms.DateField(label=_("Sent from"), required=False)
    end = forms.DateField(label=_("Sent until"), required=False)
    unit = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    rep = forms.TypedChoiceField(label=_("Rep"), required=False, coerce=int, empty_value=None)
    score = forms.TypedChoiceField(
        label=_("Satisfaction"), required=False, coerce=int, empty_value=None,
        choices=[("", _("Any satisfaction")), *SCORE_CHOICES],
    )  # fmt: skip
    trigger = forms.ChoiceField(
        label=_("Sent after"), required=False,
        choices=[("", _("Any occasion")), *SurveyTrigger.choices],
    )  # fmt: skip
    answered = forms.ChoiceField(label=_("Answered"), required=False, choices=ANSWERED_CHOICES)

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.unit_objects = {unit.pk: unit for unit in selectors.survey_units(user=user)}
        self.rep_objects = list(selectors.survey_reps(user=user))
        self.fields["unit"].choices = [("", _("Every team")), *(
            (pk, unit.name) for pk, unit in self.unit_objects.items()
        )]  # fmt: skip
        self.fields["rep"].choices = [("", _("Every rep")), *(
            (rep.pk, rep.display_name) for rep in self.rep_objects
        )]  # fmt: skip
        for name in ("unit", "rep"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Choose one within your data scope."
            )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end is before the start."))
        return data

    def filters(self) -> selectors.SurveyFilters:
        data = self.cleaned_data
        answered = {"yes": True, "no": False}.get(data.get("answered") or "")
        return selectors.SurveyFilters(
            start=data.get("start"), end=data.get("end"),
            unit=self.unit_objects.get(data.get("unit")) if data.get("unit") else None,
            rep=data.get("rep"), score=data.get("score"), trigger=data.get("trigger") or "",
            answered=answered,
        )  # fmt: skip
