"""Indexes for the visit lists and figures at scale (issue 10: 2M visit records and plans).

- `visitrecord_started` (started_at, id) INCLUDE (customer_id): the record list's order for a
  head's many reps (a page is the first rows of the index, not a sort of the scope's records),
  a period's visits of the whole company, and the customers visited since a cutoff read from
  the index alone (the anti-join of "customers not visited in N days").
- `visitplan_owner_sync`, `visitrecord_owner_sync` (owner, updated_at, id): a rep's sync
  through the API (`?updated_since=`, in that order) reads their rows, not every row of the
  company scanned for theirs.

Built concurrently (no write lock on the large tables while they build), like 0002."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("visits", "0002_competitor_mentions_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="visitplan",
            index=models.Index(fields=["owner", "updated_at", "id"], name="visitplan_owner_sync"),
        ),
        AddIndexConcurrently(
            model_name="visitrecord",
            index=models.Index(
                fields=["started_at", "id"], include=("customer",), name="visitrecord_started"
            ),
        ),
        AddIndexConcurrently(
            model_name="visitrecord",
            index=models.Index(
                fields=["owner", "updated_at", "id"], name="visitrecord_owner_sync"
            ),
        ),
    ]
