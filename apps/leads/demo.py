"""Demo leads for `manage.py seed_demo`: territories mapping the four cities to the four
teams, then leads captured through the real capture path (scored, deduped, assigned to the
least-loaded rep), some already contacted or qualified. Idempotent: territories are upserted and
a lead whose company exists is not captured again."""

from __future__ import annotations

import random

from django.db import transaction

from apps.accounts.models import OrgUnit
from apps.core.demo_names import REGION_OF_CITY, company, mobile, person
from apps.customers.normalization import normalize_company_name

from .choices import LeadSource
from .models import Lead, Territory
from .services import lead_capture, lead_contact, lead_qualify

TEAMS = {"深圳": "team1", "广州": "team2", "上海": "team3", "杭州": "team4"}
LEADS = 48


@transaction.atomic
def load(stdout=None) -> int:
    rng = random.Random(20261124)
    teams = {u.code: u for u in OrgUnit.objects.filter(code__in=TEAMS.values())}
    for region, code in TEAMS.items():
        if code in teams:
            Territory.objects.update_or_create(region=region, defaults={"team": teams[code]})
    sources = [s for s in LeadSource.values if s != LeadSource.MANUAL]
    created = 0
    for i in range(LEADS):
        # Draw every random value first, so that a second run draws the same sequence.
        name, industry, city = company(rng)
        data = {
            "company_name": name, "contact_name": person(rng), "phone": mobile(rng),
            "region": REGION_OF_CITY[city], "industry": industry,
            "company_size": rng.choice(["small", "medium", "large", "enterprise"]),
            "intent": rng.choice(["high", "medium", "low"]),
            "budget": rng.choice([50000, 120000, 300000, 800000]),
            "decision_time_frame": rng.choice(["1m", "3m", "6m", "later"]),
        }  # fmt: skip
        source = rng.choice(sources)
        if Lead.objects.filter(name_key=normalize_company_name(name)).exists():
            continue
        result = lead_capture(data=data, source=source, channel="demo")
        if not result.created:
            continue
        created += 1
        lead = result.lead
        if lead.owner is not None and i % 4 in (1, 2):
            lead = lead_contact(lead=lead, by=lead.owner)
            if i % 4 == 2:
                lead_qualify(lead=lead, by=lead.owner)
    if stdout is not None:
        stdout.write(f"  leads: {created} captured")
    return created
