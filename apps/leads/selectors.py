"""Reads of leads, scoped (DESIGN.md "Data scope"): a rep sees the leads they own; a
supervisor or manager also those of everyone in the units they head and the unassigned leads
waiting in those units; admins and integrations everything."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, headed_paths, scope_of, visible_users
from apps.customers.normalization import normalize_email, normalize_phone

from .models import Lead


def lead_scope_q(user: User, *, prefix: str = "") -> Q | None:
    """The filter of the leads `user` may see; None for all of them. `prefix` reaches the
    lead through a relation (e.g. "lead__" from an opportunity)."""
    scope = scope_of(user)
    if scope is Scope.ALL:
        return None
    if scope is Scope.NONE:
        return Q(**{f"{prefix}pk__in": []})
    if scope is Scope.OWN:
        return Q(**{f"{prefix}holder": user.pk})
    owners, teams = _subtree_ids(user)
    # `holder` is the owner, or minus the team while the lead waits in it (see the model).
    return Q(**{f"{prefix}holder__in": [*owners, *(-team for team in teams)]})


def _subtree_ids(user: User) -> tuple[list[int], list[int]]:
    """(users, org units) of the subtrees `user` heads, cached on the user for the request.

    Two small indexed queries up front, so that the lead filter is a plain ``holder IN
    (…)``, which Postgres answers from the `lead_holder_recent` index alone. As a subquery on
    users and a join on the tree path inside an OR, it walked the whole table: 1–4 s for a
    supervisor's deep page or a rare filter with 1M leads; as ``owner_id IN (…) OR (owner_id
    IS NULL AND team_id IN (…))`` still 0.3–1.2 s, because no index-only scan answers an OR
    (issue 4, bench/leads_list.py).
    """
    cached = getattr(user, "_lead_subtree_ids", None)
    if cached is None:
        paths = Q()
        for path in headed_paths(user):
            paths |= Q(path__startswith=path)
        owners = list(visible_users(user).values_list("pk", flat=True))
        teams = list(OrgUnit.objects.filter(paths).values_list("pk", flat=True)) if paths else []
        cached = user._lead_subtree_ids = (owners, teams)
    return cached


def lead_page(leads: QuerySet[Lead], *, number: int, per_page: int) -> tuple[list[Lead], bool]:
    """Page `number` (from 1) of `leads`, newest change first, and whether a next page exists,
    without a COUNT(*) (one row more than a page tells).

    The page's ids come first, from the ordering and filter columns alone (an index-only scan
    where an index covers them), and only those rows are then read and joined to their owner
    and team: a deep page skips index entries, not joined rows (a page 1,000 deep took ~2 s
    over 1M leads as one OFFSET query; issue 4, bench/leads_list.py).
    """
    start = (number - 1) * per_page
    ids = list(
        leads.order_by("-updated_at", "-id").values_list("pk", flat=True)[
            start : start + per_page + 1
        ]
    )
    rows = list(
        Lead.objects.filter(pk__in=ids[:per_page])
        .select_related("owner", "team")
        .order_by("-updated_at", "-id")
    )
    return rows, len(ids) > per_page


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
        # The name by the n-gram index (any length, Chinese too); a phone or e-mail by its
        # indexed key.
        match = Q(company_name__ngram_contains=search)
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


def _sla_due_in(user: User, period: tuple[datetime, datetime]) -> QuerySet[Lead]:
    """The leads in `user`'s scope whose first response fell due in [start, end)."""
    start, end = period
    q = lead_scope_q(user)
    qs = Lead.objects.all() if q is None else Lead.objects.filter(q)
    return qs.filter(first_response_due_at__gte=start, first_response_due_at__lt=end)


def _sla_counts() -> dict[str, Count]:
    return {
        "due": Count("id"),
        "in_time": Count("id", filter=Q(first_responded_at__lte=F("first_response_due_at"))),
        "late": Count("id", filter=Q(first_responded_at__gt=F("first_response_due_at"))),
        "breached": Count("id", filter=Q(sla_breached_at__isnull=False)),
    }


def _figures(row: dict[str, Any]) -> SlaCompliance:
    return SlaCompliance(
        due=row["due"],
        responded_in_time=row["in_time"],
        responded_late=row["late"],
        breached=row["breached"],
    )


def lead_sla_compliance(*, user: User, period: tuple[datetime, datetime]) -> SlaCompliance:
    """SLA compliance of the leads in `user`'s scope whose first response fell due in
    [start, end): one aggregate query."""
    return _figures(_sla_due_in(user, period).aggregate(**_sla_counts()))


@dataclass(frozen=True)
class SlaByOwner:
    """One owner's row of the SLA report; `owner` is None for leads without one."""

    owner: User | None
    figures: SlaCompliance


@dataclass(frozen=True)
class SlaByGrade:
    grade: str
    figures: SlaCompliance


@dataclass(frozen=True)
class SlaReport:
    """The SLA figures of a period (线索响应及时率报表): the total, per owner (rep) and per
    grade. The total is the sum of the grade rows, so it always agrees with them."""

    total: SlaCompliance
    by_owner: list[SlaByOwner]
    by_grade: list[SlaByGrade]


def _add(a: SlaCompliance, b: SlaCompliance) -> SlaCompliance:
    return SlaCompliance(
        due=a.due + b.due,
        responded_in_time=a.responded_in_time + b.responded_in_time,
        responded_late=a.responded_late + b.responded_late,
        breached=a.breached + b.breached,
    )


def _sum(figures: list[SlaCompliance]) -> SlaCompliance:
    return SlaCompliance(
        due=sum(f.due for f in figures),
        responded_in_time=sum(f.responded_in_time for f in figures),
        responded_late=sum(f.responded_late for f in figures),
        breached=sum(f.breached for f in figures),
    )


@dataclass(frozen=True)
class SlaCells:
    """The SLA figures of some leads per (owner, grade), from which the report's rows per
    grade, per owner (and per team) and its total are added up; `owners` holds the owners
    in the report's order (by username, the leads without an owner last as None)."""

    cells: dict[tuple[int | None, str], SlaCompliance]
    owners: list[User | None]

    def by_grade(self) -> list[SlaByGrade]:
        grades: dict[str, list[SlaCompliance]] = {}
        for (_owner, grade), figures in self.cells.items():
            grades.setdefault(grade, []).append(figures)
        return [SlaByGrade(grade=g, figures=_sum(grades[g])) for g in sorted(grades)]

    def by_owner(self) -> list[SlaByOwner]:
        owners: dict[int | None, list[SlaCompliance]] = {}
        for (owner, _grade), figures in self.cells.items():
            owners.setdefault(owner, []).append(figures)
        return [
            SlaByOwner(owner=person, figures=_sum(owners[person.pk if person else None]))
            for person in self.owners
        ]


def sla_cells(leads: QuerySet[Lead], *, with_unit: bool = False) -> SlaCells:
    """The SLA counts of `leads` per (owner, grade) in one query: grouped first (hashed: no
    sort of the leads, no join per lead), the owners' names (and with `with_unit` their
    unit's id, name and path, as `owner.org_unit`) joined to the groups after. Grouped by
    owner with the owner's columns, Postgres joined and sorted every lead of the period
    (0.15–0.2 s for a month of 1M leads; issue 10)."""
    grouped, params = (
        leads.order_by().values("owner_id", "grade").annotate(**_sla_counts()).query
    ).sql_with_params()
    users, units = User._meta.db_table, OrgUnit._meta.db_table
    columns = "u.username, u.first_name, u.last_name"
    joins = f"LEFT JOIN {users} u ON u.id = c.owner_id"
    if with_unit:
        columns += ", u.org_unit_id, ou.name, ou.path"
        joins += f" LEFT JOIN {units} ou ON ou.id = u.org_unit_id"
    sql = (
        f"SELECT c.owner_id, c.grade, c.due, c.in_time, c.late, c.breached, {columns}"  # noqa: S608 (table names)
        f" FROM ({grouped}) c {joins} ORDER BY u.username, c.owner_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    cells: dict[tuple[int | None, str], SlaCompliance] = {}
    owners: dict[int | None, User | None] = {}
    for owner_id, grade, due, in_time, late, breached, *person in rows:
        cells[(owner_id, grade)] = SlaCompliance(
            due=due, responded_in_time=in_time, responded_late=late, breached=breached
        )
        if owner_id in owners:
            continue
        if owner_id is None:
            owners[None] = None
            continue
        username, first_name, last_name, *unit = person
        owners[owner_id] = user = User(
            pk=owner_id, username=username, first_name=first_name, last_name=last_name
        )
        if unit and unit[0] is not None:
            user.org_unit = OrgUnit(pk=unit[0], name=unit[1], path=unit[2])
    return SlaCells(cells=cells, owners=list(owners.values()))


def lead_sla_by_owner(*, user: User, period: tuple[datetime, datetime]) -> list[SlaByOwner]:
    """The SLA figures per owner of the leads in `user`'s scope due in the period, by
    username: one query (`sla_cells`)."""
    return sla_cells(_sla_due_in(user, period)).by_owner()


def lead_sla_by_grade(*, user: User, period: tuple[datetime, datetime]) -> list[SlaByGrade]:
    """The SLA figures per grade (A first) of the leads in `user`'s scope due in the period:
    one grouped query."""
    rows = _sla_due_in(user, period).values("grade").annotate(**_sla_counts()).order_by("grade")
    return [SlaByGrade(grade=row["grade"], figures=_figures(row)) for row in rows]


def lead_sla_report(*, user: User, period: tuple[datetime, datetime]) -> SlaReport:
    """Total, per owner and per grade from one query (`sla_cells`; see `SlaReport`)."""
    cells = sla_cells(_sla_due_in(user, period))
    by_grade = cells.by_grade()
    return SlaReport(
        total=_sum([r.figures for r in by_grade]), by_owner=cells.by_owner(), by_grade=by_grade
    )


def lead_sla_breached(*, user: User, period: tuple[datetime, datetime]) -> QuerySet[Lead]:
    """The leads in `user`'s scope due in the period that missed their first response, the
    latest breach first (the `breached` figure counts the same rows)."""
    return (
        _sla_due_in(user, period)
        .filter(sla_breached_at__isnull=False)
        .select_related("owner")
        .order_by("-sla_breached_at", "-id")
    )


# --- reassignment --------------------------------------------------------------------------

# The history context `action` of a reassignment (services.lead_reassign*).
REASSIGN_ACTION = "lead_reassign"


def reassign_candidates(*, user: User, search: str = "") -> QuerySet[User]:
    """The people `user` may give leads to: active people in their data scope (not an
    integration account). Searched by username or name (a Chinese name is written surname
    first)."""
    qs = (
        visible_users(user)
        .filter(is_active=True)
        .exclude(role=Role.INTEGRATION)
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


@dataclass(frozen=True)
class Reassignment:
    """One reassignment of a lead as its history recorded it."""

    at: datetime
    from_owner: User | None
    to_owner: User | None
    by: User | None
    reason: str


def lead_reassignments(*, lead: Lead, limit: int = 50) -> list[Reassignment]:
    """The newest reassignments of `lead`, newest first, read from its change history
    (pghistory events whose context is a reassignment): the previous owner is the owner of
    the event before (a subquery), the people are named in one more query."""
    event_model = apps.get_model("leads", "LeadEvent")
    previous = (
        event_model.objects.filter(pgh_obj_id=OuterRef("pgh_obj_id"), pgh_id__lt=OuterRef("pgh_id"))
        .order_by("-pgh_id")
        .values("owner_id")[:1]
    )
    rows = list(
        event_model.objects.filter(
            pgh_obj_id=lead.pk, pgh_context__metadata__action=REASSIGN_ACTION
        )
        .annotate(previous_owner_id=Subquery(previous))
        .order_by("-pgh_id")
        .values("pgh_created_at", "owner_id", "previous_owner_id", "pgh_context__metadata")[:limit]
    )
    if not rows:
        return []

    def actor(row: dict[str, Any]) -> int | None:
        user_id = (row["pgh_context__metadata"] or {}).get("user")
        return user_id if isinstance(user_id, int) else None

    ids = {i for r in rows for i in (r["owner_id"], r["previous_owner_id"], actor(r)) if i}
    people = {u.pk: u for u in User.objects.filter(pk__in=ids)}
    return [
        Reassignment(
            at=row["pgh_created_at"],
            from_owner=people.get(row["previous_owner_id"]),
            to_owner=people.get(row["owner_id"]),
            by=people.get(actor(row)),
            reason=str((row["pgh_context__metadata"] or {}).get("reason", "")),
        )
        for row in rows
    ]
