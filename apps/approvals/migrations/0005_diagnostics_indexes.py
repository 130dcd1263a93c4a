"""Covering indexes for the process diagnostics (apps/incentives/diagnostics.py, issue 8): the
approval decisions of a period and the requests waiting now, read from indexes alone.

- ``approvaltask_decided``: the decided tasks by decision time, with what the waiting-time
  figures read (the wait is decided_at − created_at; grouped by the request's policy and the
  step's name) — a range of it instead of a scan of every task;
- ``approvalrequest_policy_of``: from a task to its request's policy and submitter (the
  document type and the data scope) without visiting the requests' rows;
- ``approvalrequest_pending``: the pending requests (a few thousand among hundreds of
  thousands), to join the waiting tasks to.

Measured on the scale data (368,986 requests, 585,932 tasks, bench/incentives_diagnostics.py):
the decisions of 90 days went from a parallel scan of both tables to index-only scans, and the
requests waiting now from 110 ms to 14 ms.

Created with SQL (concurrently: no write lock on a large table) and left out of the model
state, so the models need no change (as receivables 0002).
"""

from django.db import migrations

CREATE = [
    """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS approvaltask_decided
        ON approvals_approvaltask (decided_at)
        INCLUDE (created_at, request_id, status, step_order, step_name)
        WHERE decided_at IS NOT NULL
    """,
    """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS approvalrequest_policy_of
        ON approvals_approvalrequest (id) INCLUDE (policy_id, submitter_id)
    """,
    """
    CREATE INDEX CONCURRENTLY IF NOT EXISTS approvalrequest_pending
        ON approvals_approvalrequest (id) INCLUDE (policy_id, submitter_id)
        WHERE status = 'pending'
    """,
]
DROP = [
    "DROP INDEX CONCURRENTLY IF EXISTS approvaltask_decided",
    "DROP INDEX CONCURRENTLY IF EXISTS approvalrequest_policy_of",
    "DROP INDEX CONCURRENTLY IF EXISTS approvalrequest_pending",
]


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("approvals", "0004_credit_override_steps"),
    ]

    operations = [
        migrations.RunSQL(create, drop) for create, drop in zip(CREATE, DROP, strict=True)
    ]
