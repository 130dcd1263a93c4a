"""The open month's sealed days in the rollup of the actuals (`rollup.py`): the first days of
the month not sealed yet, up to three days before today, are kept like a sealed month, so that
a report of the current year (or month) computes only a few days of documents live.

- `ActualMonthState.through`: the last day the month's `ActualMonth` rows sum when they hold
  only an open month's first days (None: the whole month).
- The triggers of migration 0003 also mark the current month, when a changed document is
  dated two days back or more (for a change that counts "from a day on" — a customer's first
  contract, a membership — when that day, or the month's first, is): a write they let pass is
  dated at most a day before it was made, so the days three days back that the readers take
  from the rollup were written the day before yesterday at the latest, and committed since
  (the assumption of `rollup.py`). The writes of the day and of yesterday — nearly all of them
  — still mark nothing: the current month's state row is touched only by backdated writes.

Only the trigger functions are replaced (same triggers, same tables); the statement they run
is migration 0003's `MARK` with that one condition added.
"""

import importlib

from django.conf import settings
from django.db import migrations, models

base = importlib.import_module("apps.goals.migrations.0003_actual_rollup")

# Migration 0003's MARK, the current month included for a document two days old or older
# (`greatest(h.day, m.month)`: the first day of the month a hit changes).
MARK = """
    WITH w AS (
        SELECT c.current, (c.current - interval '37 months')::date AS floor, c.today
          FROM (SELECT date_trunc('month', l.now)::date AS current, l.now::date AS today
                  FROM (SELECT clock_timestamp() AT TIME ZONE '{tz}' AS now) l) c
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
                  CASE WHEN h.onward THEN w.current::timestamp
                       ELSE date_trunc('month', h.day::timestamp) END,
                  interval '1 month') gs
           ) m
     WHERE h.day IS NOT NULL AND m.month >= w.floor
       AND (m.month < w.current OR greatest(h.day, m.month) <= w.today - 2)
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
"""
INSTALLMENT = """
CREATE OR REPLACE FUNCTION goals_actuals_mark_installment() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {mark}
    RETURN NULL;
END $$;
"""


def functions(tz: str, mark: str) -> str:
    """The trigger functions of migration 0003 with `mark` as their statement."""
    sql = []
    for name, (_table, parts) in base.TABLES.items():
        parts = {key: value.replace("{tz}", tz) for key, value in parts.items()}
        statements = {
            op: mark.format(tz=tz, hits=f"WITH ch AS ({parts[op]}) {parts['hits']}")
            for op in ("insert", "delete", "update")
        }
        sql.append(FUNCTION.format(name=name, **statements))
    sql.append(INSTALLMENT.replace("{mark}", mark.format(tz=tz, hits=base.INSTALLMENT_HITS)))
    return "\n".join(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0003_actual_rollup"),
    ]

    operations = [
        migrations.AddField(
            model_name="actualmonthstate",
            name="through",
            field=models.DateField(blank=True, null=True, verbose_name="summed through"),
        ),
        migrations.RunSQL(
            functions(settings.TIME_ZONE, MARK), functions(settings.TIME_ZONE, base.MARK)
        ),
    ]
