"""The contract policy's credit-override steps (issue 6, DESIGN.md "contracts"): a contract
whose credit portion exceeds the customer's available credit raises the flag
"credit_override" at submission, and then needs the manager and finance as well."""

from django.db import migrations

STEPS = [
    ("信用超额审批（销售经理）", {"approver_kind": "role", "role": "manager"}),
    ("信用超额审批（财务）", {"approver_kind": "role", "role": "finance"}),
]


def create(apps, schema_editor):
    Policy = apps.get_model("approvals", "ApprovalPolicy")
    Step = apps.get_model("approvals", "ApprovalStep")
    policy = Policy.objects.filter(document_type="contracts.contract").first()
    if policy is None or policy.steps.filter(condition_metric="flag").exists():
        return
    last = policy.steps.order_by("-order").values_list("order", flat=True).first() or 0
    for offset, (name, who) in enumerate(STEPS, start=1):
        Step.objects.create(
            policy=policy, order=last + offset, name=name, mode="any",
            condition_metric="flag", condition_flag="credit_override", **who,
        )


class Migration(migrations.Migration):
    dependencies = [("approvals", "0003_step_flags")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
