"""Issue 10 (scale): the customers on credit hold, latest change first (the finance home's
panel: 45 ms → 0.1 ms on the large preset), built concurrently."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("customers", "0007_external_id_db_default"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="customer",
            index=models.Index(
                condition=models.Q(("on_credit_hold", True)),
                fields=["-updated_at", "-id"],
                include=("owner",),
                name="customer_credit_hold",
            ),
        ),
    ]
