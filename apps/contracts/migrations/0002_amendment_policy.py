"""The approval policy of contract amendments (补充协议): a copy of the contract policy's
steps (supervisor; manager above 200,000; finance above 1,000,000 by default), so that an
amendment goes through the same chain as a contract."""

from django.db import migrations

KEY = "contracts.contractamendment"
STEP_FIELDS = ("order", "name", "approver_kind", "role", "user_id", "mode", "condition_metric",
               "condition_min", "condition_max", "condition_flag")  # fmt: skip


def create(apps, schema_editor):
    Policy = apps.get_model("approvals", "ApprovalPolicy")
    Step = apps.get_model("approvals", "ApprovalStep")
    source = Policy.objects.filter(document_type="contracts.contract").first()
    if source is None or Policy.objects.filter(document_type=KEY).exists():
        return
    policy = Policy.objects.create(
        document_type=KEY,
        name="补充协议审批 Contract amendment",
        remind_after_hours=source.remind_after_hours,
        escalate_after_hours=source.escalate_after_hours,
    )
    for step in source.steps.order_by("order"):
        # The credit-override steps answer a flag only contracts raise; copied all the same.
        Step.objects.create(policy=policy, **{name: getattr(step, name) for name in STEP_FIELDS})


def remove(apps, schema_editor):
    apps.get_model("approvals", "ApprovalPolicy").objects.filter(document_type=KEY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("approvals", "0004_credit_override_steps"),
    ]
    operations = [migrations.RunPython(create, remove)]
