"""The rollup triggers' "today" can be set for a session or a transaction (``salesctl.today``),
so that the tests of the open month (`tests/goals/test_actuals_open_month.py`) run on any day
of the month with a time machine: without the setting — always, outside the tests — it is the
database clock's date in the project's time zone, as before.

Only the trigger functions are replaced (same triggers, same tables); the statement is
migration 0004's `MARK` with its clock read through the setting.
"""

import importlib

from django.conf import settings
from django.db import migrations

previous = importlib.import_module("apps.goals.migrations.0004_actual_rollup_open_month")

CLOCK = "clock_timestamp() AT TIME ZONE '{tz}'"
# `current_setting(…, true)`: NULL when never set, '' after a RESET.
SETTABLE = (
    "coalesce(nullif(current_setting('salesctl.today', true), '')::timestamp, "
    "clock_timestamp() AT TIME ZONE '{tz}')"
)
assert CLOCK in previous.MARK
MARK = previous.MARK.replace(CLOCK, SETTABLE)


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0004_actual_rollup_open_month"),
    ]

    operations = [
        migrations.RunSQL(
            previous.functions(settings.TIME_ZONE, MARK),
            previous.functions(settings.TIME_ZONE, previous.MARK),
        ),
    ]
