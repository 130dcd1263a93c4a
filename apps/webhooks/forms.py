from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import EventType


class SubscriptionForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https",
        help_text=_("The receiver's address; it answers 2xx when it has the event."),
    )  # fmt: skip
    event_types = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
