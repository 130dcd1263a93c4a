"""The default approval policies of the scorecard (seed 004 step 11: the submitter's own head
approves — the manager for a rep's card submitted by the supervisor, the head above for a
supervisor's card submitted by the manager) and of the commission statement (the same)."""

from django.db import migrations

POLICIES = {
    "incentives.scorecard": ("绩效考核审批 Scorecard approval", "上级审批"),
    "incentives.commissionstatement": ("提成结算审批 Commission statement approval", "上级审批"),
}


def defaults(apps, schema_editor):
    Policy = apps.get_model("approvals", "ApprovalPolicy")
    Step = apps.get_model("approvals", "ApprovalStep")
    for document_type, (name, step) in POLICIES.items():
        policy, created = Policy.objects.get_or_create(
            document_type=document_type, defaults={"name": name}
        )
        if created:
            Step.objects.create(
                policy=policy, order=1, name=step, approver_kind="direct_supervisor"
            )


def remove(apps, schema_editor):
    apps.get_model("approvals", "ApprovalPolicy").objects.filter(
        document_type__in=list(POLICIES)
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incentives", "0001_initial"),
        ("approvals", "0004_credit_override_steps"),
    ]

    operations = [migrations.RunPython(defaults, remove)]
