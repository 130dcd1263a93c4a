"""Demo pipeline for `manage.py seed_demo`: deals for the demo reps' customers over the last
90 days, in every stage (some stuck), won and lost ones with reasons and competitors, and a
stage history with realistic durations. Idempotent: a deal whose name exists is skipped.

Why direct model writes rather than the services: the services stamp every move "now", and a
demo needs a history spread over 90 days. Deals in negotiation or won get an approved quote
through the real quote and approval services (demo_catalogue.create_approved_quote). The rows
written here are the ones the services would have written (the stage through the constructor, one
StageChange per stay, closed_at, the lost reason and competitor), just backdated.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.customers.models import Customer

from . import demo_catalogue
from .choices import OPEN_STAGES, Stage
from .models import Opportunity, StageChange

SUBJECTS = ["数控机床采购", "生产线改造", "年度备件框架", "自动化升级", "检测设备", "仓储系统",
            "精密刀具年单", "液压系统更新"]  # fmt: skip
COMPETITORS = ["德马吉森精机", "大隈", "海天精工", "沈阳机床", "牧野"]
LOST_REASONS = ["价格高于竞品", "交期不能满足", "客户预算取消", "技术方案未通过评审"]
NEEDS = "客户现有设备老化，产能不足；关注加工精度与交期，预算已立项，采购部与生产部共同决策。"
# Final stage of each demo deal (open stages weighted toward the top of the funnel).
FINALS = [Stage.PROSPECTING, Stage.PROSPECTING, Stage.QUALIFICATION, Stage.QUALIFICATION,
          Stage.NEEDS_ANALYSIS, Stage.NEEDS_ANALYSIS, Stage.PROPOSAL, Stage.PROPOSAL,
          Stage.NEGOTIATION, Stage.WON, Stage.WON, Stage.LOST]  # fmt: skip


def _path(final: str, rng: random.Random) -> list[str]:
    if final in OPEN_STAGES:
        return [str(s) for s in OPEN_STAGES[: OPEN_STAGES.index(final) + 1]]
    if final == Stage.WON:
        return [*[str(s) for s in OPEN_STAGES], str(Stage.WON)]
    stop = rng.randrange(1, len(OPEN_STAGES) + 1)
    return [*[str(s) for s in OPEN_STAGES[:stop]], str(Stage.LOST)]


@transaction.atomic
def load(stdout=None) -> int:
    demo_catalogue.load(stdout)  # the products the quotes are made of
    rng = random.Random(20261205)
    now = timezone.now()
    reps = list(User.objects.filter(role="rep", is_active=True).order_by("username"))
    created = 0
    for rep in reps:
        customers = list(Customer.objects.filter(owner=rep).order_by("id")[:4])
        for i, customer in enumerate(customers):
            for j in range(2):
                # Draw every random value first, so that a second run draws the same sequence.
                final = FINALS[(i * 2 + j + rep.pk) % len(FINALS)]
                path = _path(final, rng)
                days = [rng.randint(3, 16) for _ in path]
                stuck = final in OPEN_STAGES and rng.random() < 0.25
                if stuck:
                    days[-1] = rng.randint(35, 50)
                amount = Decimal(rng.randrange(50, 2000) * 1000)
                subject = rng.choice(SUBJECTS)
                reason, competitor = rng.choice(LOST_REASONS), rng.choice(COMPETITORS)
                name = f"{customer.name} · {subject}"
                if Opportunity.objects.filter(name=name).exists():
                    continue
                created += 1
                _create(customer, rep, name, path, days, amount, reason, competitor, now, rng)
    if stdout is not None:
        stdout.write(f"  opportunities: {created} created")
    return created


def _create(customer, rep, name, path, days, amount, reason, competitor, now, rng) -> None:
    # Squeeze a long history into the last 90 days; the current stay ends now.
    scale = min(1.0, 85 / sum(days))
    start = now - timedelta(days=sum(days) * scale, hours=rng.randint(1, 8))
    entries, at = [], start
    for index, stage in enumerate(path):
        entries.append((stage, at, path[index - 1] if index else ""))
        at = at + timedelta(days=days[index] * scale)
    final = path[-1]
    closed = final in (Stage.WON, Stage.LOST)
    last_at = entries[-1][1]
    contact = customer.contacts.order_by("-is_primary", "id").first()
    # A deal in negotiation or won has an approved quote: it is created in negotiation (open,
    # so the quote service accepts it), quoted through the real approval chain, then closed.
    quoted = final in (Stage.NEGOTIATION, Stage.WON)
    opportunity = Opportunity.objects.create(
        name=name, customer=customer, owner=rep, contact=contact, amount=amount,
        expected_close_date=(now + timedelta(days=rng.randint(-10, 75))).date()
        if not closed else last_at.date(),
        stage=Stage.NEGOTIATION if quoted else final, stage_entered_at=last_at,
        closed_at=last_at if closed else None,
        needs_analysis=NEEDS if len(path) > 3 else "",
        lost_reason=reason if final == Stage.LOST else "",
        lost_competitor=competitor if final == Stage.LOST else "",
    )  # fmt: skip
    if quoted:
        demo_catalogue.create_approved_quote(opportunity)
    Opportunity.objects.filter(pk=opportunity.pk).update(created_at=start, stage=final)
    StageChange.objects.bulk_create(
        StageChange(
            opportunity=opportunity, stage=stage, from_stage=from_stage, entered_at=entered,
            left_at=entries[k + 1][1] if k + 1 < len(entries) else None, entered_by=rep,
            reason=reason if stage == Stage.LOST else "",
        )
        for k, (stage, entered, from_stage) in enumerate(entries)
    )  # fmt: skip
