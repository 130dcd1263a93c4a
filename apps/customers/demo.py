"""Demo customers for `manage.py seed_demo`: a book of customers per rep (Chinese companies in
the territories' cities), with contacts, some developing or active, a few in the public pool.
Idempotent: a customer whose name exists is left as it is."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.demo_names import DISTRICTS, REGION_OF_CITY, company, mobile, person
from apps.core.demo_names import TITLES as CONTACT_TITLES

from .models import Contact, Customer

PER_REP = 4
IN_POOL = 6


@transaction.atomic
def load(stdout=None) -> int:
    rng = random.Random(20261123)
    reps = list(User.objects.filter(role="rep", is_active=True).order_by("username"))
    created = 0
    owners: list[User | None] = [r for r in reps for _ in range(PER_REP)] + [None] * IN_POOL
    now = timezone.now()
    for i, owner in enumerate(owners):
        # Draw every random value first, so that a second run draws the same sequence.
        name, industry, city = company(rng)
        customer = Customer(
            name=name, industry=industry, region=REGION_OF_CITY[city],
            address=f"{city}市{rng.choice(DISTRICTS)}{rng.randrange(1, 300)}号",
            phone=mobile(rng), tier=rng.choice("ABCCD"), owner=owner,
            size=rng.choice(["small", "medium", "large"]),
            credit_limit=rng.choice([0, 50000, 200000, 500000]),
            payment_term_days=rng.choice([0, 30, 45, 60]),
            last_follow_up_at=now - timedelta(days=rng.randrange(0, 40)),
            released_at=now - timedelta(days=rng.randrange(40, 90)) if owner is None else None,
        )  # fmt: skip
        contacts = [
            Contact(
                name=person(rng),
                title=rng.choice(CONTACT_TITLES),
                decision_role="decision_maker" if j == 0 else rng.choice(["influencer", "user"]),
                phone=mobile(rng),
                is_primary=j == 0,
            )
            for j in range(rng.choice([1, 2, 3]))
        ]
        if Customer.objects.filter(name=name).exists():
            continue
        customer.save()
        # Statuses move only through their transitions, demo data included.
        if i % 3 == 1:
            customer.start_development()
            customer.save()
        elif i % 3 == 2:
            customer.activate()
            customer.save()
        for contact in contacts:
            contact.customer = customer
            contact.save()
        created += 1
    if stdout is not None:
        stdout.write(f"  customers: {created} created")
    return created
