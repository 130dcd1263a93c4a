"""Forms of the period review pages: they parse input; the rules are the services'
(`apps.goals.closing`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import PeriodKind, ReviewStatus

_TEXT = {"rows": 6}


class ReviewForm(forms.Form):
    """What the unit's head writes: the summary (总结) and, after a return, the corrections
    (修正)."""

    summary = forms.CharField(
        label=_("Summary"), required=False, max_length=20000, widget=forms.Textarea(attrs=_TEXT),
        help_text=_("How the unit did against its targets, why, and what it will change."),
    )  # fmt: skip
    corrections = forms.CharField(
        label=_("Corrections"), required=False, max_length=20000,
        widget=forms.Textarea(attrs=_TEXT),
        help_text=_("What you corrected after the manager returned the review."),
    )  # fmt: skip

    def __init__(self, *args, with_corrections: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not with_corrections:
            del self.fields["corrections"]


class ReviewFilterForm(forms.Form):
    period_kind = forms.ChoiceField(
        label=_("Period"), required=False, choices=[("", _("All periods")), *PeriodKind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ReviewStatus.choices]
    )
