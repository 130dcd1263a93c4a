"""Scale data of contracts (`manage.py seed_scale`): contracts with their lines and payment
terms, numbered as `numbering.py` numbers them.

About ``sizes["contracts"]`` contracts (without it, ``sizes["installments"] / 4``). The
signed ones (signed, executing, completed, or terminated after signing) have exactly
``sizes["installments"]`` payment terms between them, 1–8 each, or 10–36 monthly ones for the
instalment plans that make up the difference when fewer contracts are asked for: the
receivables loader turns each of those into an installment, as signing does. Consistent
with the services, as far as generated data can be:

- a contract's owner is its customer's owner; signed contracts belong to active customers
  (dormant ones: signed more than half a year ago), unsigned ones (draft, pending, approved,
  terminated before signing) to owned customers that are not lost;
- lines: products of the catalogue (the opportunities loader's, else the demo catalogue is
  created), quantity × unit price × (1 − discount %) half-up to the cent, as
  `ContractLine.compute_amount`; the contract amount is the sum of its lines;
- payment terms (prepayment, on delivery, on acceptance, progress, retention) by percentage,
  each amount the percentage of the total half-up to the cent and the last term taking the
  rounding, as `services.term_amounts`: the terms add up exactly to the amount; the credit
  portion is the amount less the prepayment terms (`services.credit_portion_of`);
- signing dates over the last three years; a contract whose last term fell due more than
  three months ago is mostly completed (the receivables loader has all its installments
  paid by the completion date); a termination has a reason;
- numbers HT-YYYY-NNNNNN follow the creation time, without gaps in each year, continuing the
  year's `ContractSequence`, which ends at the last number given: the next contract made by
  `services.contract_create` continues the sequence.

No approval requests are made: pending and approved contracts have none (an approvals loader
would add them).
"""

from __future__ import annotations

import bisect
import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.db import connection
from django.utils import timezone

from apps.core.scale import ScaleContext
from apps.customers.choices import CustomerStatus
from apps.opportunities.demo_catalogue import CATALOGUE
from apps.opportunities.models import Product

from .choices import ContractStatus, InstallmentKind
from .models import Contract, ContractLine, ContractSequence, PaymentTerm
from .numbering import format_contract_number
from .services import customer_tier_recompute

REQUIRES = ("accounts", "customers")

CONTRACT_COLUMNS = [
    "id", "number", "title", "customer_id", "opportunity_id", "owner_id", "amount",
    "credit_portion", "penalty_rate_per_day", "grace_days", "status", "needs_credit_override",
    "signed_on", "starts_on", "ends_on", "notes", "termination_reason", "return_comment",
    "version", "external_id", "approved_at", "signed_at", "completed_at", "terminated_at",
    "created_at", "updated_at",
]  # fmt: skip
LINE_COLUMNS = ["id", "contract_id", "position", "product_id", "description", "quantity",
                "unit_price", "discount_pct", "amount"]  # fmt: skip
TERM_COLUMNS = ["id", "contract_id", "sequence", "kind", "due_date", "percentage", "amount"]

# Payment terms per signed contract (mean ≈ 3.9).
TERM_COUNTS = (1, 2, 3, 4, 5, 6, 7, 8)
TERM_WEIGHTS = (8, 14, 24, 22, 14, 9, 5, 4)
TERM_MEAN = sum(c * w for c, w in zip(TERM_COUNTS, TERM_WEIGHTS, strict=True)) / sum(TERM_WEIGHTS)
# Monthly instalment plans (分期付款: a framework contract paid month by month), the share
# of them made as large as `sizes["contracts"]` asks (more terms a contract than 1–8).
PLAN_COUNTS = (10, 12, 12, 18, 24, 24, 36)
PLAN_MEAN = sum(PLAN_COUNTS) / len(PLAN_COUNTS)
SPAN_DAYS = 3 * 365
# Unsigned contracts, as a share of the signed ones.
UNSIGNED = {"draft": 0.04, "pending": 0.015, "approved": 0.015, "terminated": 0.01}
TERMINATED_AFTER_SIGNING = 0.025
# A contract whose last term fell due this long ago is completed (most of them).
COMPLETED_AFTER_DAYS = 90
COMPLETED_SHARE = 0.85
# Contracts with a penalty interest clause (逾期罚息), their rates (% a day) and grace days.
PENALTY_SHARE = 0.1
RATES = (Decimal("0.0300"), Decimal("0.0500"), Decimal("0.0500"), Decimal("0.1000"))
GRACE_DAYS = (0, 0, 3, 5, 7, 10, 15)
NO_RATE = Decimal("0.0000")
# Customers by tier: how many more contracts an A customer signs than a D one, and the
# typical size of a contract (yuan).
TIER_WEIGHT = {"A": 4.0, "B": 2.5, "C": 1.5, "D": 1.0}
TIER_TARGET = {"A": 300_000, "B": 150_000, "C": 60_000, "D": 30_000}
# …and a customer rated C (no credit) rarely buys on credit.
RATING_WEIGHT = {"AAA": 2.0, "AA": 1.5, "A": 1.2, "B": 1.0, "C": 0.3}
DISCOUNTS = (0, 0, 0, 0, 0, 0, 0, 3, 5, 8, 10, 12, 15)
TITLES = ("采购合同", "销售合同", "供货合同", "设备采购合同", "年度框架采购合同", "服务合同")
TERMINATION_REASONS = (
    "客户取消采购计划",
    "客户资金困难，双方协商解除",
    "交付延期，客户要求终止",
    "客户经营异常，停止供货",
    "项目取消",
)
NOTES = ("", "", "", "含运输及安装", "分批交付", "质保期一年", "按月对账开票")


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """`day` at hour:minute, naive, in the business time zone (naive datetimes compare and
    subtract fast; `aware` makes them what the columns take)."""
    return datetime.combine(day, time(hour, minute))


def aware(moment: datetime | None) -> datetime | None:
    """A naive business-time datetime as an aware one."""
    return moment.replace(tzinfo=timezone.get_default_timezone()) if moment else None


def local_now(ctx: ScaleContext) -> datetime:
    """`ctx.now` in the business time zone, naive."""
    return timezone.localtime(ctx.now).replace(tzinfo=None)


def _products(ctx: ScaleContext) -> list[tuple[int, str, int, str]]:
    """(id, name, list price in cents, product line) of the active catalogue: the products
    already there (the opportunities loader's), else the demo catalogue, created here."""
    rows = list(
        Product.objects.filter(is_active=True)
        .order_by("id")
        .values_list("id", "name", "list_price", "product_line")
    )
    if not rows:
        columns = list(zip(*CATALOGUE, strict=True))
        with pgtrigger.ignore("opportunities.Product:insert_insert"), connection.cursor() as c:
            c.execute(
                "INSERT INTO opportunities_product (code, name, unit, list_price, product_line, "
                "description, is_active, external_id, created_at, updated_at) "
                "SELECT code, name, unit, price, line, '', true, '', %s, %s FROM unnest("
                "%s::text[], %s::text[], %s::text[], %s::numeric[], %s::text[]) "
                "AS t(code, name, unit, price, line) ON CONFLICT (code) DO NOTHING",
                [ctx.now, ctx.now, *map(list, columns)],
            )
        ctx.counts["opportunities_product"] = len(CATALOGUE)
        rows = list(
            Product.objects.filter(is_active=True)
            .order_by("id")
            .values_list("id", "name", "list_price", "product_line")
        )
    return [(pk, name, int(price * 100), line) for pk, name, price, line in rows if price > 0]


def _customers(ctx: ScaleContext) -> list[tuple]:
    """(id, owner, status, tier, credit limit in cents, created date, name, credit rating) of
    the owned customers loaded earlier."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, owner_id, status, tier, credit_limit, (created_at AT TIME ZONE %s)::date,"
            " name, credit_rating FROM customers_customer "
            "WHERE id = ANY(%s) AND owner_id IS NOT NULL ORDER BY id",
            [settings.TIME_ZONE, ctx.ids["customers"]],
        )
        return [
            (pk, owner, status, tier, int(limit * 100), created, name, rating)
            for pk, owner, status, tier, limit, created, name, rating in cursor.fetchall()
        ]


def _chooser(rng, customers: list[tuple]):
    """A weighted choice of a customer by tier (None when there is none)."""
    if not customers:
        return lambda: None
    cumulative = list(
        itertools.accumulate(
            TIER_WEIGHT.get(c[3], 1.0) * RATING_WEIGHT.get(c[7], 1.0) for c in customers
        )
    )
    total = cumulative[-1]
    return lambda: customers[bisect.bisect_right(cumulative, rng.random() * total)]


def _percentages(rng, kinds: list[str]) -> list[int]:
    """Whole percentages of the terms, adding up to 100: retention 5 or 10 %, prepayment
    10–50 %, the rest spread over the other terms in fives (at least 5 % each); an instalment
    plan's terms (more than 8) even, the first ones taking the remainder."""
    n = len(kinds)
    if n == 1:
        return [100]
    if n > max(TERM_COUNTS):
        base, extra = divmod(100, n)
        return [base + (1 if i < extra else 0) for i in range(n)]
    shares = [0] * n
    rest = list(range(n))
    left = 100
    if kinds[-1] == InstallmentKind.RETENTION:
        shares[-1] = rng.choice((5, 10))
        left -= shares[-1]
        rest.remove(n - 1)
    if kinds[0] == InstallmentKind.PREPAYMENT and len(rest) > 1:
        room = min(50, left - 5 * (len(rest) - 1))
        shares[0] = rng.choice(range(10, room + 1, 10)) if room >= 10 else 5
        left -= shares[0]
        rest.remove(0)
    weights = [rng.uniform(1, 3) for _ in rest]
    whole = sum(weights)
    given = 0
    for j, i in enumerate(rest):
        if j == len(rest) - 1:
            shares[i] = left - given
        else:
            share = max(5, int(left * weights[j] / whole) // 5 * 5)
            shares[i] = min(share, left - given - 5 * (len(rest) - 1 - j))
            given += shares[i]
    return shares


def _terms_plan(rng, n: int) -> list[str]:
    """The kinds of a contract's `n` terms, in order: an instalment plan (more than 8) is a
    prepayment or a first instalment, then monthly instalments."""
    if n > max(TERM_COUNTS):
        first = InstallmentKind.PREPAYMENT if rng.random() < 0.5 else InstallmentKind.OTHER
        return [first] + [InstallmentKind.OTHER] * (n - 1)
    if n == 1:
        return [InstallmentKind.PREPAYMENT if rng.random() < 0.3 else InstallmentKind.ON_DELIVERY]
    kinds: list[str] = []
    kinds.append(InstallmentKind.PREPAYMENT if rng.random() < 0.7 else InstallmentKind.ON_DELIVERY)
    last = InstallmentKind.RETENTION if n >= 3 and rng.random() < 0.6 else None
    middle = n - 1 - (1 if last else 0)
    for j in range(middle):
        if j == middle - 1 and last is None:
            kinds.append(InstallmentKind.ON_ACCEPTANCE)
        elif rng.random() < 0.15:
            kinds.append(InstallmentKind.OTHER)  # a progress payment (进度款)
        else:
            kinds.append(InstallmentKind.ON_DELIVERY)
    if last:
        kinds.append(last)
    return kinds


def _due_dates(rng, kinds: list[str], signed: date) -> list[date]:
    """Due dates in term order: prepayment at signing, deliveries over the project's months,
    acceptance after delivery, retention (质保金) a year or two later; an instalment plan's
    terms a month apart from signing."""
    if len(kinds) > max(TERM_COUNTS):
        first = signed + timedelta(days=rng.randint(0, 10))
        return [first + timedelta(days=30 * k) for k in range(len(kinds))]
    project = rng.randint(20, 360)
    dates: list[date] = []
    at = signed
    deliveries = sum(1 for k in kinds if k not in (InstallmentKind.PREPAYMENT,
                                                   InstallmentKind.RETENTION))  # fmt: skip
    step = max(10, project // max(1, deliveries))
    for kind in kinds:
        if kind == InstallmentKind.PREPAYMENT:
            at = signed + timedelta(days=rng.randint(0, 10))
        elif kind == InstallmentKind.RETENTION:
            at = at + timedelta(days=rng.choice((365, 365, 365, 540, 730)))
        elif kind == InstallmentKind.ON_ACCEPTANCE:
            at = at + timedelta(days=rng.randint(15, 60))
        else:
            at = at + timedelta(days=rng.randint(step // 2, step))
        dates.append(at)
    return dates


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def load(ctx: ScaleContext) -> None:
    """Copy the contracts, their lines and their payment terms; see the module docstring."""
    rng = ctx.rng("contracts")
    now = local_now(ctx)
    today = now.date()
    yesterday = today - timedelta(days=1)
    target = ctx.sizes.get("installments", 0)
    wanted = ctx.sizes.get("contracts")
    # With a number of contracts asked for: instalment plans for the share that gives the
    # mean number of terms it takes (the unsigned ones come on top of the signed).
    plan_share = 0.0
    if wanted and target:
        mean = target / max(1, wanted / (1 + sum(UNSIGNED.values())))
        plan_share = min(1.0, max(0.0, (mean - TERM_MEAN) / (PLAN_MEAN - TERM_MEAN)))

    def term_count() -> int:
        if plan_share and rng.random() < plan_share:
            return rng.choice(PLAN_COUNTS)
        return rng.choices(TERM_COUNTS, TERM_WEIGHTS)[0]

    products = _products(ctx)
    customers = _customers(ctx)
    signable = [
        c for c in customers
        if (c[2] == CustomerStatus.ACTIVE and c[5] <= today - timedelta(days=20))
        or (c[2] == CustomerStatus.DORMANT and c[5] <= today - timedelta(days=200))
    ]  # fmt: skip
    open_to_new = [c for c in customers if c[2] != CustomerStatus.LOST]
    if target and not signable:
        raise ValueError("no active customer to sign contracts with: load customers first")
    pick_signable = _chooser(rng, signable)
    pick_any = _chooser(rng, open_to_new)

    # 1. The contracts' fates and dates (specs), then numbered in creation order.
    specs: list[dict] = []
    left = target
    while left > 0:
        n = min(left, term_count())
        left -= n
        customer = pick_signable()
        lo = max(today - timedelta(days=SPAN_DAYS), customer[5] + timedelta(days=15))
        hi = yesterday if customer[2] == CustomerStatus.ACTIVE else today - timedelta(days=180)
        signed = lo + timedelta(days=rng.randint(0, max(0, (hi - lo).days)))
        created_day = max(customer[5], signed - timedelta(days=rng.randint(3, 30)))
        specs.append(
            {
                "customer": customer,
                "terms": n,
                "signed": signed,
                "created": local_at(created_day, rng.randint(9, 17), rng.randint(0, 59)),
            }
        )
    signed_count = len(specs)
    for status, share in UNSIGNED.items():
        for _ in range(round(signed_count * share) if signed_count else 0):
            customer = pick_any()
            if customer is None:
                break
            age = {"draft": 60, "pending": 20, "approved": 40, "terminated": SPAN_DAYS}[status]
            created_day = max(customer[5], today - timedelta(days=rng.randint(0, age)))
            n = rng.choices(TERM_COUNTS, TERM_WEIGHTS)[0]
            if status == "draft" and rng.random() < 0.15:
                n = 0  # terms not entered yet
            specs.append({"customer": customer, "terms": n, "status": status, "signed": None,
                          "created": local_at(created_day, rng.randint(9, 17),
                                              rng.randint(0, 59))})  # fmt: skip
    for spec in specs:  # nothing is made in the future
        spec["created"] = min(spec["created"], now - timedelta(minutes=30))
    order = sorted(range(len(specs)), key=lambda i: (specs[i]["created"], i))
    ids = ctx.reserve_ids(Contract, len(specs))
    with connection.cursor() as cursor:
        cursor.execute("SELECT year, last_number FROM contracts_contractsequence")
        last_numbers = dict(cursor.fetchall())
    for pk, i in zip(ids, order, strict=True):
        spec = specs[i]
        year = spec["created"].year
        last_numbers[year] = last_numbers.get(year, 0) + 1
        spec["id"] = pk
        spec["number"] = format_contract_number(year, last_numbers[year])
    specs = [specs[i] for i in order]

    # 2. Lines and terms with each contract (one generator), written after it.
    lines: list[tuple] = []
    terms: list[tuple] = []
    kept = {"signed": 0}

    def contracts():
        for spec in specs:
            pk = spec["id"]
            customer_id, owner, _status, tier, limit, _created, name, _rating = spec["customer"]
            created: datetime = spec["created"]
            # Within the customer's credit limit, when it has one.
            typical = (
                limit / 100 * rng.uniform(0.05, 0.35) if limit else TIER_TARGET.get(tier, 60_000)
            )
            target_amount = max(5_000, typical * rng.lognormvariate(0, 0.4))
            n_lines = rng.choices((1, 2, 3, 4, 5), (35, 30, 18, 10, 7))[0]
            total = 0
            main_line = ""
            for position in range(1, n_lines + 1):
                product_id, product_name, price, product_line = rng.choice(products)
                main_line = main_line or product_line
                if rng.random() < 0.25:  # a negotiated price, to ten yuan
                    price = max(1000, int(price * rng.uniform(0.85, 1.0)) // 1000 * 1000)
                share = target_amount * 100 / n_lines
                quantity = max(1, min(2000, round(share / price)))
                discount = rng.choice(DISCOUNTS)
                amount = (quantity * price * (100 - discount) + 50) // 100
                total += amount
                lines.append((None, pk, position, product_id, product_name, f"{quantity}.00",
                              _money(price), f"{discount}.00", _money(amount)))  # fmt: skip
            signed: date | None = spec["signed"]
            n = spec["terms"]
            expected = signed or (created.date() + timedelta(days=rng.randint(10, 30)))
            kinds = _terms_plan(rng, n) if n else []
            dates = _due_dates(rng, kinds, expected) if n else []
            percents = _percentages(rng, kinds) if n else []
            prepaid = given = 0
            for sequence, (kind, due, pct) in enumerate(
                zip(kinds, dates, percents, strict=True), start=1
            ):
                amount = (
                    total - given if sequence == n else (total * pct + 50) // 100
                )  # the last term takes the rounding
                given += amount
                if kind == InstallmentKind.PREPAYMENT:
                    prepaid += amount
                terms.append((None, pk, sequence, kind, due, f"{pct}.00", _money(amount)))
            credit = max(0, total - prepaid) if n else 0
            penalty = rng.random() < PENALTY_SHARE
            rate = rng.choice(RATES) if penalty else NO_RATE
            grace = rng.choice(GRACE_DAYS) if penalty else 0
            # Raised at submission when over the credit (a draft was never submitted).
            override = credit > limit and spec.get("status") != ContractStatus.DRAFT
            title = f"{name[:40]}{main_line}{rng.choice(TITLES)}"
            approved_at = signed_at = completed_at = terminated_at = None
            starts = ends = None
            reason = ""
            if signed is not None:
                kept["signed"] += 1
                signed_at = local_at(signed, rng.randint(10, 17), rng.randint(0, 59))
                approved_at = created + (signed_at - created) * rng.uniform(0.4, 0.9)
                starts = signed + timedelta(days=rng.randint(0, 10))
                ends = max(dates[-1], starts)
                if rng.random() < TERMINATED_AFTER_SIGNING:
                    status = ContractStatus.TERMINATED
                    end_day = min(yesterday, signed + timedelta(days=rng.randint(20, 300)))
                    terminated_at = max(local_at(end_day, 16), signed_at + timedelta(hours=1))
                    reason = rng.choice(TERMINATION_REASONS)
                elif (today - dates[-1]).days > COMPLETED_AFTER_DAYS and (
                    rng.random() < COMPLETED_SHARE
                ):
                    status = ContractStatus.COMPLETED
                    done = min(yesterday, dates[-1] + timedelta(days=rng.randint(1, 60)))
                    completed_at = max(local_at(done, 15), signed_at + timedelta(hours=1))
                elif (today - signed).days < 45 and rng.random() < 0.5:
                    status = ContractStatus.SIGNED
                else:
                    status = ContractStatus.EXECUTING
            else:
                status = spec["status"]
                moment = created + timedelta(hours=rng.randint(1, 72))
                moment = min(moment, now - timedelta(minutes=5))
                if status in (ContractStatus.APPROVED,):
                    approved_at = moment
                elif status == ContractStatus.TERMINATED:
                    terminated_at = moment
                    reason = rng.choice(TERMINATION_REASONS)
                    if rng.random() < 0.4:  # approved, then given up before signing
                        approved_at = created + (moment - created) / 2
            updated = max(t for t in (created, approved_at, signed_at, completed_at,
                                      terminated_at) if t)  # fmt: skip
            if status == ContractStatus.DRAFT:
                updated = created + timedelta(minutes=rng.randint(1, 600))
                updated = min(updated, now)
            yield (
                pk, spec["number"], title, customer_id, None, owner, _money(total),
                _money(credit), rate, grace, status, override, signed, starts, ends,
                rng.choice(NOTES), reason, "", 1,
                f"ERP-HT-{pk}" if rng.random() < 0.2 else "", aware(approved_at), aware(signed_at),
                aware(completed_at), aware(terminated_at), aware(created), aware(updated),
            )  # fmt: skip

    ctx.copy(Contract, CONTRACT_COLUMNS, contracts(), expected=len(specs))
    line_ids = ctx.reserve_ids(ContractLine, len(lines))
    ctx.copy(
        ContractLine,
        LINE_COLUMNS,
        ((pk, *row[1:]) for pk, row in zip(line_ids, lines, strict=True)),
        expected=len(lines),
    )
    term_ids = ctx.reserve_ids(PaymentTerm, len(terms))
    ctx.copy(
        PaymentTerm,
        TERM_COLUMNS,
        ((pk, *row[1:]) for pk, row in zip(term_ids, terms, strict=True)),
        expected=len(terms),
    )
    # The sequence of each year ends at its last number: contract_create continues from it.
    if last_numbers:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {ContractSequence._meta.db_table} (year, last_number) "  # noqa: S608
                "SELECT * FROM unnest(%s::int[], %s::int[]) "
                "ON CONFLICT (year) DO UPDATE SET last_number = EXCLUDED.last_number",
                [list(last_numbers), list(last_numbers.values())],
            )
    ctx.ids["contracts"] = ids
    ctx.ids["contracts.signed"] = [s["id"] for s in specs if s["signed"] is not None]
    ctx.log(
        f"  {kept['signed']:,} signed contracts with {target:,} payment terms; "
        f"{len(specs) - kept['signed']:,} unsigned"
    )


def settle(ctx: ScaleContext) -> None:
    """The customers' tiers as the nightly recompute gives them from the loaded contracts
    (else its first run would change most of them): its own statement, the history trigger
    skipped, `updated_at` kept."""
    with pgtrigger.ignore("customers.Customer:update_update"):
        retiered = customer_tier_recompute(today=local_now(ctx).date(), touch=False)
    ctx.log(f"contracts: {retiered:,} customers' tiers set from their last 12 months' contracts")
