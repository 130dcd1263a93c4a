"""Competitor analysis (竞争分析, seed 001 市场调研与竞争分析): the registry of competitors
(竞争对手: a name and its aliases) and the figures read from the deals lost to them and from the
competitor information of the visit records.

The one source of truth of these figures for the page, its Excel file and the API
(`reports/competitors/`). Definitions:

- **Terms** of a competitor: its name and aliases, trimmed and lower-cased (`str.lower` here,
  `lower()` in Postgres: the same for Latin and Chinese names). Only active competitors are
  looked for; a term belongs to one competitor at most (the registry refuses a clash).
- **Lost deals** (输单): the opportunities whose "lost" stage-history row was entered in the
  period (the same rule as the pipeline's win rate), credited to the competitor one of whose
  terms *equals* the deal's `lost_competitor`, trimmed and lower-cased; a name no competitor
  has is grouped **as written** (trimmed, lower-cased: "Rival " and "rival" are one group,
  shown as first written). Count and Σ amount per competitor, their share of all the deals
  lost in the period, and per month.
- **Mentions** (拜访记录中提及): the visit records started in the period whose
  `competitor_info` *contains* one of a competitor's terms (case-insensitive), per competitor
  and month; a record naming two competitors counts for both, once each.
- **Scope** as the deals and visit records: their owner in the caller's data scope; only
  those who oversee others open the analysis (`diagnostics.can_view_diagnostics`). **Team**:
  the owner placed in the team they belonged to on the day the deal was lost / the visit
  began (`goals_unitmembership`), as in the process diagnostics.
- **Period**: local days [start, end], by default the last six months (from the first of the
  month five months ago to today).

Each figure is one grouped SQL statement; the drill-downs (`lost_deals`, `mentions`) list the
documents behind a figure, a page at a time, from the same filters.

The registry's writes are services (`competitor_create`, `competitor_update`): admins and
sales managers keep it; the writes are serialised by a transaction lock, so that two people
adding the same alias at once cannot both succeed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower, Trim, TruncDate
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.goals.models import UnitMembership
from apps.leads.periods import period_bounds
from apps.opportunities.choices import Stage
from apps.opportunities.figures import add_months, owner_q
from apps.opportunities.models import Opportunity, StageChange
from apps.visits.models import VisitRecord

from .diagnostics import (
    Sql,
    can_view_diagnostics,
    local_day,
    scope_sql,
    team_filter,
)
from .models import Competitor

ZERO = Decimal("0.00")
MAX_ALIASES = 30
NAME_MAX = 200
# The registry's writes take this transaction-level advisory lock (one registry, few writes).
REGISTRY_LOCK = 8_081_001


# --- rights ----------------------------------------------------------------------------------


def can_manage_competitors(user: Any) -> bool:
    """Admins and sales managers keep the registry (the issue: "admin and managers manage
    it"); heads of teams read it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.role in (Role.ADMIN, Role.MANAGER)


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last six months: from the first of the month five months ago to today."""
    today = today or timezone.localdate()
    return add_months(today.replace(day=1), -5), today


def period_months(start: date, end: date) -> list[date]:
    """The first days of the months the period touches, oldest first."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


# --- the registry ----------------------------------------------------------------------------


def normalize(text: str) -> str:
    """A name as the analysis compares it: trimmed, lower-cased."""
    return (text or "").strip().lower()


def terms_of(name: str, aliases: Iterable[str]) -> list[str]:
    """The distinct non-empty terms of a competitor, its name first."""
    seen: list[str] = []
    for term in (name, *aliases):
        key = normalize(term)
        if key and key not in seen:
            seen.append(key)
    return seen


def competitor_list(*, user: User, search: str = "", active: bool | None = None) -> QuerySet:
    """The registry, for those who may open the competitor analysis (else nothing)."""
    if not can_view_diagnostics(user):
        return Competitor.objects.none()
    qs = Competitor.objects.order_by("name", "id")
    if active is not None:
        qs = qs.filter(is_active=active)
    search = (search or "").strip()
    if search:
        # Aliases are few per competitor: a text match on the array is enough for a registry.
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(pk__in=Competitor.objects.filter(aliases__icontains=search).values("pk"))
        )
    return qs


def competitor_get(*, user: User, pk: int) -> Competitor:
    found = competitor_list(user=user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _clean(name: str, aliases: Iterable[str], notes: str) -> tuple[str, list[str], str]:
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors.setdefault("name", []).append(_("Enter the competitor's name."))
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(
            _("The name can have at most %(n)d characters.") % {"n": NAME_MAX}
        )
    cleaned: list[str] = []
    for alias in aliases or []:
        alias = (alias or "").strip()
        if not alias or normalize(alias) in (normalize(name), *map(normalize, cleaned)):
            continue
        if len(alias) > NAME_MAX:
            errors.setdefault("aliases", []).append(
                _("An alias can have at most %(n)d characters.") % {"n": NAME_MAX}
            )
            continue
        cleaned.append(alias)
    if len(cleaned) > MAX_ALIASES:
        errors.setdefault("aliases", []).append(
            _("A competitor can have at most %(n)d aliases.") % {"n": MAX_ALIASES}
        )
    if errors:
        raise ValidationError(errors)
    return name, cleaned, (notes or "").strip()


def _check_clash(name: str, aliases: list[str], *, exclude: int | None) -> None:
    """A term may belong to one competitor only, or a lost deal would count twice."""
    others = Competitor.objects.exclude(pk=exclude) if exclude else Competitor.objects.all()
    taken: dict[str, str] = {}
    for other_name, other_aliases in others.values_list("name", "aliases"):
        for term in terms_of(other_name, other_aliases):
            taken.setdefault(term, other_name)
    errors: dict[str, list[str]] = {}
    if normalize(name) in taken:
        errors["name"] = [
            _("“%(term)s” is already a name or alias of %(other)s.")
            % {"term": name, "other": taken[normalize(name)]}
        ]
    clashes = [a for a in aliases if normalize(a) in taken]
    if clashes:
        errors["aliases"] = [
            _("“%(term)s” is already a name or alias of %(other)s.")
            % {"term": a, "other": taken[normalize(a)]}
            for a in clashes
        ]
    if errors:
        raise ValidationError(errors)


def _lock_registry() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTRY_LOCK])


@transaction.atomic
def competitor_create(
    *,
    by: User,
    name: str,
    aliases: Iterable[str] = (),
    notes: str = "",
    is_active: bool = True,
) -> Competitor:
    """Add a competitor (竞争对手) to the registry, with its aliases. Refused when its name or
    an alias is already another competitor's (case-insensitive)."""
    if not can_manage_competitors(by):
        raise PermissionDenied(_("Only administrators and sales managers keep the competitors."))
    name, aliases, notes = _clean(name, aliases, notes)
    _lock_registry()  # the clash check and the insert, one writer at a time
    _check_clash(name, aliases, exclude=None)
    return Competitor.objects.create(
        name=name, aliases=aliases, notes=notes, is_active=bool(is_active)
    )


@transaction.atomic
def competitor_update(
    *,
    competitor: Competitor,
    by: User,
    name: str,
    aliases: Iterable[str] = (),
    notes: str = "",
    is_active: bool = True,
) -> Competitor:
    """Change a competitor's name, aliases, notes or whether the analysis looks for it."""
    if not can_manage_competitors(by):
        raise PermissionDenied(_("Only administrators and sales managers keep the competitors."))
    name, aliases, notes = _clean(name, aliases, notes)
    _lock_registry()
    competitor = Competitor.objects.select_for_update().get(pk=competitor.pk)
    _check_clash(name, aliases, exclude=competitor.pk)
    competitor.name, competitor.aliases = name, aliases
    competitor.notes, competitor.is_active = notes, bool(is_active)
    competitor.save()
    return competitor


def active_terms() -> tuple[list[Competitor], dict[str, int]]:
    """The active competitors and the competitor of each term (one query)."""
    competitors = list(Competitor.objects.filter(is_active=True).order_by("name", "id"))
    terms: dict[str, int] = {}
    for competitor in competitors:
        for term in terms_of(competitor.name, competitor.aliases):
            terms.setdefault(term, competitor.pk)
    return competitors, terms


# --- the analysis ----------------------------------------------------------------------------


@dataclass
class MonthCell:
    lost: int = 0
    amount: Decimal = ZERO
    mentions: int = 0


@dataclass
class CompetitorRow:
    """A competitor of the registry, or a name written on lost deals that no competitor has
    (`kind` "unmatched", `key` the name trimmed and lower-cased)."""

    kind: str  # "competitor" | "unmatched"
    key: str
    name: str
    id: int | None = None
    aliases: list[str] = field(default_factory=list)
    lost: int = 0
    amount: Decimal = ZERO
    mentions: int = 0
    months: dict[date, MonthCell] = field(default_factory=dict)
    lost_share: float | None = None  # % of all the deals lost in the period
    amount_share: float | None = None

    def month(self, month: date) -> MonthCell:
        return self.months.get(month) or MonthCell()


@dataclass
class CompetitorAnalysis:
    start: date
    end: date
    team: OrgUnit | None
    months: list[date]
    rows: list[CompetitorRow]
    lost: int  # every deal lost in the period (scope, team)
    amount: Decimal
    mentioning_records: int  # visit records naming at least one competitor

    @property
    def competitors(self) -> list[CompetitorRow]:
        return [r for r in self.rows if r.kind == "competitor"]

    @property
    def unmatched(self) -> list[CompetitorRow]:
        return [r for r in self.rows if r.kind == "unmatched"]

    def row(self, key: str) -> CompetitorRow | None:
        return next((r for r in self.rows if r.key == key), None)

    def month_totals(self) -> list[MonthCell]:
        totals = []
        for month in self.months:
            cell = MonthCell()
            for row in self.rows:
                found = row.months.get(month)
                if found:
                    cell.lost += found.lost
                    cell.amount += found.amount
            totals.append(cell)
        return totals


def _lost_rows(user: User, team: OrgUnit | None, bounds: tuple[datetime, datetime]) -> list[tuple]:
    """(key, name as first written, month, deals, Σ amount) of the deals lost in the period."""
    tz = settings.TIME_ZONE
    q = Sql()
    q.add(
        "SELECT lower(btrim(o.lost_competitor)) AS key, min(btrim(o.lost_competitor)),"
        " date_trunc('month', s.entered_at AT TIME ZONE %s)::date AS month,"
        " count(*), coalesce(sum(o.amount), 0)",
        tz,
    )
    q.add(
        f"FROM {StageChange._meta.db_table} s"
        f" JOIN {Opportunity._meta.db_table} o ON o.id = s.opportunity_id"
    )
    q.add(
        "WHERE s.stage = %s AND s.entered_at >= %s AND s.entered_at < %s",
        str(Stage.LOST),
        bounds[0],
        bounds[1],
    )
    q.extend(scope_sql(user, "o.owner_id"))
    team_filter(q, team, "o.owner_id", local_day("s.entered_at"), [tz])
    q.add("GROUP BY key, month")
    return q.fetch()


def _mention_rows(
    user: User, team: OrgUnit | None, bounds: tuple[datetime, datetime], terms: dict[str, int]
) -> list[tuple]:
    """(competitor, month, records) with GROUPING SETS: per competitor and month, per
    competitor (month NULL), and every record naming any (both NULL)."""
    if not terms:
        return []
    tz = settings.TIME_ZONE
    # The records of the period that say something of competitors, lower-cased once each
    # (OFFSET 0 keeps Postgres from lower-casing a record once per term instead).
    records = Sql()
    records.add(
        "SELECT v.id, date_trunc('month', v.started_at AT TIME ZONE %s)::date AS month,"
        " lower(v.competitor_info) AS info",
        tz,
    )
    records.add(f"FROM {VisitRecord._meta.db_table} v")
    records.add(
        "WHERE v.started_at >= %s AND v.started_at < %s AND v.competitor_info <> ''",
        bounds[0],
        bounds[1],
    )
    records.extend(scope_sql(user, "v.owner_id"))
    team_filter(records, team, "v.owner_id", local_day("v.started_at"), [tz])
    records.add("OFFSET 0")
    inner = Sql()
    inner.add(
        f"SELECT r.id, t.competitor_id, r.month FROM ({records.text}) r"  # noqa: S608
        " JOIN unnest(%s::int[], %s::text[]) AS t(competitor_id, term)"
        " ON strpos(r.info, t.term) > 0",
        *records.params,
        list(terms.values()),
        list(terms.keys()),
    )
    q = Sql()
    q.add(
        "SELECT x.competitor_id, x.month, count(DISTINCT x.id), GROUPING(x.competitor_id, x.month)"
    )
    q.add(f"FROM ({inner.text}) x", *inner.params)
    q.add("GROUP BY GROUPING SETS ((x.competitor_id, x.month), (x.competitor_id), ())")
    return q.fetch()


ROW_ORDER_SIZE = 7


def row_order(row: CompetitorRow) -> tuple[int | str, ...]:
    """Where a row stands in the analysis: the competitors of the registry and the names
    with lost deals first, then the most deals lost, the largest amount (in cents), the most
    mentions, by name; its kind and key make it unique. Plain ints and strings: the API's
    cursor is this key (`report_pagination`)."""
    cents = int((row.amount * 100).to_integral_value())
    return (int(row.kind != "competitor" and row.lost == 0), -row.lost, -cents, -row.mentions,
            row.name, row.kind, row.key)  # fmt: skip


def _share(part: int | Decimal, whole: int | Decimal) -> float | None:
    return round(float(part) * 100 / float(whole), 1) if whole else None


def competitor_analysis(
    *, user: User, start: date, end: date, team: OrgUnit | None = None
) -> CompetitorAnalysis:
    """Lost deals and mentions per competitor (see the module docstring): three queries (the
    registry, the lost deals grouped by name and month, the mentions grouped by competitor and
    month). `team` is expected to be one the caller may see (checked by the caller)."""
    bounds = period_bounds(start, end)
    months = period_months(start, end)
    competitors, terms = active_terms()
    rows: dict[str, CompetitorRow] = {
        str(c.pk): CompetitorRow("competitor", str(c.pk), c.name, id=c.pk, aliases=c.aliases)
        for c in competitors
    }
    total_lost, total_amount = 0, ZERO
    for key, written, month, count, amount in _lost_rows(user, team, bounds):
        key = key or ""
        competitor = terms.get(key)
        if competitor is not None:
            row = rows[str(competitor)]
        else:
            row = rows.setdefault(
                f"~{key}", CompetitorRow("unmatched", key, written or _("(not named)"))
            )
        if isinstance(month, datetime):
            month = month.date()
        amount = Decimal(amount)
        row.lost += count
        row.amount += amount
        cell = row.months.setdefault(month, MonthCell())
        cell.lost += count
        cell.amount += amount
        total_lost += count
        total_amount += amount
    mentioning = 0
    for competitor, month, count, grouping in _mention_rows(user, team, bounds, terms):
        if grouping == 3:  # ()
            mentioning = count
            continue
        row = rows[str(competitor)]
        if grouping == 1:  # (competitor)
            row.mentions = count
            continue
        if isinstance(month, datetime):
            month = month.date()
        row.months.setdefault(month, MonthCell()).mentions = count
    for row in rows.values():
        row.lost_share = _share(row.lost, total_lost)
        row.amount_share = _share(row.amount, total_amount)
    ordered = sorted(rows.values(), key=row_order)
    return CompetitorAnalysis(
        start=start, end=end, team=team, months=months, rows=ordered, lost=total_lost,
        amount=total_amount, mentioning_records=mentioning,
    )  # fmt: skip


# --- drill-downs -----------------------------------------------------------------------------


def _member_then(qs: QuerySet, team: OrgUnit, owner_ref: str, at_ref: str) -> QuerySet:
    """`qs` narrowed to the rows whose owner belonged to `team` (or a unit below) on the local
    day of `at_ref`."""
    qs = qs.alias(team_day=TruncDate(at_ref, tzinfo=timezone.get_current_timezone()))
    day = OuterRef("team_day")
    return qs.filter(
        Exists(
            UnitMembership.objects.filter(
                user_id=OuterRef(owner_ref), org_unit__path__startswith=team.path,
                valid_from__lte=day,
            ).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
        )
    )  # fmt: skip


def lost_deals(
    *,
    user: User,
    start: date,
    end: date,
    team: OrgUnit | None = None,
    competitor: Competitor | None = None,
    name: str = "",
) -> QuerySet[StageChange]:
    """The "lost" stage-history rows behind a figure — one per deal lost in the period — of
    `competitor` (a term of it equals the deal's competitor) or of the unmatched `name`
    (trimmed, lower-cased), newest first, with the deal, its customer and owner."""
    if not can_view_diagnostics(user):
        return StageChange.objects.none()
    lo, hi = period_bounds(start, end)
    qs = (
        StageChange.objects.filter(stage=Stage.LOST, entered_at__gte=lo, entered_at__lt=hi)
        .filter(owner_q(user, prefix="opportunity__"))
        .alias(written=Lower(Trim("opportunity__lost_competitor")))
    )
    if competitor is not None:
        qs = qs.filter(written__in=terms_of(competitor.name, competitor.aliases))
    else:
        qs = qs.filter(written=normalize(name))
    if team is not None:
        qs = _member_then(qs, team, "opportunity__owner_id", "entered_at")
    return qs.select_related("opportunity__customer", "opportunity__owner").order_by(
        "-entered_at", "-id"
    )


def mentions(
    *,
    user: User,
    start: date,
    end: date,
    competitor: Competitor,
    team: OrgUnit | None = None,
) -> QuerySet[VisitRecord]:
    """The visit records behind a competitor's mentions: started in the period, their
    competitor information containing one of its terms; newest first."""
    if not can_view_diagnostics(user):
        return VisitRecord.objects.none()
    lo, hi = period_bounds(start, end)
    terms = terms_of(competitor.name, competitor.aliases)
    qs = (
        VisitRecord.objects.filter(started_at__gte=lo, started_at__lt=hi)
        .exclude(competitor_info="")
        .filter(owner_q(user))
        .alias(info=Lower("competitor_info"))
        .filter(reduce(or_, [Q(info__contains=term) for term in terms]))
    )
    if team is not None:
        qs = _member_then(qs, team, "owner_id", "started_at")
    return qs.select_related("customer", "lead", "owner").order_by("-started_at", "-id")
