"""Forms of the approval pages: a decision's comment, and a delegation (代理审批人).

The rules live in the services (`apps.approvals.services`, `apps.approvals.delegations`): a
service's ValidationError is added to the form, so the person sees it on the field it names.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from apps.accounts.choices import Role
from apps.accounts.models import User

DELEGATE_MATCHES = 20


class DecisionForm(forms.Form):
    """The comment of a submission, an approval (optional) or a return (required by
    `approval_reject`)."""

    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def delegate_candidates(*, user: User, search: str = "") -> QuerySet[User]:
    """The people `user` may name as delegate: active people of the company other than
    themselves (an integration account approves nothing). A delegate usually sits outside the
    user's data scope (a peer supervisor), so this is the company directory, not `user_list`.
    Searched by username or name (a Chinese name is written surname first)."""
    qs = (
        User.objects.filter(is_active=True)
        .exclude(role=Role.INTEGRATION)
        .exclude(pk=user.pk)
        .select_related("org_unit")
    )
    search = search.strip()
    if search:
        qs = qs.annotate(
            surname_first=Concat("last_name", "first_name"),
            given_first=Concat("first_name", Value(" "), "last_name"),
        ).filter(
            Q(username__icontains=search)
            | Q(surname_first__icontains=search)
            | Q(given_first__icontains=search)
        )
    return qs.order_by("username")


class DelegationForm(forms.Form):
    """A new delegation of the signed-in user's approvals. The delegate is picked from a
    search-as-you-type list (never a select box over the whole users table)."""

    delegate = forms.ModelChoiceField(
        label=_("Delegate"),
        queryset=User.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Search for a person and choose them from the list."),
            "invalid_choice": _("Choose an active person of the company."),
        },
    )
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=300,
        help_text=_("For example: annual leave, business trip."),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = delegate_candidates(user=user)

    def chosen_delegate(self) -> User | None:
        """The delegate picked so far (to show it again when the form has errors)."""
        if self.is_bound and "delegate" in getattr(self, "cleaned_data", {}):
            return self.cleaned_data["delegate"]
        raw = self.data.get("delegate") if self.is_bound else None
        if raw and str(raw).isdigit():
            return self.fields["delegate"].queryset.filter(pk=raw).first()
        return None
