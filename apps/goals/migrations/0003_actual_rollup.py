"""The exact monthly rollup of the actuals (`rollup.py`): `ActualMonth` (the grouped sums of a
sealed month) and `ActualMonthState` (its version), and the triggers that bump the version of
every (metric, month) whose documents change, whatever writes them (a service, the admin, a
data load, a cascade).

Statement-level AFTER triggers with transition tables: PostgreSQL does not allow transition
tables on a trigger with more than one event or with a column list, so each table has one
trigger per event (INSERT, UPDATE, DELETE) sharing one function. Each function runs one
set-based statement: the changed rows' days → the months they fall in → one
INSERT … ON CONFLICT (metric, month) DO UPDATE SET version = version + 1, in (metric, month)
order (so that two writers lock the state rows in the same order).

Only months before the current one (in the project's time zone, at the statement's clock:
a transaction that began before midnight and writes after it still marks) and within the last
37 months are marked: the current month is always computed live, so its writes never touch a
state row, and the readers use the rollup only for months ended before yesterday and within
the last 36 months (`rollup.WINDOW_MONTHS`), one day and one month inside what the writers mark.
A new mark inserts version 1 (a refresh that found no row claims version 0, so a mark made
after its snapshot always makes the claim fail).

Which changes matter, per source of `actuals._SOURCES`:

- contracts: signed amount — the signing months (old and new) of a contract whose owner,
  signing day, amount or terminated-ness changed; new customers — every month from the
  earliest signing day (old or new) of a contract inserted, deleted or whose signing day or
  customer changed (a customer's first contract decides later months), or the signing months
  when only the owner changed;
- payments: collected — the receipt months (old and new) when the receipt day or the reversal
  changed, and of payments inserted or deleted;
- allocations: collected — the receipt months of the payments (old and new) of allocations
  inserted, deleted, or whose payment, installment, amount or reversal changed;
- installments: collected — when the owner changes (a row trigger filtered by WHEN on
  owner_id: the frequent status updates of the receivables jobs cost nothing), the receipt
  months of its allocations' payments;
- visit records: visits and effective visits — the start months (old and new, local time) of
  records whose owner or start changed, effective visits also when `is_effective` changed;
- unit memberships: every metric, every month from the earliest day whose unit changed
  (a membership inserted or deleted: its `valid_from`; an end moved: the earlier end).
"""

from django.conf import settings
from django.db import migrations, models

METRICS = ("contract_amount", "collected", "new_customers", "visits", "effective_visits")

# `hits` yields (metric text, day date, onward boolean): the month of `day`, or with `onward`
# every month from it on, within the window.
MARK = """
    WITH w AS (
        SELECT c.current, (c.current - interval '37 months')::date AS floor
          FROM (SELECT date_trunc('month', clock_timestamp() AT TIME ZONE '{tz}')::date
                       AS current) c
    ), hits (metric, day, onward) AS (
        {hits}
    )
    INSERT INTO goals_actualmonthstate (metric, month, version)
    SELECT DISTINCT h.metric, m.month, 1::bigint
      FROM hits h CROSS JOIN w
     CROSS JOIN LATERAL (
           SELECT gs::date AS month
             FROM generate_series(
                  greatest(date_trunc('month', h.day::timestamp), w.floor::timestamp),
                  CASE WHEN h.onward THEN w.current::timestamp - interval '1 month'
                       ELSE date_trunc('month', h.day::timestamp) END,
                  interval '1 month') gs
           ) m
     WHERE h.day IS NOT NULL AND m.month >= w.floor AND m.month < w.current
     ORDER BY 1, 2
    ON CONFLICT (metric, month) DO UPDATE SET version = goals_actualmonthstate.version + 1;
"""

FUNCTION = """
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {insert}
    ELSIF TG_OP = 'DELETE' THEN
        {delete}
    ELSE
        {update}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {name}_ins AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}();
CREATE TRIGGER {name}_upd AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION {name}();
CREATE TRIGGER {name}_del AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""


def _statement(tz: str, changed: str, hits: str) -> str:
    """One mark statement: `changed` is the CTE of the changed rows (named ch), `hits` reads
    it."""
    return MARK.format(tz=tz, hits=f"WITH ch AS ({changed}) {hits}")


def _function(tz: str, name: str, table: str, *, insert: str, delete: str, update: str,
              hits: str) -> str:  # fmt: skip
    return FUNCTION.format(
        name=name, table=table,
        insert=_statement(tz, insert, hits), delete=_statement(tz, delete, hits),
        update=_statement(tz, update, hits),
    )  # fmt: skip


def _fill(template: str, **parts: str) -> str:
    """A fixed SQL template completed with fixed fragments (no input reaches it)."""
    return template.format(**parts)


BOTH = "SELECT d.day FROM ch, LATERAL (VALUES (ch.old_day), (ch.new_day)) d(day) WHERE {hit}"


def _both(hit: str) -> str:
    """The old and new day of each changed row where `hit`."""
    return _fill(BOTH, hit=hit)


CONTRACTS = {
    "insert": """SELECT signed_on AS old_day, signed_on AS new_day, true AS amount_hit,
                     true AS first_hit, false AS owner_hit FROM new_rows""",
    "delete": """SELECT signed_on AS old_day, signed_on AS new_day, true AS amount_hit,
                     true AS first_hit, false AS owner_hit FROM old_rows""",
    "update": """SELECT o.signed_on AS old_day, n.signed_on AS new_day,
                     o.id IS NULL OR n.id IS NULL
                     OR (o.owner_id, o.signed_on, o.amount, o.status = 'terminated')
                        IS DISTINCT FROM (n.owner_id, n.signed_on, n.amount,
                                          n.status = 'terminated') AS amount_hit,
                     o.id IS NULL OR n.id IS NULL
                     OR (o.signed_on, o.customer_id) IS DISTINCT FROM
                        (n.signed_on, n.customer_id) AS first_hit,
                     o.owner_id IS DISTINCT FROM n.owner_id AS owner_hit
                FROM old_rows o FULL JOIN new_rows n ON n.id = o.id""",
    "hits": _fill(
        """SELECT 'contract_amount', x.day, false FROM ({amount}) x
             UNION ALL
             SELECT 'new_customers', min(least(ch.old_day, ch.new_day)), true
               FROM ch WHERE ch.first_hit
             UNION ALL
             SELECT 'new_customers', x.day, false
               FROM ({owner}) x""",
        amount=_both("ch.amount_hit"), owner=_both("ch.owner_hit AND NOT ch.first_hit")
    ),
}

PAYMENTS = {
    "insert": "SELECT received_on AS old_day, received_on AS new_day, true AS hit FROM new_rows",
    "delete": "SELECT received_on AS old_day, received_on AS new_day, true AS hit FROM old_rows",
    "update": """SELECT o.received_on AS old_day, n.received_on AS new_day,
                     o.id IS NULL OR n.id IS NULL
                     OR (o.received_on, o.status = 'reversed')
                        IS DISTINCT FROM (n.received_on, n.status = 'reversed') AS hit
                FROM old_rows o FULL JOIN new_rows n ON n.id = o.id""",
    "hits": _fill("SELECT 'collected', x.day, false FROM ({days}) x", days=_both("ch.hit")),
}

ALLOCATIONS = {
    "insert": "SELECT payment_id AS old_pay, payment_id AS new_pay, true AS hit FROM new_rows",
    "delete": "SELECT payment_id AS old_pay, payment_id AS new_pay, true AS hit FROM old_rows",
    "update": """SELECT o.payment_id AS old_pay, n.payment_id AS new_pay,
                     o.id IS NULL OR n.id IS NULL
                     OR (o.payment_id, o.installment_id, o.amount, o.reversed_at IS NULL)
                        IS DISTINCT FROM (n.payment_id, n.installment_id, n.amount,
                                          n.reversed_at IS NULL) AS hit
                FROM old_rows o FULL JOIN new_rows n ON n.id = o.id""",
    "hits": """SELECT 'collected', p.received_on, false
              FROM receivables_payment p
             WHERE p.id IN (SELECT ch.old_pay FROM ch WHERE ch.hit
                            UNION SELECT ch.new_pay FROM ch WHERE ch.hit)""",
}

VISITS = {
    "insert": """SELECT (started_at AT TIME ZONE '{tz}')::date AS old_day,
                     (started_at AT TIME ZONE '{tz}')::date AS new_day,
                     true AS visit_hit, true AS effective_hit FROM new_rows""",
    "delete": """SELECT (started_at AT TIME ZONE '{tz}')::date AS old_day,
                     (started_at AT TIME ZONE '{tz}')::date AS new_day,
                     true AS visit_hit, true AS effective_hit FROM old_rows""",
    "update": """SELECT (o.started_at AT TIME ZONE '{tz}')::date AS old_day,
                     (n.started_at AT TIME ZONE '{tz}')::date AS new_day,
                     o.id IS NULL OR n.id IS NULL
                     OR (o.owner_id, o.started_at) IS DISTINCT FROM (n.owner_id, n.started_at)
                     AS visit_hit,
                     o.id IS NULL OR n.id IS NULL
                     OR (o.owner_id, o.started_at, o.is_effective)
                        IS DISTINCT FROM (n.owner_id, n.started_at, n.is_effective)
                     AS effective_hit
                FROM old_rows o FULL JOIN new_rows n ON n.id = o.id""",
    "hits": _fill(
        """SELECT 'visits', x.day, false FROM ({visit}) x
             UNION ALL
             SELECT 'effective_visits', x.day, false FROM ({effective}) x""",
        visit=_both("ch.visit_hit"), effective=_both("ch.effective_hit")
    ),
}

_ALL = "ARRAY[" + ", ".join(f"'{metric}'" for metric in METRICS) + "]"
MEMBERSHIPS = {
    "insert": "SELECT valid_from AS day FROM new_rows",
    "delete": "SELECT valid_from AS day FROM old_rows",
    # A row whose user or unit changed counts from its earlier start; otherwise only the days
    # between the old and the new start, or the old and the new end (NULL: open), changed.
    "update": """SELECT CASE
                     WHEN o.id IS NULL THEN n.valid_from
                     WHEN n.id IS NULL THEN o.valid_from
                     WHEN (o.user_id, o.org_unit_id) IS DISTINCT FROM (n.user_id, n.org_unit_id)
                          THEN least(o.valid_from, n.valid_from)
                     ELSE least(
                          CASE WHEN o.valid_from <> n.valid_from
                               THEN least(o.valid_from, n.valid_from) END,
                          CASE WHEN o.valid_to IS DISTINCT FROM n.valid_to
                               THEN least(coalesce(o.valid_to, 'infinity'::date),
                                          coalesce(n.valid_to, 'infinity'::date)) END)
                     END AS day
                FROM old_rows o FULL JOIN new_rows n ON n.id = o.id""",
    "hits": _fill(
        """SELECT mt, min(ch.day), true FROM ch, unnest({metrics}) mt
            WHERE ch.day < 'infinity'::date GROUP BY mt""",
        metrics=_ALL,
    ),
}

INSTALLMENT = """
CREATE OR REPLACE FUNCTION goals_actuals_mark_installment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {mark}
    RETURN NULL;
END $$;
CREATE TRIGGER goals_actuals_mark_installment AFTER UPDATE OF owner_id
    ON receivables_installment FOR EACH ROW
    WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id)
    EXECUTE FUNCTION goals_actuals_mark_installment();
"""
INSTALLMENT_HITS = """SELECT 'collected', p.received_on, false
                        FROM receivables_allocation a
                        JOIN receivables_payment p ON p.id = a.payment_id
                       WHERE a.installment_id IN (OLD.id, NEW.id)"""

TABLES = {
    "goals_actuals_mark_contract": ("contracts_contract", CONTRACTS),
    "goals_actuals_mark_payment": ("receivables_payment", PAYMENTS),
    "goals_actuals_mark_allocation": ("receivables_allocation", ALLOCATIONS),
    "goals_actuals_mark_visit": ("visits_visitrecord", VISITS),
    "goals_actuals_mark_membership": ("goals_unitmembership", MEMBERSHIPS),
}


def triggers(tz: str) -> str:
    sql = []
    for name, (table, parts) in TABLES.items():
        parts = {key: value.replace("{tz}", tz) for key, value in parts.items()}
        sql.append(_function(tz, name, table, **parts))
    mark = MARK.format(tz=tz, hits=INSTALLMENT_HITS)
    sql.append(INSTALLMENT.replace("{mark}", mark))
    return "\n".join(sql)


def drop() -> str:
    sql = []
    for name, (table, _parts) in TABLES.items():
        for suffix in ("ins", "upd", "del"):
            sql.append(f"DROP TRIGGER IF EXISTS {name}_{suffix} ON {table};")
        sql.append(f"DROP FUNCTION IF EXISTS {name}();")
    sql.append(
        "DROP TRIGGER IF EXISTS goals_actuals_mark_installment ON receivables_installment;"
        " DROP FUNCTION IF EXISTS goals_actuals_mark_installment();"
    )
    return "\n".join(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("goals", "0002_membership_trigger_and_defaults"),
        ("contracts", "0002_amendment_policy"),
        ("receivables", "0002_installment_open_aging"),
        ("visits", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ActualMonthState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("metric", models.CharField(choices=[("contract_amount", "Signed contract amount"), ("collected", "Collected amount"), ("new_customers", "New active customers"), ("visits", "Visits"), ("effective_visits", "Effective visits")], max_length=30, verbose_name="metric")),
                ("month", models.DateField(verbose_name="month")),
                ("version", models.BigIntegerField(default=0, verbose_name="version")),
                ("computed_version", models.BigIntegerField(blank=True, null=True, verbose_name="computed version")),
            ],
            options={
                "verbose_name": "monthly actual state",
                "verbose_name_plural": "monthly actual states",
                "constraints": [models.UniqueConstraint(fields=("metric", "month"), name="actualmonthstate_unique")],
            },
        ),
        migrations.CreateModel(
            name="ActualMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("metric", models.CharField(choices=[("contract_amount", "Signed contract amount"), ("collected", "Collected amount"), ("new_customers", "New active customers"), ("visits", "Visits"), ("effective_visits", "Effective visits")], max_length=30, verbose_name="metric")),
                ("month", models.DateField(verbose_name="month")),
                ("value", models.DecimalField(decimal_places=2, max_digits=18, verbose_name="value")),
                ("org_unit", models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=models.deletion.DO_NOTHING, related_name="+", to="accounts.orgunit", verbose_name="org unit")),
                ("owner", models.ForeignKey(db_constraint=False, on_delete=models.deletion.DO_NOTHING, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="rep")),
            ],
            options={
                "verbose_name": "monthly actual",
                "verbose_name_plural": "monthly actuals",
                "indexes": [models.Index(fields=["metric", "month"], name="actualmonth_metric_month")],
                "constraints": [models.UniqueConstraint(fields=("metric", "month", "owner", "org_unit"), name="actualmonth_one_per_rep_unit", nulls_distinct=False)],
            },
        ),
        migrations.RunSQL(triggers(settings.TIME_ZONE), drop()),
    ]
