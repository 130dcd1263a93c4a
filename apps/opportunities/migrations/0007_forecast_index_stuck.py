"""Issue 10 (scale): `opportunity_open_forecast` also carries `stuck_notified_at`, so that
the dashboards' open deals per stage with the stuck ones counted are read from the index
alone; rebuilt concurrently (a new index under a temporary name, the old one dropped, the
new one renamed: the open deals are never without an index)."""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

OPEN = ["prospecting", "qualification", "needs_analysis", "proposal", "negotiation"]


def index(name: str, include: tuple) -> models.Index:
    return models.Index(
        condition=models.Q(("stage__in", OPEN)),
        fields=["owner", "expected_close_date"],
        include=include,
        name=name,
    )


class Migration(migrations.Migration):
    atomic = False  # CREATE / DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("opportunities", "0006_scale_indexes"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="opportunity",
            index=index(
                "opportunity_open_forecast_n", ("stage", "amount", "id", "stuck_notified_at")
            ),
        ),
        RemoveIndexConcurrently(model_name="opportunity", name="opportunity_open_forecast"),
        migrations.RenameIndex(
            model_name="opportunity",
            new_name="opportunity_open_forecast",
            old_name="opportunity_open_forecast_n",
        ),
    ]
