"""Default lead scoring rules (seed 003: industry, company size, region, intent, budget,
decision time frame). Admins tune them afterwards; the sum is clamped to 0–100."""

from decimal import Decimal

from django.db import migrations

# (name, field, operator, value, values, min, max, points)
RULES = [
    ("Industry: manufacturing", "industry", "in", "", ["制造业", "manufacturing"], None, None, 15),
    (
        "Industry: wholesale and retail",
        "industry",
        "in",
        "",
        ["批发零售", "批发和零售业", "wholesale", "retail"],
        None,
        None,
        10,
    ),
    ("Size: 2000+ staff", "company_size", "equals", "enterprise", [], None, None, 20),
    ("Size: 500–1999 staff", "company_size", "equals", "large", [], None, None, 15),
    ("Size: 100–499 staff", "company_size", "equals", "medium", [], None, None, 10),
    ("Size: 20–99 staff", "company_size", "equals", "small", [], None, None, 5),
    (
        "Region: core markets",
        "region",
        "in",
        "",
        ["上海", "北京", "广东", "江苏", "浙江"],
        None,
        None,
        10,
    ),
    ("Intent: high", "intent", "equals", "high", [], None, None, 25),
    ("Intent: medium", "intent", "equals", "medium", [], None, None, 12),
    ("Budget: 1,000,000 or more", "budget", "range", "", [], Decimal("1000000"), None, 20),
    (
        "Budget: 200,000–1,000,000",
        "budget",
        "range",
        "",
        [],
        Decimal("200000"),
        Decimal("1000000"),
        12,
    ),
    ("Budget: 50,000–200,000", "budget", "range", "", [], Decimal("50000"), Decimal("200000"), 5),
    ("Decision within a month", "decision_time_frame", "equals", "1m", [], None, None, 15),
    ("Decision in 1–3 months", "decision_time_frame", "equals", "3m", [], None, None, 10),
    ("Decision in 3–6 months", "decision_time_frame", "equals", "6m", [], None, None, 5),
]


def add_rules(apps, schema_editor):
    ScoringRule = apps.get_model("leads", "ScoringRule")
    if ScoringRule.objects.exists():
        return
    ScoringRule.objects.bulk_create(
        ScoringRule(
            name=name,
            field=field,
            operator=op,
            value=value,
            values=values,
            min_value=lo,
            max_value=hi,
            points=points,
        )
        for name, field, op, value, values, lo, hi, points in RULES
    )


def remove_rules(apps, schema_editor):
    ScoringRule = apps.get_model("leads", "ScoringRule")
    ScoringRule.objects.filter(name__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(add_rules, remove_rules)]
