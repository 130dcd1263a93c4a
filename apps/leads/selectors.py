"""Reads of leads, scoped (DESIGN.md "Data scope"): a rep sees the leads they own; a
supervisor or manager also those of everyone in the units they head and the unassigned leads
waiting in those units; admins and integrations everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.accounts.scope import Scope, headed_paths, scope_of, visible_users
from apps.customers.normalization import normalize_email, normalize_phone

from .models import Lead


def lead_scope_q(user: User) -> Q | None:
    """The filter of the leads `user` may see; None for all of them."""
    scope = scope_of(user)
    if scope is Scope.ALL:
        return None
    if scope is Scope.NONE:
        return Q(pk__in=[])
    if scope is Scope.OWN:
        return Q(owner_id=user.pk)
    waiting = Q()
    for path in headed_paths(user):
        waiting |= Q(team__path__startswith=path)
    return Q(owner__in=visible_users(user).values("pk")) | (Q(owner__isnull=True) & waiting)


def lead_list(
    *,
    user: User,
    search: str = "",
    status: str = "",
    grade: str = "",
    source: str = "",
    owner: int | None = None,
    team: int | None = None,
    region: str = "",
    sla_breached: bool | None = None,
) -> QuerySet[Lead]:
    q = lead_scope_q(user)
    qs = Lead.objects.all() if q is None else Lead.objects.filter(q)
    qs = qs.select_related("owner", "team")
    search = search.strip()
    if search:
        # The name by the trigram index; a phone or e-mail by its indexed key.
        match = Q(company_name__icontains=search)
        if phone := normalize_phone(search):
            match |= Q(phone_key=phone)
        if "@" in search:
            match |= Q(email_key=normalize_email(search))
        qs = qs.filter(match)
    if status:
        qs = qs.filter(status=status)
    if grade:
        qs = qs.filter(grade=grade)
    if source:
        qs = qs.filter(source=source)
    if owner is not None:
        qs = qs.filter(owner_id=owner)
    if team is not None:
        qs = qs.filter(team_id=team)
    if region:
        qs = qs.filter(region=region)
    if sla_breached is not None:
        qs = qs.filter(sla_breached_at__isnull=not sla_breached)
    return qs


def lead_get(*, user: User, pk: int) -> Lead:
    """One lead in `user`'s scope, else 404."""
    return get_object_or_404(lead_list(user=user).select_related("converted_customer"), pk=pk)


def lead_touches(*, lead: Lead, limit: int = 20) -> list:
    return list(lead.touches.all()[:limit])


@dataclass(frozen=True)
class SlaCompliance:
    """First-response SLA figures of the leads due in a period (线索响应及时率)."""

    due: int
    responded_in_time: int
    responded_late: int
    breached: int

    @property
    def rate(self) -> float | None:
        return self.responded_in_time / self.due if self.due else None


def lead_sla_compliance(*, user: User, period: tuple[datetime, datetime]) -> SlaCompliance:
    """SLA compliance of the leads in `user`'s scope whose first response fell due in
    [start, end): one aggregate query."""
    start, end = period
    q = lead_scope_q(user)
    qs = Lead.objects.all() if q is None else Lead.objects.filter(q)
    figures = qs.filter(first_response_due_at__gte=start, first_response_due_at__lt=end).aggregate(
        due=Count("id"),
        in_time=Count("id", filter=Q(first_responded_at__lte=F("first_response_due_at"))),
        late=Count("id", filter=Q(first_responded_at__gt=F("first_response_due_at"))),
        breached=Count("id", filter=Q(sla_breached_at__isnull=False)),
    )
    return SlaCompliance(
        due=figures["due"],
        responded_in_time=figures["in_time"],
        responded_late=figures["late"],
        breached=figures["breached"],
    )
