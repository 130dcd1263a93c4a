"""Default probability and expected days per stage (admin-editable afterwards)."""

from django.db import migrations

DEFAULTS = [
    ("prospecting", 10, 14),
    ("qualification", 20, 14),
    ("needs_analysis", 40, 21),
    ("proposal", 60, 21),
    ("negotiation", 80, 14),
    ("won", 100, 0),
    ("lost", 0, 0),
]


def create(apps, schema_editor):
    StageSetting = apps.get_model("opportunities", "StageSetting")
    for stage, probability, days in DEFAULTS:
        StageSetting.objects.get_or_create(
            stage=stage, defaults={"probability": probability, "expected_days": days}
        )


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
