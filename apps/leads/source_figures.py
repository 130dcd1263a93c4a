"""Lead source effectiveness (线索来源分析): per lead source — or, for one source, per channel
(the exhibition, the campaign) — what the leads captured in a period became. The one source of
truth for the lead sources page and its Excel file.

Over the leads of the caller's scope (`selectors.lead_scope_q`, the lead list's: a rep their
own leads, a head those of the units they head and the leads waiting in them, admins all),
optionally narrowed to a **team** (leads owned by someone in the unit or below it, or waiting
unassigned in such a unit) or one **owner**, captured (created) in the period [start, end]
(local days):

- **captured**: the leads created in the period;
- **duplicates**: the touches (`LeadTouch`: a repeated capture of a known lead or customer,
  which creates no lead) recorded in the period with that source / channel, on a lead or a
  customer of the same scope and narrowing;
- **contacted**: of the captured leads, those with a first response (`first_responded_at`);
- **qualified**: those now qualified or converted (a converted lead was qualified first; one
  qualified then put into nurturing or disqualified is not counted: the lead keeps no history
  of its past statuses in a column);
- **converted**: those now converted (线索转化: a customer was created or linked);
- **conversion rate** = converted ÷ captured;
- **median first response** (hours): the median of first response − capture over the
  contacted leads;
- **SLA breaches** = the captured leads flagged as having missed their first response ÷ those
  that had a response due (`first_response_due_at`);
- **won amount**: Σ amount of the opportunities opened from those leads (`Opportunity.lead`:
  the conversion opens one) that are now won, and how many. A deal won later counts for the
  period its lead was captured in.

Three grouped queries whatever the number of leads: the leads (by source or channel, and their
total in the same pass: GROUPING SETS, since a median does not add up), the touches, the won
opportunities (from the won deals that have a lead, to their lead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OrgUnit, User
from apps.customers.models import Customer
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity

from .choices import LeadSource, LeadStatus
from .models import Lead, LeadTouch
from .periods import period_bounds
from .selectors import lead_scope_q

ZERO = Decimal("0.00")
MAX_CHANNELS = 100  # channel rows of one source (free text: a company has dozens)
_MONEY = DecimalField(max_digits=18, decimal_places=2)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class SourceRow:
    """What the leads of one source (or one channel of a source) became."""

    source: str
    channel: str | None = None  # None: a source row
    captured: int = 0
    duplicates: int = 0
    contacted: int = 0
    qualified: int = 0
    converted: int = 0
    sla_due: int = 0
    breached: int = 0
    response_seconds: float | None = None  # the median first response
    won_deals: int = 0
    won_amount: Decimal = ZERO

    @property
    def label(self) -> str:
        if self.channel is not None:
            return self.channel or str(_("(no channel)"))
        if not self.source:
            return str(_("Total"))
        return (
            str(LeadSource(self.source).label) if self.source in LeadSource.values else self.source
        )

    @property
    def conversion_rate(self) -> float | None:
        return _rate(self.converted, self.captured)

    @property
    def contact_rate(self) -> float | None:
        return _rate(self.contacted, self.captured)

    @property
    def breach_rate(self) -> float | None:
        return _rate(self.breached, self.sla_due)

    @property
    def response_hours(self) -> float | None:
        return None if self.response_seconds is None else round(self.response_seconds / 3600, 1)

    def add(self, other: SourceRow) -> None:
        for name in ("captured", "duplicates", "contacted", "qualified", "converted", "sla_due",
                     "breached", "won_deals", "won_amount"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SourceFigures:
    start: date
    end: date  # inclusive
    source: str | None  # the source whose channels are the rows; None: a row per source
    rows: list[SourceRow] = field(default_factory=list)
    total: SourceRow = field(default_factory=lambda: SourceRow(""))

    @property
    def max_captured(self) -> int:
        return max([r.captured for r in self.rows] + [1])


def narrow_q(*, team: OrgUnit | None = None, owner: User | None = None, prefix: str = "") -> Q:
    """Leads (through `prefix`, e.g. "lead__") owned by `owner`, or by someone in `team`'s
    subtree or waiting unassigned in it. `team` and `owner` are checked against the caller's
    scope by the caller (`apps.opportunities.figures.figure_teams` / `figure_people`)."""
    q = Q()
    if owner is not None:
        q &= Q(**{f"{prefix}owner_id": owner.pk})
    if team is not None:
        q &= Q(**{f"{prefix}owner__org_unit__path__startswith": team.path}) | Q(
            **{f"{prefix}owner__isnull": True, f"{prefix}team__path__startswith": team.path}
        )
    return q


def scoped_leads(
    user: User, *, team: OrgUnit | None = None, owner: User | None = None
) -> QuerySet[Lead]:
    """The leads of `user`'s scope (the lead list's), narrowed."""
    q = lead_scope_q(user)
    qs = Lead.objects.all() if q is None else Lead.objects.filter(q)
    return qs.filter(narrow_q(team=team, owner=owner)).order_by()


# The figures of a `SourceRow` per `key` and for all (GROUPING SETS): one pass over the leads
# of the period, where the total's median took a second one (0.1 s each over a month of 1M).
_SUMS_SQL = """SELECT l.{key}, GROUPING(l.{key}), count(*),
 count(*) FILTER (WHERE l.first_responded_at IS NOT NULL),
 count(*) FILTER (WHERE l.status IN (%s, %s)),
 count(*) FILTER (WHERE l.status = %s),
 count(*) FILTER (WHERE l.first_response_due_at IS NOT NULL),
 count(*) FILTER (WHERE l.sla_breached_at IS NOT NULL),
 percentile_cont(0.5) WITHIN GROUP (ORDER BY
   EXTRACT(EPOCH FROM l.first_responded_at - l.created_at)::double precision)
   FILTER (WHERE l.first_responded_at IS NOT NULL)
FROM ({leads}) l GROUP BY GROUPING SETS ((l.{key}), ())"""
_SUM_NAMES = ("captured", "contacted", "qualified", "converted", "sla_due", "breached",
              "response_seconds")  # fmt: skip


def _lead_rows(leads: QuerySet[Lead], key: str) -> tuple[list[dict], float | None]:
    """The lead figures of a `SourceRow` (captured … response_seconds) of `leads` per `key`
    ("source" or "channel"), and the median first response of them all."""
    inner, params = leads.values(
        key, "status", "created_at", "first_responded_at", "first_response_due_at",
        "sla_breached_at",
    ).query.sql_with_params()  # fmt: skip
    sql = _SUMS_SQL.format(key=connection.ops.quote_name(key), leads=inner)
    statuses = [LeadStatus.QUALIFIED.value, LeadStatus.CONVERTED.value, LeadStatus.CONVERTED.value]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*statuses, *params])
        fetched = cursor.fetchall()
    rows, median = [], None
    for value, grouping, *sums in fetched:
        if grouping:
            median = sums[-1]
        else:
            rows.append({key: value, **dict(zip(_SUM_NAMES, sums, strict=True))})
    return rows, median


def _touches(
    user: User, start_at, after_end, *, team: OrgUnit | None, owner: User | None
) -> QuerySet[LeadTouch]:
    """The touches of the period on a lead or a customer of the scope, narrowed alike."""
    touches = LeadTouch.objects.filter(created_at__gte=start_at, created_at__lt=after_end)
    if lead_scope_q(user) is None and team is None and owner is None:
        return touches  # company-wide: every touch, without a semi-join per table
    on_lead = Q(lead_id__in=scoped_leads(user, team=team, owner=owner).values("pk"))
    customers = Customer.objects.visible_to(user)
    if owner is not None:
        customers = customers.filter(owner_id=owner.pk)
    if team is not None:
        customers = customers.filter(owner__org_unit__path__startswith=team.path)
    on_customer = Q(customer_id__in=customers.values("pk"))
    return touches.filter(on_lead | on_customer)


def _won(
    user: User,
    start_at,
    after_end,
    source: str | None,
    *,
    team: OrgUnit | None,
    owner: User | None,
    key: str,
) -> QuerySet:
    """(source or channel, won deals, Σ amount) of the won opportunities opened from the
    leads captured in the period, in the scope, narrowed. A join from the won deals that
    have a lead (few) to their lead: as ``lead IN (the leads of the period)`` Postgres merged
    the whole lead table by id (0.4 s over 1M leads)."""
    opportunities = Opportunity.objects.filter(
        stage=Stage.WON, lead__isnull=False, lead__created_at__gte=start_at,
        lead__created_at__lt=after_end,
    )  # fmt: skip
    scope = lead_scope_q(user, prefix="lead__")
    if scope is not None:
        opportunities = opportunities.filter(scope)
    opportunities = opportunities.filter(narrow_q(team=team, owner=owner, prefix="lead__"))
    if source:
        opportunities = opportunities.filter(lead__source=source)
    return (
        opportunities.order_by()
        .values(f"lead__{key}")
        .annotate(n=Count("id"), amount=Coalesce(Sum("amount"), Value(ZERO), output_field=_MONEY))
        .values_list(f"lead__{key}", "n", "amount")
    )


def source_figures(
    *,
    user: User,
    start: date,
    end: date,
    source: str | None = None,
    team: OrgUnit | None = None,
    owner: User | None = None,
) -> SourceFigures:
    """The figures of the leads captured in [start, end] (inclusive days) in `user`'s scope:
    a row per source, the most captured first — or, given `source`, a row per channel of that
    source (at most MAX_CHANNELS) — and the total (see the module docstring)."""
    start_at, after_end = period_bounds(start, end)
    leads = scoped_leads(user, team=team, owner=owner).filter(
        created_at__gte=start_at, created_at__lt=after_end
    )
    touches = _touches(user, start_at, after_end, team=team, owner=owner)
    if source:
        leads, touches = leads.filter(source=source), touches.filter(source=source)
    key = "channel" if source else "source"
    rows: dict[str, SourceRow] = {}

    def row(value: str) -> SourceRow:
        if value not in rows:
            rows[value] = (
                SourceRow(source, channel=value) if source else SourceRow(value, channel=None)
            )
        return rows[value]

    lead_rows, median = _lead_rows(leads, key)
    for values in lead_rows:
        row(values.pop(key)).__dict__.update(values)
    for value, n in touches.values(key).annotate(n=Count("id")).values_list(key, "n"):
        row(value).duplicates = n
    won = _won(user, start_at, after_end, source, team=team, owner=owner, key=key)
    for value, n, amount in won:
        r = row(value)
        r.won_deals, r.won_amount = n, amount
    ordered = sorted(rows.values(), key=lambda r: (-r.captured, -r.duplicates, r.label))
    if source:
        ordered = ordered[:MAX_CHANNELS]
    total = SourceRow("")
    for r in rows.values():
        total.add(r)
    total.response_seconds = median
    return SourceFigures(start=start, end=end, source=source or None, rows=ordered, total=total)
