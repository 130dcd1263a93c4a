"""Issue 10 (scale): the contracts pending approval by amount, largest first (the dashboards'
large pending contracts and their total: a sequential scan of the contracts → a range of
this small index), built concurrently."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("contracts", "0003_customer_signed_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="contract",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["-amount", "id"],
                include=("owner",),
                name="contract_pending_amount",
            ),
        ),
    ]
