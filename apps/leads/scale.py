"""Scale data of leads (`manage.py seed_scale`): territories and leads in every status.

Consistent with the status FSM and the services, as far as generated data can be:

- score and grade come from `scoring.score_of` under the active scoring rules (the ones the
  migration installs), so the grade follows settings.LEAD_GRADE_THRESHOLDS;
- a new lead has no owner (no territory covers its region; some wait in a team);
- assigned and later leads have an owner and the owner's team (the territory's team of the
  region); the first response is due the grade's SLA hours after assignment
  (settings.LEAD_SLA_HOURS); a lead still unanswered past it, or answered late, was flagged
  (`sla_breached_at`) by the job;
- contacted, qualified, nurturing and converted leads were answered; qualified and converted
  ones have a phone or an e-mail (the `qualify` guard);
- disqualified leads have a reason; converted leads point at the customer made from them (the
  identity of the customer is the lead's) with its conversion time.

Identity keys are computed with `apps.customers.normalization`, as `Lead.save()` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace

import pgtrigger
from django.conf import settings
from django.db import connection
from psycopg import sql

from apps.core.scale import (
    MAIL_DOMAINS,
    SUFFIXES,
    ScaleContext,
    company_of,
    credit_code_of,
    formatted_phone,
    mobile_of,
    person,
)
from apps.customers.normalization import normalize_company_name, normalize_email, normalize_phone

from . import scoring
from .choices import DecisionTimeFrame, Intent, LeadSource, LeadStatus
from .models import Lead

REQUIRES = ("accounts", "customers")

LEAD_COLUMNS = [
    "id", "company_name", "contact_name", "phone", "email", "credit_code", "region", "industry",
    "company_size", "intent", "budget", "decision_time_frame", "notes", "source", "channel",
    "owner_id", "team_id", "score", "grade", "status", "disqualify_reason",
    "first_response_due_at", "first_responded_at", "sla_breached_at", "converted_customer_id",
    "converted_at", "name_key", "phone_key", "email_key", "created_at", "updated_at",
]  # fmt: skip

# Of the leads that are not converted (about 12% are: one per customer made from a lead).
STATUSES = (LeadStatus.NEW, LeadStatus.ASSIGNED, LeadStatus.CONTACTED, LeadStatus.QUALIFIED,
            LeadStatus.NURTURING, LeadStatus.DISQUALIFIED)  # fmt: skip
STATUS_WEIGHTS = (6, 10, 22, 8, 14, 40)
CONVERTED_SHARE = 0.12
SOURCES = tuple(LeadSource.values)
SOURCE_WEIGHTS = (30, 10, 25, 12, 8, 10, 5)
CHANNELS = {
    LeadSource.WEB_FORM: ["官网留资", "百度推广", "微信公众号", "抖音广告"],
    LeadSource.API: ["企查查线索", "合作伙伴API"],
    LeadSource.IMPORT: ["2024展会名单", "渠道名单导入", "老客户名单"],
    LeadSource.EXHIBITION: ["2024广州工业展", "2025上海电子展", "2025深圳高交会"],
    LeadSource.REFERRAL: ["老客户推荐", "员工推荐"],
    LeadSource.COLD_CALL: ["电话陌拜"],
    LeadSource.MANUAL: [""],
}
# Regions no territory covers: their new leads wait for a head to assign them.
UNCOVERED = ["", "香港", "澳门", "拉萨", "海口"]
SIZES = ("micro", "small", "medium", "large", "enterprise", "")
INTENTS = (*Intent.values, "")
FRAMES = (*DecisionTimeFrame.values, "")
BUDGETS = (None, 30000, 80000, 150000, 300000, 600000, 1500000, 3000000)
REASONS = ["无预算", "非目标客户", "联系方式无效", "已选择竞争对手", "重复线索", "需求不匹配"]
SPAN_DAYS = 730


def _territories(ctx: ScaleContext) -> None:
    """One territory per city that has a team (a region already routed is left as it is)."""
    rows = [(city, team, True, ctx.now) for city, team in ctx.facts["city_team"].items()]
    if not rows:
        return
    # One statement (pgtrigger's ignore wrapper does not support executemany).
    values = sql.SQL(", ").join([sql.SQL("(%s, %s, %s, %s)")] * len(rows))
    statement = sql.SQL(
        "INSERT INTO leads_territory (region, team_id, is_active, updated_at) "
        "VALUES {} ON CONFLICT (region) DO NOTHING"
    ).format(values)
    with pgtrigger.ignore("leads.Territory:insert_insert"), connection.cursor() as cursor:
        cursor.execute(
            statement.as_string(cursor.connection),
            [value for row in rows for value in row],
        )
    ctx.counts["leads_territory"] = len(rows)


def load(ctx: ScaleContext) -> None:
    """Copy the territories and the leads; see the module docstring."""
    _territories(ctx)
    count = ctx.sizes["leads"]
    rng = ctx.rng("leads")
    now: datetime = ctx.now
    rules = scoring.active_rules()
    sla_hours = {g: float(h) for g, h in settings.LEAD_SLA_HOURS.items()}
    team_reps: dict[int, list[int]] = ctx.facts["team_reps"]
    rep_team: dict[int, int] = ctx.facts["rep_team"]
    city_team: dict[str, int] = ctx.facts["city_team"]
    teams = list(team_reps)
    reps = ctx.ids["users.rep"]
    converted_from = ctx.facts.get("customers_from_leads", [])[: int(count * CONVERTED_SHARE)]
    # Which leads are the converted ones: spread over the whole range of ids.
    converted_at_index = dict(
        zip(sorted(rng.sample(range(count), len(converted_from))), converted_from, strict=True)
    )
    first_new_name = ctx.sizes.get("customers", 0)
    scores: dict[tuple, tuple[int, str]] = {}
    ids = ctx.reserve_ids(Lead, count)

    def score(**fields) -> tuple[int, str]:
        key = tuple(fields.values())
        if key not in scores:
            scores[key] = scoring.score_of(SimpleNamespace(**fields), rules)
        return scores[key]

    def rows() -> Iterator[tuple]:
        for i, pk in enumerate(ids):
            customer = converted_at_index.get(i)
            if customer is not None:
                (customer_id, name, phone, email, code, city, industry, size, owner,
                 became_customer) = customer  # fmt: skip
                status = LeadStatus.CONVERTED
                created = became_customer - timedelta(days=rng.uniform(3, 90))
                region = city
                if not (phone or email):  # the qualify guard: someone can be reached
                    phone = mobile_of(30_000_000 + i, ctx.seed)
            else:
                customer_id = became_customer = None
                base, industry, city = company_of(first_new_name + i, ctx.seed)
                name = base + rng.choice(SUFFIXES)
                status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
                # Recent leads are more numerous; ids roughly follow the capture time.
                created = now - timedelta(
                    days=SPAN_DAYS * (1 - i / count) ** 1.5 + rng.uniform(0, 3), minutes=1
                )
                phone = (
                    formatted_phone(mobile_of(20_000_000 + i, ctx.seed), rng)
                    if rng.random() < 0.9
                    else ""
                )
                email = (
                    f"{rng.choice(['sales', 'info', 'contact'])}{i}@{rng.choice(MAIL_DOMAINS)}"
                    if rng.random() < 0.35
                    else ""
                )
                if status in (LeadStatus.QUALIFIED,) and not (phone or email):
                    phone = mobile_of(20_000_000 + i, ctx.seed)
                code = credit_code_of(first_new_name + i, city) if rng.random() < 0.35 else ""
                size = rng.choice(SIZES)
                region = city if rng.random() < 0.97 else ""
                owner = None
            if rng.random() < 0.08:
                industry = ""
            if status == LeadStatus.NEW:
                # New means no territory took it: its region is one none covers.
                region = rng.choice(UNCOVERED)
            source = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
            intent, frame, budget = rng.choice(INTENTS), rng.choice(FRAMES), rng.choice(BUDGETS)
            points, grade = score(
                industry=industry, company_size=size, region=region, intent=intent,
                budget=budget, decision_time_frame=frame, source=source,
            )  # fmt: skip
            team = due = responded = breached = None
            reason = ""
            if status == LeadStatus.NEW:
                # Some wait in a team for its head to assign them (no rep free at capture).
                team = rng.choice(teams) if rng.random() < 0.3 else None
            elif status == LeadStatus.DISQUALIFIED and rng.random() < 0.15:
                reason = rng.choice(REASONS)  # disqualified while still new: no owner
            else:
                if owner is None:
                    team = city_team.get(region) or rng.choice(teams)
                    owner = rng.choice(team_reps[team] or reps)
                team = rep_team.get(owner) or team
                assigned = created + timedelta(minutes=rng.uniform(1, 120))
                due = assigned + timedelta(hours=sla_hours.get(grade, sla_hours["D"]))
                if status == LeadStatus.ASSIGNED:
                    if due < now:
                        breached = min(now, due + timedelta(minutes=rng.uniform(0, 15)))
                elif status == LeadStatus.DISQUALIFIED or (
                    status == LeadStatus.NURTURING and rng.random() < 0.2
                ):
                    reason = rng.choice(REASONS) if status == LeadStatus.DISQUALIFIED else ""
                    if rng.random() < 0.6:
                        responded = assigned + (due - assigned) * rng.uniform(0.1, 2.5)
                else:
                    responded = assigned + (due - assigned) * rng.uniform(0.05, 2.5)
                if responded is not None:
                    # Answered before now, and before the conversion it led to.
                    responded = min(responded, now, became_customer or now)
                    if responded > due:  # answered late: the job had flagged it
                        breached = due + (responded - due) * rng.uniform(0, 0.5)
            converted_at = became_customer
            last = max(t for t in (created, responded, breached, converted_at) if t)
            updated = min(now, last + timedelta(days=rng.uniform(0, 20)))
            if status in (LeadStatus.NEW, LeadStatus.CONVERTED):
                updated = last
            contact = person(rng)
            yield (
                pk, name, contact, phone, email, code, region, industry, size, intent, budget,
                frame, "", source, rng.choice(CHANNELS[source]), owner, team, points, grade,
                status, reason, due, responded, breached, customer_id, converted_at,
                normalize_company_name(name), normalize_phone(phone), normalize_email(email),
                created, updated,
            )  # fmt: skip

    ctx.copy(Lead, LEAD_COLUMNS, rows(), expected=count)
    ctx.ids["leads"] = ids
