"""Forms of the accounts pages: sign-in and the user's own profile."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import User

# Digits with the usual separators and an optional leading "+": 138 0013 8000, +86-755-1234567.
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,30}$")


class LoginForm(AuthenticationForm):
    """Django's sign-in form, with the attributes a phone keyboard and a password manager use."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}
        )


class ProfileForm(forms.ModelForm):
    """What a user may change about themselves. Role, org unit and username are the admin's."""

    language = forms.ChoiceField(
        label=_("Preferred language"),
        required=False,
        choices=[("", _("Same as the browser")), *settings.LANGUAGES],
        help_text=_("The language of the pages after you sign in."),
    )

    class Meta:
        model = User
        fields = ["last_name", "first_name", "email", "phone", "language"]
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
        }

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE_RE.match(phone):
            raise forms.ValidationError(
                _("Enter a phone number of digits, spaces, dashes and an optional leading +."),
                code="invalid",
            )
        return phone

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()
