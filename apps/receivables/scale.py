"""Scale data of receivables (`manage.py seed_scale`): the installments of the signed
contracts, payments (回款) and their allocations (核销), penalty interest (逾期罚息), collection
tasks and records (催收), bad-debt write-offs (坏账核销) — as the services and the daily job
would have left them, the job having run today (the date of ``ctx.now``).

One installment per payment term of each signed contract that has none yet (the contracts
loader gives ``sizes["installments"]`` of them), created at the signing. Each installment's
fate is drawn as the customer's habit: most pay around the due date, some weeks or months
late, some in two parts, a few never (bad debt: open, or written off after half a year or
more); an installment of a completed contract was paid by the completion. Money moves up to
yesterday; what was not paid by then is open today. Then, exactly as the services and the
job keep them:

- payments: ``sizes["payments"]`` of them. The payments of a customer received close
  together are often one transfer paying several installments (its allocations, the same
  day, oldest due first); a few were over-paid (the rest is the customer's credit balance,
  预收款), a few recent ones are not allocated yet, a few were reversed (冲销) the day they
  were recorded, their allocations reversed with them. Bank references are unique;
- ``paid_amount`` is the sum of the installment's live allocations and ``allocated_amount``
  the sum of the payment's, never above the payment; the status follows (scheduled, due,
  partially paid, paid with ``paid_at`` the day of the last allocation, written off);
- overdue days, aging bucket and the escalated bucket as the job computes them; one penalty
  accrual per day from the due date + grace days + 1 to the day the installment was paid
  (the job runs before the money is allocated) or today, on the open amount of that day,
  ``penalty_accrued`` their sum; a collection task for each bucket 1–3 the installment went
  through, for the person that bucket escalates to (`jobs.escalation_chain`); customers with
  money overdue beyond the hold days are on the job's credit hold;
- collection records of overdue installments, some with a promise to pay, which the job's own
  statement then judges kept or broken when its date has passed;
- an approved write-off for each written-off installment (and a few drafts).

So the daily job finds nothing to do today (a run changes nothing) and a day's work tomorrow.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import pgtrigger
from django.conf import settings
from django.db import connection

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.contracts.scale import aware, local_at, local_now
from apps.core.scale import ScaleContext, person

from . import jobs
from .choices import (
    CollectionMethod,
    CollectionTaskStatus,
    InstallmentStatus,
    PaymentMethod,
    PaymentStatus,
    PromiseStatus,
    WriteOffStatus,
)
from .models import (
    Allocation,
    CollectionRecord,
    CollectionTask,
    Installment,
    Payment,
    PenaltyAccrual,
    WriteOff,
)

REQUIRES = ("contracts",)

INSTALLMENT_COLUMNS = [
    "id", "contract_id", "customer_id", "owner_id", "sequence", "kind", "due_date", "amount",
    "paid_amount", "written_off_amount", "status", "overdue_days", "aging_bucket",
    "escalated_bucket", "penalty_accrued", "paid_at", "created_at", "updated_at",
]  # fmt: skip
PAYMENT_COLUMNS = [
    "id", "customer_id", "owner_id", "amount", "received_on", "method", "bank_reference",
    "external_id", "payer_name", "notes", "allocated_amount", "status", "reversal_reason",
    "reversed_at", "recorded_by_id", "created_at", "updated_at",
]  # fmt: skip
ALLOCATION_COLUMNS = ["id", "payment_id", "installment_id", "amount", "allocated_on",
                      "created_by_id", "reversed_at", "reversed_by_id", "created_at"]  # fmt: skip
ACCRUAL_COLUMNS = ["installment_id", "accrual_date", "principal", "rate_per_day", "amount",
                   "created_at"]  # fmt: skip
TASK_COLUMNS = ["installment_id", "customer_id", "owner_id", "bucket", "status", "due_on",
                "done_at", "created_at", "updated_at"]  # fmt: skip
RECORD_COLUMNS = ["customer_id", "installment_id", "contact_id", "owner_id", "method", "notes",
                  "promised_on", "promised_amount", "promise_status", "created_at",
                  "updated_at"]  # fmt: skip
WRITEOFF_COLUMNS = ["installment_id", "owner_id", "amount", "reason", "status",
                    "return_comment", "approved_at", "created_at", "updated_at"]  # fmt: skip

# Days after the due date a customer pays: (share, first day, last day).
DELAYS = ((0.50, -15, 0), (0.28, 1, 30), (0.14, 31, 90), (0.08, 91, 240))
# Never pays (bad debt); more often on a terminated contract.
BAD_DEBT = 0.03
BAD_DEBT_TERMINATED = 0.3
# A bad debt older than this is written off (the older, the likelier).
WRITE_OFF_AFTER = 180
TWO_PARTS = 0.12
# Payments of a customer this close together may be one transfer (gap to the one before,
# span of the transfer in days), wider and wider while there are too many payments.
MERGE_WINDOWS = ((45, 60), (60, 90), (90, 150), (120, 240))
OVER_PAID = 0.03
ADVANCE = 0.01  # recorded, not allocated yet
REVERSED = 0.003
ERP_POSTED = 0.3
TASK_DUE_DAYS = jobs.TASK_DUE_DAYS
BUCKET_STARTS = {1: 1, 2: 31, 3: 61}
BANKS = ("ICBC", "CCB", "ABC", "BOC", "BOCOM", "CMB", "SPDB", "CITIC", "CIB", "PAB")
METHODS = (PaymentMethod.BANK_TRANSFER, PaymentMethod.ACCEPTANCE_BILL, PaymentMethod.CHEQUE,
           PaymentMethod.CASH, PaymentMethod.OTHER)  # fmt: skip
METHOD_WEIGHTS = (80, 12, 5, 1, 2)
PAYMENT_NOTES = ("", "", "", "", "货款", "合同款", "预付款", "质保金", "分期款")
REVERSAL_REASONS = (
    "重复录入，冲销",
    "付款人非本客户，退回重录",
    "到账金额与银行回单不符，退回重录",
)
COLLECTION_NOTES = {
    CollectionMethod.PHONE: ("电话联系客户财务，对方表示本周内安排付款",
                             "电话催款，客户称资金紧张，申请延期一个月",
                             "联系采购负责人，付款申请已提交财务审批"),
    CollectionMethod.MESSAGE: ("微信发送对账单及付款提醒", "微信提醒付款，客户已读未回"),
    CollectionMethod.VISIT: ("上门拜访，与财务总监沟通回款计划", "拜访客户老板，确认分批付款安排"),
    CollectionMethod.EMAIL: ("邮件发送催款函及对账单",),
    CollectionMethod.LETTER: ("寄送书面催款函（EMS）",),
    CollectionMethod.LEGAL: ("委托律师发送律师函", "已准备诉讼材料，等待法务审核"),
}  # fmt: skip
RECORD_METHODS = (CollectionMethod.PHONE, CollectionMethod.MESSAGE, CollectionMethod.VISIT,
                  CollectionMethod.EMAIL, CollectionMethod.LETTER)  # fmt: skip
RECORD_METHOD_WEIGHTS = (50, 25, 12, 8, 5)
WRITE_OFF_REASONS = (
    "客户已注销，无财产可供执行",
    "客户破产清算，债权申报后无法受偿",
    "逾期超过一年，多次催收无果，诉讼成本高于欠款",
    "法院终结本次执行程序",
)

# An installment while it is generated (index = position in `rows`).
(I_ID, I_CONTRACT, I_CUSTOMER, I_OWNER, I_SEQ, I_KIND, I_DUE, I_AMOUNT, I_RATE, I_RATE4,
 I_GRACE, I_SIGNED_AT, I_SIGNED, I_LIMIT, I_BAD, I_WRITE_OFF) = range(16)  # fmt: skip


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _bucket(days: int) -> int:
    if days <= 0:
        return 0
    return 1 if days <= 30 else 2 if days <= 60 else 3 if days <= 90 else 4


def _terms() -> tuple[list[list], dict[int, tuple[int | None, str]]]:
    """The payment terms of the signed contracts that have no installments yet, by customer
    then due date, as mutable rows; and each customer's (owner, name)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.customer_id, c.id, c.owner_id, c.status, c.signed_on,
                   c.signed_at AT TIME ZONE %(tz)s,
                   (COALESCE(c.completed_at, c.terminated_at) AT TIME ZONE %(tz)s)::date,
                   c.penalty_rate_per_day, c.grace_days, t.sequence, t.kind, t.due_date,
                   t.amount
              FROM contracts_paymentterm t JOIN contracts_contract c ON c.id = t.contract_id
             WHERE c.status IN ('signed', 'executing', 'completed', 'terminated')
               AND c.signed_on IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM receivables_installment i
                                WHERE i.contract_id = c.id)
             ORDER BY c.customer_id, t.due_date, c.id, t.sequence
            """,
            {"tz": settings.TIME_ZONE},
        )
        rows = []
        for (customer, contract, owner, status, signed, signed_at, ended, rate, grace, seq,
             kind, due, amount) in cursor.fetchall():  # fmt: skip
            # Paid by the completion: the last day money can move for a completed contract.
            limit = ended.toordinal() if status == "completed" else None
            rows.append([
                None, contract, customer, owner, seq, kind, due.toordinal(), int(amount * 100),
                str(rate), int(rate * 10000), grace, signed_at, signed.toordinal(), limit,
                status == "terminated", None,
            ])  # fmt: skip
        customers = sorted({row[I_CUSTOMER] for row in rows})
        cursor.execute(
            "SELECT id, owner_id, name FROM customers_customer WHERE id = ANY(%s)", [customers]
        )
        names = {pk: (owner, name) for pk, owner, name in cursor.fetchall()}
    return rows, names


def _users() -> tuple[list[int], list[int]]:
    """(finance users, ERP integration users) to record, allocate and write off."""
    finance = list(
        User.objects.filter(role__in=[Role.FINANCE], is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    ) or list(User.objects.filter(is_superuser=True).order_by("id").values_list("id", flat=True))
    if not finance:
        finance = [User.objects.order_by("id").values_list("id", flat=True).first()]
    erp = list(
        User.objects.filter(role=Role.INTEGRATION, is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return finance, erp or finance


def _delay(rng) -> int:
    roll = rng.random()
    for share, first, last in DELAYS:
        if roll < share:
            return rng.randint(first, last)
        roll -= share
    return rng.randint(DELAYS[-1][1], DELAYS[-1][2])


def load(ctx: ScaleContext) -> None:
    """Copy the receivables; see the module docstring."""
    rng = ctx.rng("receivables")
    now = local_now(ctx)
    today = now.date()
    T = today.toordinal()
    last_day = T - 1  # money moves up to yesterday
    rows, customers = _terms()
    if not rows:
        ctx.log("  no signed contract without installments: nothing to load")
        return
    finance, erp = _users()
    chain = jobs.escalation_chain()
    ids = ctx.reserve_ids(Installment, len(rows))
    for pk, row in zip(ids, rows, strict=True):
        row[I_ID] = pk

    # 1. What each installment's customer pays and when: parts (customer, day, row, cents,
    #    the latest day it may move to) of the money that moved by yesterday.
    parts: list[tuple[int, int, int, int, int]] = []
    for index, row in enumerate(rows):
        due, amount, signed = row[I_DUE], row[I_AMOUNT], row[I_SIGNED]
        earliest = max(signed, due - 15)
        latest = row[I_LIMIT] if row[I_LIMIT] is not None else last_day
        bad = row[I_LIMIT] is None and rng.random() < (
            BAD_DEBT_TERMINATED if row[I_BAD] else BAD_DEBT
        )
        row[I_BAD] = bad
        if bad:
            pay_day = None  # never
            age = T - due
            if age > WRITE_OFF_AFTER and rng.random() < min(0.9, age / 730):
                last = min(last_day, due + 365)
                row[I_WRITE_OFF] = rng.randint(due + WRITE_OFF_AFTER, max(due + 180, last))
        else:
            pay_day = max(due + _delay(rng), earliest)
            if row[I_LIMIT] is not None:  # paid by the completion
                pay_day = min(pay_day, row[I_LIMIT])
        first_part = 0
        if amount >= 200 and rng.random() < (TWO_PARTS if not bad else 0.3):
            # A part first (20–70 %, in hundreds of yuan when the sum allows).
            first_part = amount * rng.randint(20, 70) // 100
            if first_part > 10_000:
                first_part -= first_part % 10_000
            first_part = max(1, min(first_part, amount - 1))
            end = pay_day if pay_day is not None else min(due + 60, last_day)
            if row[I_WRITE_OFF] is not None:
                end = min(end, row[I_WRITE_OFF] - 1)
            first_day = rng.randint(earliest, max(earliest, end))
            if first_day <= min(latest, last_day) and (pay_day is None or first_day < pay_day):
                until = min(latest, pay_day - 1 if pay_day is not None else last_day)
                if row[I_WRITE_OFF] is not None:
                    until = min(until, row[I_WRITE_OFF] - 1)
                parts.append((row[I_CUSTOMER], first_day, index, first_part, until))
            else:
                first_part = 0
        if pay_day is not None and pay_day <= last_day:
            parts.append((row[I_CUSTOMER], pay_day, index, amount - first_part, latest))
    parts.sort()

    # 2. Parts into payments: neighbours of a customer are often one transfer (月结: dated
    #    the last one's day, the earlier installments paid that much later), as many as it
    #    takes to give `sizes["payments"]` payments with the reversed and the not yet
    #    allocated ones.
    wanted = ctx.sizes.get("payments", len(parts))
    reversed_count = round(wanted * REVERSED)
    advance_target = round(wanted * ADVANCE)
    target_groups = max(1, wanted - reversed_count - advance_target)
    groups = _group(rng, parts, target_groups)
    advance_count = wanted - reversed_count - len(groups)
    if advance_count < 0:
        ctx.log(f"  {len(groups):,} payments are needed for the money paid: more than asked")
        advance_count = 0
        reversed_count = min(reversed_count, max(0, wanted - len(groups)))

    # 3. The allocations of each installment (day, cents) and the payments.
    allocations_of: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for group in groups:
        day = group[0]
        for part_index in group[1]:
            _c, _d, index, cents, _latest = parts[part_index]
            allocations_of[index].append((day, cents))

    installment_rows: list[tuple] = []
    accruals: list[tuple] = []
    tasks: list[tuple] = []
    records: list[tuple] = []
    write_offs: list[tuple] = []
    on_hold_since: dict[int, int] = {}
    one_am = {}

    def at_one(day: int) -> datetime:
        moment = one_am.get(day)
        if moment is None:
            moment = one_am[day] = aware(local_at(date.fromordinal(day), 1))
        return moment

    for index, row in enumerate(rows):
        due, amount, rate4, grace = row[I_DUE], row[I_AMOUNT], row[I_RATE4], row[I_GRACE]
        owner, customer = row[I_OWNER], row[I_CUSTOMER]
        allocs = sorted(allocations_of.get(index, ()))
        paid = sum(cents for _d, cents in allocs)
        written_off_day = row[I_WRITE_OFF]
        written_off = amount - paid if written_off_day is not None else 0
        if written_off_day is not None:
            status = InstallmentStatus.WRITTEN_OFF
            closed = written_off_day
        elif paid == amount:
            status = InstallmentStatus.PAID
            closed = allocs[-1][0]
        else:
            closed = None
            if paid:
                status = InstallmentStatus.PARTIALLY_PAID
            else:
                status = InstallmentStatus.DUE if due <= T else InstallmentStatus.SCHEDULED
        open_now = closed is None
        overdue = T - due if open_now and due < T else 0
        # The job saw it open (and past due) up to the day it was closed, that day included.
        seen_overdue = (min(closed, T) if closed is not None else T) - due
        escalated = _bucket(seen_overdue)
        # Penalty interest: one row a day on what was open that day (money allocated on a
        # day counts from the next day: the job runs first).
        penalty = 0
        if rate4 and seen_overdue > grace:
            last = min(closed, T) if closed is not None else T
            principal = amount
            k = 0
            for day in range(due + grace + 1, last + 1):
                while k < len(allocs) and allocs[k][0] < day:
                    principal -= allocs[k][1]
                    k += 1
                cents = (principal * rate4 + 500_000) // 1_000_000
                penalty += cents
                accruals.append((row[I_ID], date.fromordinal(day), _money(principal), row[I_RATE],
                                 _money(cents), at_one(day)))  # fmt: skip
        # A task for each bucket 1–3 it went through, for whom that bucket escalates to.
        supervisor, manager = chain.get(owner, (None, None))
        assignees = {1: owner, 2: supervisor or owner, 3: manager or supervisor or owner}
        for bucket in range(1, min(escalated, 3) + 1):
            opened = due + BUCKET_STARTS[bucket]
            current = open_now and bucket == min(escalated, 3)
            if closed is not None:
                done = min(now, local_at(date.fromordinal(max(closed, opened)), 17))
            elif not current and rng.random() < 0.7:
                done = min(now, local_at(date.fromordinal(opened + rng.randint(1, 25)), 16))
            elif current and rng.random() < 0.25:
                done = min(now, local_at(date.fromordinal(opened + rng.randint(0, 5)), 16))
            else:
                done = None
            created = at_one(opened)
            tasks.append((
                row[I_ID], customer, assignees[bucket], bucket,
                CollectionTaskStatus.DONE if done else CollectionTaskStatus.OPEN,
                date.fromordinal(opened + TASK_DUE_DAYS), aware(done), created,
                aware(done) or created,
            ))  # fmt: skip
        # Collection records: for what is overdue now, and some of what was paid late.
        if (open_now and overdue > 1) or (not open_now and seen_overdue > 7 and
                                          rng.random() < 0.3):  # fmt: skip
            first, end = due + 1, min(closed if closed is not None else last_day, last_day)
            count = 1 if not open_now else rng.randint(1, min(4, 1 + overdue // 30))
            if end >= first:
                for _ in range(count):
                    day = rng.randint(first, end)
                    method = (
                        CollectionMethod.LEGAL
                        if day - due > 90 and rng.random() < 0.2
                        else rng.choices(RECORD_METHODS, RECORD_METHOD_WEIGHTS)[0]
                    )
                    open_then = amount - sum(c for d, c in allocs if d < day)
                    promised_on = promised = None
                    promise = PromiseStatus.NONE
                    if rng.random() < 0.4 and open_then > 0:
                        promised_on = date.fromordinal(day + rng.randint(3, 20))
                        promised = open_then if rng.random() < 0.7 else max(1, open_then // 2)
                        promise = PromiseStatus.PENDING
                    created = aware(local_at(date.fromordinal(day), rng.randint(9, 18),
                                             rng.randint(0, 59)))  # fmt: skip
                    records.append((
                        customer, row[I_ID], None,
                        owner if rng.random() < 0.8 else assignees[min(max(escalated, 1), 3)],
                        method, rng.choice(COLLECTION_NOTES[method]), promised_on,
                        _money(promised) if promised else None, promise, created, created,
                    ))  # fmt: skip
        if written_off_day is not None:
            approved = aware(local_at(date.fromordinal(written_off_day), 15))
            write_offs.append((
                row[I_ID], rng.choice(finance), _money(written_off), rng.choice(WRITE_OFF_REASONS),
                WriteOffStatus.APPROVED, "", approved,
                aware(local_at(date.fromordinal(written_off_day - rng.randint(3, 20)), 10)),
                approved,
            ))  # fmt: skip
        elif open_now and overdue > 180 and rng.random() < 0.1:
            drafted = aware(local_at(date.fromordinal(last_day - rng.randint(0, 20)), 11))
            write_offs.append((
                row[I_ID], rng.choice(finance), _money(amount - paid),
                rng.choice(WRITE_OFF_REASONS), WriteOffStatus.DRAFT, "", None, drafted, drafted,
            ))  # fmt: skip
        if open_now and overdue > settings.RECEIVABLES_CREDIT_HOLD_DAYS:
            held = due + settings.RECEIVABLES_CREDIT_HOLD_DAYS + 1
            on_hold_since[customer] = min(on_hold_since.get(customer, held), held)
        # Last changed: signed, allocated, written off, or by the job (made due on its due
        # date, then every day while overdue).
        touches = [row[I_SIGNED_AT]]
        if allocs:
            touches.append(local_at(date.fromordinal(allocs[-1][0]), 17))
        if written_off_day is not None:
            touches.append(local_at(date.fromordinal(written_off_day), 15))
        if seen_overdue >= 0:
            touches.append(local_at(date.fromordinal(due + seen_overdue), 1))
        updated = max(touches)
        installment_rows.append((
            row[I_ID], row[I_CONTRACT], customer, owner, row[I_SEQ], row[I_KIND],
            date.fromordinal(due), _money(amount), _money(paid), _money(written_off), status,
            overdue, _bucket(overdue), escalated, _money(penalty),
            date.fromordinal(closed) if status == InstallmentStatus.PAID else None,
            aware(row[I_SIGNED_AT]), aware(updated),
        ))  # fmt: skip
    ctx.copy(Installment, INSTALLMENT_COLUMNS, installment_rows,
              expected=len(installment_rows))  # fmt: skip
    del installment_rows

    # 4. Payments (ids in the order received) and allocations.
    payments, allocations = _payments(
        ctx, rng, parts, groups, rows, customers, finance, erp, reversed_count, advance_count,
        last_day,
    )  # fmt: skip
    ctx.copy(Payment, PAYMENT_COLUMNS, payments, expected=len(payments))
    ctx.copy(Allocation, ALLOCATION_COLUMNS, allocations, expected=len(allocations))
    ctx.copy(PenaltyAccrual, ACCRUAL_COLUMNS, accruals, expected=len(accruals))
    ctx.copy(CollectionTask, TASK_COLUMNS, tasks, expected=len(tasks))
    ctx.copy(CollectionRecord, RECORD_COLUMNS, records, expected=len(records))
    ctx.copy(WriteOff, WRITEOFF_COLUMNS, write_offs, expected=len(write_offs))
    _holds_and_promises(ctx, on_hold_since, today)
    ctx.ids["installments"] = ids


def _group(rng, parts: list[tuple], target: int) -> list[tuple[int, list[int]]]:
    """Consecutive parts of a customer into payments (day, part indexes), about `target` of
    them. A part (then a payment) joins the payment before it when it is the same customer's,
    close enough to that payment's first part, for other installments, and no part of it is
    moved past the day it must have been paid by (its latest). The windows widen until there
    are few enough payments."""
    # [customer, first day, last day, latest allowed, part indexes, installments]
    units = [[c, day, day, latest, [i], {index}]
             for i, (c, day, index, _cents, latest) in enumerate(parts)]  # fmt: skip
    for gap, window in MERGE_WINDOWS:
        excess = len(units) - target
        if excess <= 0:
            break
        candidates = [
            j for j in range(1, len(units))
            if units[j][0] == units[j - 1][0] and units[j][1] - units[j - 1][2] <= gap
            and not units[j][5] & units[j - 1][5]
        ]  # fmt: skip
        chosen = set(rng.sample(candidates, min(excess, len(candidates))))
        merged: list[list] = []
        for j, unit in enumerate(units):
            if j in chosen:
                group = merged[-1]
                if (group[0] == unit[0] and unit[2] - group[1] <= window
                        and unit[2] <= group[3] and not unit[5] & group[5]):  # fmt: skip
                    group[2] = unit[2]
                    group[3] = min(group[3], unit[3])
                    group[4].extend(unit[4])
                    group[5] |= unit[5]
                    continue
            merged.append(unit)
        units = merged
    # The payment's day is its last part's (a transfer pays what came due till then).
    return [(unit[2], unit[4]) for unit in units]


def _payments(ctx, rng, parts, groups, rows, customers, finance, erp, reversed_count,
              advance_count, last_day):  # fmt: skip
    """The payment rows (ids in the order received) and their allocation rows."""
    # (received day, kind, group index or customer, …) — kind 0 allocated, 1 reversed,
    # 2 not allocated yet.
    plans: list[tuple] = [(groups[g][0], 0, g) for g in range(len(groups))]
    for g in sorted(rng.sample(range(len(groups)), min(reversed_count, len(groups)))):
        plans.append((groups[g][0], 1, g))
    with_installments = sorted({row[I_CUSTOMER] for row in rows})
    for _ in range(advance_count):
        day = last_day - rng.randint(0, 59)
        plans.append((day, 2, rng.choice(with_installments)))
    plans.sort()
    payment_ids = ctx.reserve_ids(Payment, len(plans))
    allocation_count = sum(len(groups[g][1]) for _d, kind, g in plans if kind != 2)
    allocation_ids = iter(ctx.reserve_ids(Allocation, allocation_count))
    payments: list[tuple] = []
    allocations: list[tuple] = []
    for pk, (day, kind, ref) in zip(payment_ids, plans, strict=True):
        if kind == 2:
            customer, lines = ref, []
            allocated = 0
            amount = rng.randint(1, 50) * 100_000
        else:
            lines = [(parts[i][2], parts[i][3]) for i in groups[ref][1]]
            customer = parts[groups[ref][1][0]][0]
            allocated = sum(cents for _index, cents in lines)
            amount = allocated
            if kind == 0 and rng.random() < OVER_PAID:
                amount += rng.randint(1, 100) * 10_000  # the rest stays as a credit balance
        received = day - (rng.randint(1, 3) if kind == 0 and rng.random() < 0.2 else 0)
        received_on = date.fromordinal(received)
        owner, name = customers.get(customer, (None, ""))
        posted = rng.random() < ERP_POSTED
        method = rng.choices(METHODS, METHOD_WEIGHTS)[0]
        bank = {PaymentMethod.ACCEPTANCE_BILL: "BA", PaymentMethod.CHEQUE: "CHQ",
                PaymentMethod.CASH: "CASH"}.get(method) or rng.choice(BANKS)  # fmt: skip
        reference = f"{bank}{received_on:%Y%m%d}{pk:09d}"
        recorded = local_at(received_on, rng.randint(9, 11), rng.randint(0, 59))
        allocated_at = local_at(date.fromordinal(day), rng.randint(14, 17), rng.randint(0, 59))
        allocated_at = max(allocated_at, recorded + timedelta(minutes=5))
        reversed_at = None
        if kind == 1:
            reversed_at = allocated_at + timedelta(minutes=rng.randint(10, 50))
        for index, cents in lines:
            allocations.append((
                next(allocation_ids), pk, rows[index][I_ID], _money(cents),
                date.fromordinal(day), rng.choice(finance), aware(reversed_at),
                rng.choice(finance) if reversed_at else None, aware(allocated_at),
            ))  # fmt: skip
        payer = name if rng.random() < 0.95 else f"{person(rng)}（代付）"
        updated = reversed_at or (allocated_at if lines else recorded)
        payments.append((
            pk, customer, owner, _money(amount), received_on, method, reference,
            f"ERP-RCPT-{pk}" if posted else "", payer, rng.choice(PAYMENT_NOTES),
            _money(0 if kind == 1 else allocated),
            PaymentStatus.REVERSED if kind == 1 else PaymentStatus.RECORDED,
            rng.choice(REVERSAL_REASONS) if kind == 1 else "", aware(reversed_at),
            rng.choice(erp if posted else finance), aware(recorded), aware(updated),
        ))  # fmt: skip
    return payments, allocations


def _holds_and_promises(ctx: ScaleContext, on_hold_since: dict[int, int], today: date) -> None:
    """The job's credit hold on customers with money overdue beyond the hold days (a customer
    already on hold keeps its own), then the job's own statement on the promises to pay whose
    date has passed."""
    if on_hold_since:
        customers = sorted(on_hold_since)
        with (
            pgtrigger.ignore("customers.Customer:update_update"),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                """
                UPDATE customers_customer c
                   SET on_credit_hold = true, credit_hold_reason = %s,
                       updated_at = GREATEST(c.updated_at, s.since)
                  FROM unnest(%s::int[], %s::timestamptz[]) AS s(id, since)
                 WHERE c.id = s.id AND NOT c.on_credit_hold
                """,
                [
                    jobs._hold_reason(),
                    customers,
                    [aware(local_at(date.fromordinal(on_hold_since[c]), 1)) for c in customers],
                ],
            )
            ctx.log(f"  customers put on the job's credit hold: {cursor.rowcount:,}")
    statement, params = jobs.positional(
        jobs.statements()["promises"],
        {"today": today, "now": aware(local_at(today, 1)), "tz": settings.TIME_ZONE},
    )
    with (
        pgtrigger.ignore("receivables.CollectionRecord:update_update"),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
        judged = cursor.fetchall()
    kept = sum(1 for _owner, status in judged if status == PromiseStatus.KEPT)
    ctx.log(f"  promises to pay judged: {kept:,} kept, {len(judged) - kept:,} broken")
