"""Default credit rating rules (信用评级): the weighted investigation score that earns each
rating, and the default credit limit and payment term it gives. Admins edit them afterwards."""

from decimal import Decimal

from django.db import migrations

RULES = [
    # rating, minimum score, default credit limit, payment term days
    ("AAA", Decimal("90"), Decimal("1000000.00"), 90),
    ("AA", Decimal("80"), Decimal("500000.00"), 60),
    ("A", Decimal("70"), Decimal("200000.00"), 45),
    ("B", Decimal("60"), Decimal("50000.00"), 30),
    ("C", Decimal("0"), Decimal("0.00"), 0),
]


def create(apps, schema_editor):
    Rule = apps.get_model("customers", "CreditRatingRule")
    for rating, min_score, limit, days in RULES:
        Rule.objects.get_or_create(
            rating=rating,
            defaults={
                "min_score": min_score,
                "default_credit_limit": limit,
                "payment_term_days": days,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("customers", "CreditRatingRule").objects.filter(
        rating__in=[r[0] for r in RULES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_development_and_credit")]
    operations = [migrations.RunPython(create, remove)]
