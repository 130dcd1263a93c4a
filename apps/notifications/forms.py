"""The e-mail preferences form: for each kind of notification, whether it also comes by e-mail
(in-app notifications are always on)."""

from __future__ import annotations

from django import forms

from .choices import NotificationKind
from .models import NotificationPreference
from .services import notification_preferences_set


class NotificationPreferencesForm(forms.Form):
    """One checkbox per NotificationKind, named by the kind's value."""

    def __init__(self, *args, user, **kwargs) -> None:
        self.user = user
        chosen = set(
            NotificationPreference.objects.filter(user=user, email=True).values_list(
                "kind", flat=True
            )
        )
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label, required=False, initial=kind.value in chosen
            )

    def kinds(self) -> list[forms.BoundField]:
        return [self[kind.value] for kind in NotificationKind]

    def save(self) -> list[str]:
        """Store the user's choice; returns the kinds now e-mailed."""
        return notification_preferences_set(
            user=self.user,
            email_kinds=[kind for kind in NotificationKind.values if self.cleaned_data.get(kind)],
        )
