"""The daily receivables job (应收日终): due, overdue and aging, penalty interest (逾期罚息),
escalation by aging bucket, credit hold and its release, broken promises to pay.

`receivables_daily_run(today=…)` runs once a day from beat (01:00 business time) and is

- **set-based**: a handful of SQL statements over the whole installment table, whatever its
  size (bench/receivables_daily_job.py: 1,000,000 installments);
- **idempotent**: every statement changes only rows whose values differ (``IS DISTINCT
  FROM``), accruals are unique per installment and day (``ON CONFLICT DO NOTHING``), each
  bucket escalates once (``escalated_bucket``) and its task is unique per (installment,
  bucket); a second run the same day changes nothing and notifies nobody;
- **safe on two workers**: the run takes a transaction-level advisory lock on (job, date); a
  run that finds it taken returns at once with ``skipped=True`` (the other one does the work;
  if it fails, its transaction rolls back and the next run catches up, see below);
- **audited**: everything runs inside ``history_context(job="receivables_daily")``. The
  installment statements write their history events themselves, in the same statement, as
  the pghistory row trigger would (the trigger costs ~0.3 ms a row, see apps/customers/pool.py;
  the job changes every overdue installment every day), and so do the collection tasks it
  opens; the other tables (customers on hold, promises) keep their triggers.

The steps, in order:

1. open installments whose due date came are **due**; **overdue days** (today − due date, for
   an open installment past its due date with money open, else 0) and the **aging bucket**
   (0 current, 1: 1–30 days, 2: 31–60, 3: 61–90, 4: over 90) are brought up to date;
2. **penalty interest**: one `PenaltyAccrual` per open installment per day from due date +
   grace days + 1 to today, principal = the open amount as of the run, amount = principal ×
   the contract's daily rate (%) / 100 rounded half-up to the cent (Postgres ``round`` on
   numeric rounds halves away from zero; amounts are positive). Days missed (a weekend the job
   did not run) are caught up, from the day after the installment's last accrual.
   `penalty_accrued` grows by the sum of the rows inserted, in the same statement, so it
   always equals the sum of its accruals. Steps 1 and 2 are one statement, so an installment
   changes (and gets one history event) at most once a day for both;
3. **escalation**, once per bucket: an open installment whose bucket is above its
   `escalated_bucket` escalates to its current bucket only — a jump straight from current to
   bucket 3 (the job did not run for weeks, or a back-dated installment) escalates to the
   manager and the credit hold, not again to the rep and the supervisor:
   bucket 1 → the owner (rep) is reminded and gets a collection task;
   bucket 2 → the owner's supervisor (the nearest head above the owner) and a task for them;
   bucket 3 → the manager (the next head above the supervisor) and a task for them, and the
   customer goes on **credit hold** (unless it is on hold already);
   bucket 4 → a bad-debt warning (坏账预警) to every finance user;
4. **release** of the holds this job set (their reason starts with `AUTO_HOLD_PREFIX`) for
   customers none of whose open installments is overdue more than
   `settings.RECEIVABLES_CREDIT_HOLD_DAYS` any more. A hold set by finance by hand is never
   released by the job. Releases run before new holds, so a hold set today stays until the
   next run at least (keep the setting at 60, where bucket 3 starts);
5. **promises to pay** whose date has passed: kept when the customer's payments received from
   the day the record was made up to the promised date (reversed ones excluded) add up to the
   promised amount, else broken; the recorder is told of broken ones, once.

Notifications are aggregated: one per recipient per run, listing the counts. They are written
in the job's transaction, so a run that rolls back notifies nobody (e-mails go on commit).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pgtrigger
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pghistory.models import Context

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.core.history import history_context
from apps.notifications.services import notify
from apps.webhooks.choices import EventType
from apps.webhooks.events import credit_events, overdue_events

JOB = "receivables_daily"
# Marks a credit hold set by this job (the only ones it releases). Kept in
# `Customer.credit_hold_reason`, language-independent.
AUTO_HOLD_PREFIX = "[receivables_daily] "
# Days a collection task opened by the job is due in.
TASK_DUE_DAYS = 3
LOCK_KEY = zlib.crc32(JOB.encode()) & 0x7FFFFFFF

OPEN = ("scheduled", "due", "partially_paid")
_OPEN_SQL = "('scheduled', 'due', 'partially_paid')"
INSTALLMENT_UPDATE_TRIGGER = "receivables.Installment:update_update"
TASK_INSERT_TRIGGER = "receivables.CollectionTask:insert_insert"

# Settings for the job's transaction only (``SET LOCAL``): the job is idempotent, so a crash
# right after its commit may lose the commit (it runs again): no need to wait for the WAL.
# JIT compilation of the big statements costs ~3 s each and gains nothing here (measured with
# bench/receivables_daily_job.py).
JOB_SETTINGS = (
    "SET LOCAL synchronous_commit = off",
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL jit = off",
)


# --- the SQL ----------------------------------------------------------------------------
# Expressions over the installment row `i` as it is when the UPDATE reaches it (so that an
# allocation committed meanwhile is taken into account, never overwritten).
_OPEN_AMOUNT = "(i.amount - i.paid_amount - i.written_off_amount)"
_OVERDUE_DAYS = (
    f"(CASE WHEN i.status IN {_OPEN_SQL} AND i.due_date < %(today)s AND {_OPEN_AMOUNT} > 0 "
    "THEN %(today)s::date - i.due_date ELSE 0 END)"
)
_BUCKET = (
    f"(CASE WHEN {_OVERDUE_DAYS} = 0 THEN 0 WHEN {_OVERDUE_DAYS} <= 30 THEN 1 "
    f"WHEN {_OVERDUE_DAYS} <= 60 THEN 2 WHEN {_OVERDUE_DAYS} <= 90 THEN 3 ELSE 4 END)"
)
_STATUS = (
    "(CASE WHEN i.status = 'scheduled' AND i.due_date <= %(today)s THEN 'due' ELSE i.status END)"
)

# Steps 1 and 2 in one statement: the candidates (open, due by today) → their accruals since
# the last one (or the first day after the grace days) → one UPDATE of status, overdue days,
# bucket and accrued penalty where any of them changes.
AGING_AND_PENALTY_SQL = f"""
WITH cand AS (
    SELECT i.id, i.due_date, {_OPEN_AMOUNT} AS open_amount,
           c.grace_days, c.penalty_rate_per_day AS rate
      FROM receivables_installment i
      JOIN contracts_contract c ON c.id = i.contract_id
     WHERE i.status IN {_OPEN_SQL} AND i.due_date <= %(today)s
),
accrue AS (
    INSERT INTO receivables_penaltyaccrual
           (installment_id, accrual_date, principal, rate_per_day, amount, created_at)
    SELECT cand.id, day::date, cand.open_amount, cand.rate,
           round(cand.open_amount * cand.rate / 100, 2), %(now)s
      FROM cand
     CROSS JOIN LATERAL generate_series(
           GREATEST(
               cand.due_date + cand.grace_days + 1,
               (SELECT max(a.accrual_date) + 1 FROM receivables_penaltyaccrual a
                 WHERE a.installment_id = cand.id)
           )::timestamp,
           %(today)s::timestamp, interval '1 day') AS day
     WHERE cand.open_amount > 0 AND cand.rate > 0
       AND cand.due_date + cand.grace_days < %(today)s
    ON CONFLICT (installment_id, accrual_date) DO NOTHING
    RETURNING installment_id, amount
),
accrued AS (
    SELECT installment_id, sum(amount) AS total, count(*) AS days
      FROM accrue GROUP BY installment_id
),
target AS (
    SELECT cand.id, COALESCE(accrued.total, 0) AS added
      FROM cand LEFT JOIN accrued ON accrued.installment_id = cand.id
),
changed AS (
    UPDATE receivables_installment i
       SET status = {_STATUS}, overdue_days = {_OVERDUE_DAYS}, aging_bucket = {_BUCKET},
           penalty_accrued = i.penalty_accrued + t.added, updated_at = %(now)s
      FROM target t
     WHERE i.id = t.id
       -- The same rows again, as an array the primary key is probed with: without it the
       -- planner hashes the whole installment table to join the candidates (~2 s a run at
       -- 1M installments, bench/receivables_daily_job.py). An id never changes, so a row
       -- updated meanwhile is still taken (and its latest values used, as above).
       AND i.id = ANY(ARRAY(SELECT id FROM cand))
       AND (i.status IS DISTINCT FROM {_STATUS}
            OR i.overdue_days IS DISTINCT FROM {_OVERDUE_DAYS}
            OR i.aging_bucket IS DISTINCT FROM {_BUCKET}
            OR t.added <> 0)
 RETURNING i.*
),
events AS ({{events}})
SELECT (SELECT count(*) FROM changed),
       (SELECT count(*) FROM changed WHERE status = 'due' AND due_date = %(today)s),
       (SELECT count(*) FROM accrue),
       (SELECT COALESCE(sum(amount), 0) FROM accrue)
"""  # noqa: S608 (constant SQL, no input)

# Rows the candidates above do not cover whose overdue days are not 0 any more: paid or
# written off since, or moved to a later due date.
RESET_SQL = f"""
WITH changed AS (
    UPDATE receivables_installment i
       SET overdue_days = 0, aging_bucket = 0, updated_at = %(now)s
     WHERE (i.overdue_days <> 0 OR i.aging_bucket <> 0) AND {_OVERDUE_DAYS} = 0
 RETURNING i.*
),
events AS ({{events}})
SELECT count(*) FROM changed
"""  # noqa: S608 (constant SQL, no input)

# Step 3: each installment escalates to its current bucket, once; the task of buckets 1–3
# goes to the owner, the supervisor, the manager (unnest of the chain of every owner).
ESCALATION_SQL = f"""
WITH changed AS (
    UPDATE receivables_installment i
       SET escalated_bucket = i.aging_bucket, updated_at = %(now)s
     WHERE i.status IN {_OPEN_SQL} AND i.due_date < %(today)s
       AND i.aging_bucket > i.escalated_bucket
 RETURNING i.*
),
events AS ({{events}}),
chain AS (
    SELECT * FROM unnest(%(owners)s::int[], %(supervisors)s::int[], %(managers)s::int[])
        AS t(owner_id, supervisor_id, manager_id)
),
tasks AS (
    INSERT INTO receivables_collectiontask
           (installment_id, customer_id, owner_id, bucket, status, due_on, created_at,
            updated_at)
    SELECT e.id, e.customer_id,
           CASE e.aging_bucket
               WHEN 1 THEN e.owner_id
               WHEN 2 THEN COALESCE(ch.supervisor_id, e.owner_id)
               ELSE COALESCE(ch.manager_id, ch.supervisor_id, e.owner_id)
           END,
           e.aging_bucket, 'open', %(task_due)s, %(now)s, %(now)s
      FROM changed e LEFT JOIN chain ch ON ch.owner_id = e.owner_id
     WHERE e.aging_bucket BETWEEN 1 AND 3
    ON CONFLICT (installment_id, bucket) DO NOTHING
    RETURNING *
),
task_events AS ({{task_events}})
SELECT e.aging_bucket, e.owner_id, e.customer_id, (SELECT count(*) FROM tasks), e.id
  FROM changed e
"""  # noqa: S608 (constant SQL, no input)

RELEASE_SQL = f"""
UPDATE customers_customer c
   SET on_credit_hold = false, credit_hold_reason = '', updated_at = %(now)s
 WHERE c.on_credit_hold AND c.credit_hold_reason LIKE %(prefix)s
   AND NOT EXISTS (
       SELECT 1 FROM receivables_installment i
        WHERE i.customer_id = c.id AND i.status IN {_OPEN_SQL}
          AND i.due_date < %(hold_since)s AND {_OPEN_AMOUNT} > 0)
RETURNING c.id, c.owner_id
"""  # noqa: S608 (constant SQL, no input)

HOLD_SQL = """
UPDATE customers_customer c
   SET on_credit_hold = true, credit_hold_reason = %(reason)s, updated_at = %(now)s
 WHERE c.id = ANY(%(customers)s::int[]) AND NOT c.on_credit_hold
RETURNING c.id, c.owner_id
"""

PROMISE_SQL = """
UPDATE receivables_collectionrecord r
   SET promise_status = CASE WHEN s.paid >= r.promised_amount THEN 'kept' ELSE 'broken' END,
       updated_at = %(now)s
  FROM (
      SELECT r2.id, COALESCE((
          SELECT sum(p.amount) FROM receivables_payment p
           WHERE p.customer_id = r2.customer_id AND p.status = 'recorded'
             AND p.received_on >= (r2.created_at AT TIME ZONE %(tz)s)::date
             AND p.received_on <= r2.promised_on), 0) AS paid
        FROM receivables_collectionrecord r2
       WHERE r2.promise_status = 'pending' AND r2.promised_on < %(today)s
  ) s
 WHERE r.id = s.id AND r.promise_status = 'pending'
RETURNING r.owner_id, r.promise_status
"""


_NAMED = re.compile(r"%\((\w+)\)s")


def positional(statement: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`statement` with ``%(name)s`` placeholders as ``%s`` and its parameters in order:
    pgtrigger and pghistory prefix every statement with positional placeholders of their own,
    which psycopg cannot mix with named ones."""
    order: list[Any] = []

    def take(match: re.Match) -> str:
        order.append(params[match.group(1)])
        return "%s"

    return _NAMED.sub(take, statement), order


def _execute(cursor: Any, statement: str, params: dict[str, Any]) -> None:
    cursor.execute(*positional(statement, params))


def _events_sql(
    source: str = "changed", label: str = "update", event: str = "InstallmentEvent"
) -> str:
    """``INSERT`` of one history event (model `event`) per row of the CTE `source`, as the
    pghistory row trigger would write it (context: the parameter ``%(context)s``)."""
    event_model = django_apps.get_model("receivables", event)
    quote = connection.ops.quote_name
    computed = {
        "pgh_created_at": "NOW()",
        "pgh_label": f"'{label}'",
        "pgh_obj_id": "id",
        "pgh_context_id": "%(context)s::uuid",
    }
    columns = [f.column for f in event_model._meta.concrete_fields if f.column != "pgh_id"]
    values = ", ".join(computed.get(c, quote(c)) for c in columns)
    table, names = quote(event_model._meta.db_table), ", ".join(map(quote, columns))
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {source}"  # noqa: S608


def statements() -> dict[str, str]:
    """The job's statements by name (the benchmark EXPLAINs them)."""
    events = _events_sql()
    return {
        "aging_and_penalty": AGING_AND_PENALTY_SQL.replace("{events}", events),
        "reset": RESET_SQL.replace("{events}", events),
        "escalation": ESCALATION_SQL.replace("{events}", events).replace(
            "{task_events}", _events_sql("tasks", "insert", "CollectionTaskEvent")
        ),
        "release": RELEASE_SQL,
        "hold": HOLD_SQL,
        "promises": PROMISE_SQL,
    }


# --- who gets what ----------------------------------------------------------------------


def escalation_chain() -> dict[int, tuple[int | None, int | None]]:
    """{user id: (supervisor id, manager id)} for every user in a unit: the supervisor is the
    nearest active head above the user (not the user), the manager the next one above that
    (as `apps.accounts.selectors.supervisor_of`, one level further). Two queries."""
    units = {u.pk: u for u in OrgUnit.objects.only("id", "parent_id", "head_id")}
    active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
    chain: dict[int, tuple[int | None, int | None]] = {}
    for user_id, unit_id in User.objects.filter(org_unit__isnull=False).values_list(
        "pk", "org_unit_id"
    ):
        heads: list[int] = []
        unit = units.get(unit_id)
        seen: set[int] = set()
        while unit is not None and unit.pk not in seen and len(heads) < 2:
            seen.add(unit.pk)
            head = unit.head_id
            if head and head != user_id and head in active and head not in heads:
                heads.append(head)
            unit = units.get(unit.parent_id) if unit.parent_id else None
        chain[user_id] = (heads[0] if heads else None, heads[1] if len(heads) > 1 else None)
    return chain


@dataclass
class DailyRun:
    """What one run did (all zero on a second run the same day)."""

    today: date
    skipped: bool = False
    became_due: int = 0
    installments_changed: int = 0
    reset: int = 0
    accruals: int = 0
    penalty_amount: Any = 0
    escalated: dict[int, int] = field(default_factory=dict)  # bucket → installments
    tasks: int = 0
    holds_set: int = 0
    holds_released: int = 0
    promises_kept: int = 0
    promises_broken: int = 0
    notified: int = 0

    @property
    def changes(self) -> int:
        return (
            self.installments_changed + self.reset + self.accruals + sum(self.escalated.values())
            + self.tasks + self.holds_set + self.holds_released + self.promises_kept
            + self.promises_broken
        )  # fmt: skip


# Lines of the aggregated notification, by kind.
def _line(kind: str, count: int) -> str:
    days = settings.RECEIVABLES_CREDIT_HOLD_DAYS
    texts = {
        "bucket1": lambda: ngettext(
            "%(count)d installment of your customers is now overdue: a collection task is open.",
            "%(count)d installments of your customers are now overdue: a collection task is "
            "open for each.",
            count,
        ),
        "bucket2": lambda: ngettext(
            "%(count)d installment in your team is overdue more than 30 days: a collection "
            "task is open for you.",
            "%(count)d installments in your team are overdue more than 30 days: a collection "
            "task is open for you for each.",
            count,
        ),
        "bucket3": lambda: ngettext(
            "%(count)d installment is overdue more than 60 days: a collection task is open for "
            "you and the customer is on credit hold.",
            "%(count)d installments are overdue more than 60 days: a collection task is open "
            "for you for each and their customers are on credit hold.",
            count,
        ),
        "bucket4": lambda: ngettext(
            "Bad-debt warning: %(count)d installment is overdue more than 90 days.",
            "Bad-debt warning: %(count)d installments are overdue more than 90 days.",
            count,
        ),
        "hold": lambda: ngettext(
            "%(count)d of your customers was put on credit hold for overdue receivables.",
            "%(count)d of your customers were put on credit hold for overdue receivables.",
            count,
        ),
        "released": lambda: ngettext(
            "The credit hold of %(count)d of your customers was released: nothing is overdue "
            "more than %(days)d days any more.",
            "The credit holds of %(count)d of your customers were released: nothing is overdue "
            "more than %(days)d days any more.",
            count,
        ),
        "broken": lambda: ngettext(
            "%(count)d promise to pay that you recorded was broken.",
            "%(count)d promises to pay that you recorded were broken.",
            count,
        ),
    }
    return texts[kind]() % {"count": count, "days": days}


LINE_ORDER = ("bucket1", "bucket2", "bucket3", "bucket4", "hold", "released", "broken")


def _url(*names: str) -> str:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _notify_all(counts: dict[int, Counter]) -> int:
    """One notification per recipient listing their counts; recipients with the same counts
    share one `notify` call (one INSERT)."""
    if not counts:
        return 0
    users = {u.pk: u for u in User.objects.filter(pk__in=list(counts), is_active=True)}
    groups: dict[tuple, list[User]] = defaultdict(list)
    for user_id, counter in counts.items():
        if user_id in users:
            key = tuple((kind, counter[kind]) for kind in LINE_ORDER if counter[kind])
            groups[key].append(users[user_id])
    sent = 0
    for key, recipients in groups.items():
        kinds = {kind for kind, _n in key}
        if kinds & {"bucket1", "bucket2", "bucket3"}:
            url = _url("receivables:collection_task_list", "receivables:my_overdue")
        elif "bucket4" in kinds:
            url = _url("receivables:workbench")
        elif "broken" in kinds:
            url = _url("receivables:collection_list", "receivables:my_overdue")
        else:
            url = _url("receivables:my_overdue")
        notify(
            recipients=recipients,
            title=_("Receivables: overdue and collection"),
            body="\n".join(_line(kind, n) for kind, n in key),
            url=url,
        )
        sent += len(recipients)
    return sent


# --- the job ----------------------------------------------------------------------------


def _save_context(context: Any) -> str:
    """The history context row of the run (what pghistory's trigger would upsert)."""
    Context.objects.update_or_create(id=context.id, defaults={"metadata": context.metadata})
    return str(context.id)


def _hold_reason() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Overdue more than %(days)d days (set by the daily receivables job).") % {
            "days": settings.RECEIVABLES_CREDIT_HOLD_DAYS
        }
    return (AUTO_HOLD_PREFIX + text)[:300]


@transaction.atomic
def receivables_daily_run(*, today: date | None = None, now: datetime | None = None) -> DailyRun:
    """Run the daily receivables job for `today` (default: today in the business time zone);
    see the module docstring for the steps. Returns what changed; ``skipped`` when another
    run for the same day holds the lock."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    run = DailyRun(today=today)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_KEY, today.toordinal()])
        if not cursor.fetchone()[0]:
            run.skipped = True
            return run

    counts: dict[int, Counter] = defaultdict(Counter)
    chain = escalation_chain()
    sql = statements()
    with history_context(job=JOB, date=today.isoformat()) as context:
        params: dict[str, Any] = {
            "today": today,
            "now": now,
            "context": _save_context(context),
            "task_due": today + timedelta(days=TASK_DUE_DAYS),
            "owners": list(chain),
            "supervisors": [pair[0] for pair in chain.values()],
            "managers": [pair[1] for pair in chain.values()],
            "prefix": AUTO_HOLD_PREFIX.replace("_", "\\_") + "%",  # `_` is a LIKE wildcard
            "hold_since": today - timedelta(days=settings.RECEIVABLES_CREDIT_HOLD_DAYS),
            "reason": _hold_reason(),
            "tz": settings.TIME_ZONE,
        }
        with (
            pgtrigger.ignore(INSTALLMENT_UPDATE_TRIGGER, TASK_INSERT_TRIGGER),
            connection.cursor() as cursor,
        ):
            for setting in JOB_SETTINGS:
                cursor.execute(setting)

            # 1–2. due, overdue days, aging bucket, penalty interest.
            _execute(cursor, sql["aging_and_penalty"], params)
            changed, became_due, accruals, penalty = cursor.fetchone()
            run.installments_changed, run.became_due = changed, became_due
            run.accruals, run.penalty_amount = accruals, penalty
            _execute(cursor, sql["reset"], params)
            run.reset = cursor.fetchone()[0]

            # 3. escalation, once per bucket.
            _execute(cursor, sql["escalation"], params)
            rows = cursor.fetchall()
        run.tasks = rows[0][3] if rows else 0
        escalated: Counter = Counter()
        held_customers: set[int] = set()
        finance_ids: list[int] = []
        if any(row[0] == 4 for row in rows):
            finance_ids = list(
                User.objects.filter(role=Role.FINANCE, is_active=True).values_list("pk", flat=True)
            )
        for bucket, owner_id, customer_id, _tasks, _installment in rows:
            escalated[bucket] += 1
            supervisor, manager = chain.get(owner_id, (None, None))
            if bucket == 1:
                counts[owner_id]["bucket1"] += 1
            elif bucket == 2:
                counts[supervisor or owner_id]["bucket2"] += 1
            elif bucket == 3:
                counts[manager or supervisor or owner_id]["bucket3"] += 1
            else:
                for finance_id in finance_ids:
                    counts[finance_id]["bucket4"] += 1
            if bucket >= 3:
                held_customers.add(customer_id)
        run.escalated = dict(sorted(escalated.items()))
        # The ERP learns when an installment falls overdue and each time it ages a bucket.
        overdue_events(row[4] for row in rows)

        with connection.cursor() as cursor:
            # 4. release the job's holds where nothing is overdue beyond the limit, then hold.
            _execute(cursor, sql["release"], params)
            released = cursor.fetchall()
            run.holds_released = len(released)
            credit_events(EventType.CUSTOMER_CREDIT_RELEASED, (c for c, _o in released))
            for _customer, owner_id in released:
                if owner_id:
                    counts[owner_id]["released"] += 1
            if held_customers:
                _execute(cursor, sql["hold"], {**params, "customers": sorted(held_customers)})
                held = cursor.fetchall()
                run.holds_set = len(held)
                credit_events(
                    EventType.CUSTOMER_CREDIT_HOLD, (c for c, _o in held), reason=params["reason"]
                )
                for _customer, owner_id in held:
                    if owner_id:
                        counts[owner_id]["hold"] += 1

            # 5. promises to pay whose date has passed.
            _execute(cursor, sql["promises"], params)
            for owner_id, status in cursor.fetchall():
                if status == "kept":
                    run.promises_kept += 1
                else:
                    run.promises_broken += 1
                    counts[owner_id]["broken"] += 1

        run.notified = _notify_all(counts)
    return run
