"""Issue 10 (scale): two indexes for the receivables lists and figures, built concurrently (no
write lock on tables of a million rows; hence not atomic).

- ``installment_due_order``: the installment lists' order (due date, installment, id), so that
  a page of the finance list reads its first rows instead of sorting 1,000,000; its included
  columns (amount, owner, customer) give the collection figures the amounts falling due in a
  period per owner or customer, and each allocation's due date, from the index alone.
- ``payment_unallocated`` now includes the amount, the allocated amount and the owner: the
  workbench's totals of the payments with money left to allocate are an index-only scan
  instead of a visit of thousands of the table's pages.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("receivables", "0002_installment_open_aging"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="installment",
            index=models.Index(
                fields=["due_date", "sequence", "id"],
                include=("amount", "owner", "customer"),
                name="installment_due_order",
            ),
        ),
        RemoveIndexConcurrently(model_name="payment", name="payment_unallocated"),
        AddIndexConcurrently(
            model_name="payment",
            index=models.Index(
                condition=models.Q(
                    ("status", "recorded"), ("allocated_amount__lt", models.F("amount"))
                ),
                fields=["customer"],
                include=("amount", "allocated_amount", "owner"),
                name="payment_unallocated",
            ),
        ),
    ]
