"""Scale data of customers (`manage.py seed_scale`): customers and their contacts.

Realistic Chinese companies (city + brand + trade + legal form, all distinct), phones typed in
the usual ways, e-mails, valid unified social credit codes (unique), addresses. Identity keys
(`name_key`, `phone_key`, `email_key`) are computed with `normalization.py`, the functions the
models' `save()` use, so dedupe finds these customers exactly as it finds hand-made ones.

Consistent with the rules of the pool and the status FSM: ~12% are in the public pool (no
owner, a release date, most with the rep who lost them); owned customers had their last
follow-up within their tier's pool days (a few are due tonight, those within the warning
days were warned); active and dormant customers have a credit rating, limit and term. About
60% came from a lead: the leads loader converts one lead into each of them
(``facts["customers_from_leads"]``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from apps.core.scale import (
    DISTRICTS,
    MAIL_DOMAINS,
    STREETS,
    SUFFIXES,
    TITLES,
    ScaleContext,
    company_of,
    credit_code_of,
    formatted_phone,
    mobile_of,
    person,
)

from .choices import CreditRating, CustomerStatus, DecisionRole
from .models import Contact, Customer
from .normalization import normalize_company_name, normalize_email, normalize_phone

REQUIRES = ("accounts",)

CUSTOMER_COLUMNS = [
    "id", "name", "name_key", "credit_code", "industry", "size", "region", "address", "phone",
    "phone_key", "email", "email_key", "website", "tier", "status", "owner_id", "credit_rating",
    "credit_limit", "payment_term_days", "on_credit_hold", "credit_hold_reason",
    "last_follow_up_at", "claimed_at", "pool_warning_at", "released_at", "previous_owner_id",
    "created_at", "updated_at",
]  # fmt: skip
CONTACT_COLUMNS = [
    "id", "customer_id", "name", "title", "decision_role", "phone", "phone_key", "email",
    "email_key", "is_primary", "notes", "created_at", "updated_at",
]  # fmt: skip

IN_POOL = 0.12
FROM_LEAD = 0.6
TIERS = ("A", "B", "C", "D")
TIER_WEIGHTS = (10, 25, 40, 25)
STATUSES = (CustomerStatus.PROSPECT, CustomerStatus.DEVELOPING, CustomerStatus.ACTIVE,
            CustomerStatus.DORMANT, CustomerStatus.LOST)  # fmt: skip
STATUS_WEIGHTS = (35, 15, 30, 12, 8)
# A customer in the pool is rarely one that buys.
POOL_STATUS_WEIGHTS = (55, 10, 5, 18, 12)
SIZES = ("micro", "small", "medium", "large", "enterprise", "")
RATING_TERMS = {
    CreditRating.AAA: (Decimal("2000000.00"), 90), CreditRating.AA: (Decimal("1000000.00"), 60),
    CreditRating.A: (Decimal("500000.00"), 45), CreditRating.B: (Decimal("200000.00"), 30),
    CreditRating.C: (Decimal("0.00"), 0),
}  # fmt: skip
CONTACTS_PER_CUSTOMER = (1, 2, 3)
CONTACT_WEIGHTS = (50, 35, 15)


def load(ctx: ScaleContext) -> None:
    """Copy the customers, then their contacts; see the module docstring."""
    count = ctx.sizes["customers"]
    rng = ctx.rng("customers")
    reps = ctx.ids["users.rep"]
    now = ctx.now
    pool_days = {tier: int(settings.CUSTOMER_POOL_DAYS.get(tier, 30)) for tier in TIERS}
    warning_days = settings.CUSTOMER_POOL_WARNING_DAYS
    ids = ctx.reserve_ids(Customer, count)
    from_leads: list[tuple] = []
    # Contacts are drawn with their customer (one generator), written after it.
    contacts: list[tuple] = []

    def customers():
        for i, pk in enumerate(ids):
            base, industry, city = company_of(i, ctx.seed)
            name = base + rng.choice(SUFFIXES)
            phone = formatted_phone(mobile_of(i, ctx.seed), rng) if rng.random() < 0.85 else ""
            email = ""
            if rng.random() < 0.5:
                mailbox = rng.choice(["info", "sales", "service", "hr"])
                email = f"{mailbox}{i}@{rng.choice(MAIL_DOMAINS)}"
                if rng.random() < 0.1:
                    email = email.capitalize()
            code = credit_code_of(i, city) if rng.random() < 0.65 else ""
            tier = rng.choices(TIERS, TIER_WEIGHTS)[0]
            created = now - timedelta(days=rng.uniform(1, 1500))
            in_pool = rng.random() < IN_POOL
            status = rng.choices(STATUSES, POOL_STATUS_WEIGHTS if in_pool else STATUS_WEIGHTS)[0]
            owner = previous = claimed = warned = released = follow_up = None
            days = pool_days[tier]
            if in_pool:
                released = max(created, now - timedelta(days=rng.uniform(0, 365)))
                follow_up = released - timedelta(days=days + rng.uniform(0, 2))
                follow_up = follow_up if follow_up > created else None
                # Most were lost by a rep (who cannot re-claim it during the cool-off).
                previous = rng.choice(reps) if rng.random() < 0.8 else None
            else:
                owner = rng.choice(reps)
                roll = rng.random()
                if roll < 0.01:  # due tonight: the nightly job releases it
                    age = days + rng.uniform(0, 1)
                elif roll < 0.03:  # within the warning days: warned once already
                    age = days - rng.uniform(0, warning_days)
                else:
                    age = rng.uniform(0, days - warning_days - 0.5)
                clock = now - timedelta(days=age)
                if rng.random() < 0.05 and clock > created:
                    # Never followed up: its clock is its creation (or claim).
                    created = clock
                elif rng.random() < 0.1:
                    # Claimed from the pool: released earlier, followed up since the claim.
                    claimed = max(created, clock - timedelta(days=rng.uniform(0, 20)))
                    follow_up = clock
                    previous = rng.choice(reps) if rng.random() < 0.7 else None
                    released = max(created, claimed - timedelta(days=rng.uniform(1, 60)))
                else:
                    follow_up = max(created, clock)
                if roll < 0.03:
                    warned = clock + timedelta(days=days - warning_days)
                    warned = min(warned, now)
            rating, limit, term = "", Decimal("0.00"), 0
            if status in (CustomerStatus.ACTIVE, CustomerStatus.DORMANT):
                rating = rng.choice(list(RATING_TERMS))
                limit, term = RATING_TERMS[rating]
            hold = status == CustomerStatus.ACTIVE and rng.random() < 0.02
            updated = max(t for t in (created, follow_up, claimed, released, warned) if t)
            size = rng.choice(SIZES)
            address = f"{city}市{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
            website = f"www.{code[8:16].lower() or i}.com.cn" if rng.random() < 0.3 else ""
            yield (
                pk, name, normalize_company_name(name), code, industry, size, city, address,
                phone, normalize_phone(phone), email, normalize_email(email), website, tier,
                status, owner, rating, limit, term, hold,
                "逾期未付款" if hold else "", follow_up, claimed, warned, released, previous,
                created, updated,
            )  # fmt: skip
            if rng.random() < FROM_LEAD:
                from_leads.append((pk, name, phone, email, code, city, industry, size,
                                   owner or previous, created))  # fmt: skip
            for j in range(rng.choices(CONTACTS_PER_CUSTOMER, CONTACT_WEIGHTS)[0]):
                contact_phone = mobile_of(5_000_000 + len(contacts), ctx.seed)
                contact_email = (
                    f"{rng.choice(['zhang', 'li', 'wang', 'chen', 'liu'])}{len(contacts)}@"
                    f"{rng.choice(MAIL_DOMAINS)}"
                    if rng.random() < 0.4
                    else ""
                )
                role = DecisionRole.DECISION_MAKER if j == 0 else rng.choice(
                    [DecisionRole.INFLUENCER, DecisionRole.USER, DecisionRole.FINANCE,
                     DecisionRole.GATEKEEPER]
                )  # fmt: skip
                contacts.append((
                    None, pk, person(rng), rng.choice(TITLES), role, contact_phone,
                    normalize_phone(contact_phone), contact_email, normalize_email(contact_email),
                    j == 0, "", created, created,
                ))  # fmt: skip

    ctx.copy(Customer, CUSTOMER_COLUMNS, customers(), expected=count)
    contact_ids = ctx.reserve_ids(Contact, len(contacts))
    ctx.copy(
        Contact,
        CONTACT_COLUMNS,
        ((pk, *row[1:]) for pk, row in zip(contact_ids, contacts, strict=True)),
        expected=len(contacts),
    )
    ctx.ids["customers"] = ids
    ctx.facts["customers_from_leads"] = from_leads
