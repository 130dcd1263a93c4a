"""Unit memberships kept by a trigger on accounts_user.org_unit_id (whatever writes it: a
service, the admin, a data load), backfilled with the users' current units (a first unit counts from the beginning);
the default approval policy of the period review (the manager approves, seed 004 step 11); the
metric settings (every metric rolls its unfinished part over by default)."""

from django.conf import settings
from django.db import migrations

TRIGGER = """
CREATE OR REPLACE FUNCTION salesctl_unit_membership() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE '{tz}')::date;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.org_unit_id IS NOT DISTINCT FROM OLD.org_unit_id THEN
            RETURN NEW;
        END IF;
        -- A move the same day it started replaces that membership.
        DELETE FROM goals_unitmembership
         WHERE user_id = NEW.id AND valid_to IS NULL AND valid_from >= today;
        UPDATE goals_unitmembership SET valid_to = today
         WHERE user_id = NEW.id AND valid_to IS NULL;
    END IF;
    IF NEW.org_unit_id IS NOT NULL THEN
        -- A user's first unit counts from the beginning (documents dated before the account
        -- was created, e.g. loaded from an older system, belong to it).
        INSERT INTO goals_unitmembership (user_id, org_unit_id, valid_from, valid_to)
        SELECT NEW.id, NEW.org_unit_id,
               CASE WHEN EXISTS (SELECT 1 FROM goals_unitmembership WHERE user_id = NEW.id)
                    THEN today ELSE DATE '0001-01-01' END,
               NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER salesctl_unit_membership
AFTER INSERT OR UPDATE OF org_unit_id ON accounts_user
FOR EACH ROW EXECUTE FUNCTION salesctl_unit_membership();
INSERT INTO goals_unitmembership (user_id, org_unit_id, valid_from, valid_to)
SELECT id, org_unit_id, DATE '0001-01-01', NULL
  FROM accounts_user WHERE org_unit_id IS NOT NULL;
"""

DROP = """
DROP TRIGGER IF EXISTS salesctl_unit_membership ON accounts_user;
DROP FUNCTION IF EXISTS salesctl_unit_membership();
"""


def defaults(apps, schema_editor):
    Policy = apps.get_model("approvals", "ApprovalPolicy")
    Step = apps.get_model("approvals", "ApprovalStep")
    policy, created = Policy.objects.get_or_create(
        document_type="goals.periodreview", defaults={"name": "目标考核评估 Period review"}
    )
    if created:
        Step.objects.create(
            policy=policy, order=1, name="销售经理审核", approver_kind="role", role="manager"
        )
    MetricSetting = apps.get_model("goals", "MetricSetting")
    for metric in ("contract_amount", "collected", "new_customers", "visits", "effective_visits"):
        MetricSetting.objects.get_or_create(metric=metric, defaults={"roll_over": True})


def remove(apps, schema_editor):
    apps.get_model("approvals", "ApprovalPolicy").objects.filter(
        document_type="goals.periodreview"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0001_initial"),
        ("approvals", "0004_credit_override_steps"),
    ]

    operations = [
        migrations.RunSQL(TRIGGER.format(tz=settings.TIME_ZONE), DROP),
        migrations.RunPython(defaults, remove),
    ]
