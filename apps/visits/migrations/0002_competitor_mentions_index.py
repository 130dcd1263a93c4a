"""The visit records that name a competitor, by start time: competitor analysis counts their
mentions per month (apps/incentives/competitors.py) and otherwise scans every visit record of
the period (2M at scale) to find the few with competitor information.

Created with SQL (concurrently: no write lock on a large table) and left out of the model
state, like receivables 0002. The note itself is not included: a long note would not fit an
index entry."""

from django.db import migrations

CREATE = """
CREATE INDEX CONCURRENTLY IF NOT EXISTS visitrecord_competitor_mentions
    ON visits_visitrecord (started_at) INCLUDE (owner_id)
    WHERE competitor_info <> ''
"""
DROP = "DROP INDEX CONCURRENTLY IF EXISTS visitrecord_competitor_mentions"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("visits", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
