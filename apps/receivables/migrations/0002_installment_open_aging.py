"""A covering index for the receivables figures (apps/receivables/figures.py): the open
installments by due date with the columns the aging sums and groups by, so that the
company-wide aging of 1,000,000 installments is an index-only scan of the open ones (~15 MB)
instead of a visit of most of the table's pages.

Created with SQL (concurrently: no write lock on a large table) and left out of the model
state, so the model needs no change; to move it into ``Installment.Meta.indexes`` later:
``models.Index(fields=["due_date"], include=["amount", "paid_amount", "written_off_amount",
"owner_id", "customer_id"], condition=Q(status__in=OPEN_STATUSES), name="installment_open_aging")``
with this migration turned into ``SeparateDatabaseAndState``.
"""

from django.db import migrations

CREATE = """
CREATE INDEX CONCURRENTLY IF NOT EXISTS installment_open_aging
    ON receivables_installment (due_date)
    INCLUDE (amount, paid_amount, written_off_amount, owner_id, customer_id)
    WHERE status IN ('scheduled', 'due', 'partially_paid')
"""
DROP = "DROP INDEX CONCURRENTLY IF EXISTS installment_open_aging"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("receivables", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
