"""Default approval policies, following seed 004 (supervisor reviews, manager approves) and
DESIGN.md. Admins edit them afterwards; later issues attach their documents by these keys."""

from decimal import Decimal

from django.db import migrations

SUPERVISOR = {"approver_kind": "direct_supervisor"}
MANAGER = {"approver_kind": "role", "role": "manager"}
FINANCE = {"approver_kind": "role", "role": "finance"}

POLICIES = [
    ("goals.salesplan", "销售计划书审批 Sales plan", [("销售经理审批", MANAGER, None)]),
    (
        "customers.developmentapplication",
        "新客户开发申请 New-customer development",
        [("销售主管审核", SUPERVISOR, None), ("销售经理审核", MANAGER, None)],
    ),
    (
        "customers.creditlimitrequest",
        "信用额度调整 Credit limit change",
        [
            ("销售主管审核", SUPERVISOR, None),
            ("销售经理审批", MANAGER, None),
            ("财务审批（额度 > 200,000）", FINANCE, ("amount", Decimal("200000"), None)),
        ],
    ),
    (
        "contracts.contract",
        "合同审批 Contract",
        [
            ("销售主管审核", SUPERVISOR, None),
            ("销售经理审批（金额 > 200,000）", MANAGER, ("amount", Decimal("200000"), None)),
            ("财务审批（金额 > 1,000,000）", FINANCE, ("amount", Decimal("1000000"), None)),
        ],
    ),
    (
        "opportunities.quote",
        "报价折扣审批 Quote discount",
        [
            ("销售主管审批（折扣 > 5%）", SUPERVISOR, ("percentage", Decimal("5"), None)),
            ("销售经理审批（折扣 > 15%）", MANAGER, ("percentage", Decimal("15"), None)),
        ],
    ),
    ("goals.targetadjustment", "目标调整审批 Target adjustment", [("销售经理审批", MANAGER, None)]),
    (
        "receivables.writeoff",
        "坏账核销审批 Bad-debt write-off",
        [("财务审核", FINANCE, None), ("销售经理审批", MANAGER, None)],
    ),
]


def create(apps, schema_editor):
    Policy = apps.get_model("approvals", "ApprovalPolicy")
    Step = apps.get_model("approvals", "ApprovalStep")
    for key, name, steps in POLICIES:
        policy, created = Policy.objects.get_or_create(document_type=key, defaults={"name": name})
        if not created:
            continue
        for order, (step_name, who, condition) in enumerate(steps, start=1):
            metric, low, high = condition or ("", None, None)
            Step.objects.create(
                policy=policy,
                order=order,
                name=step_name,
                condition_metric=metric,
                condition_min=low,
                condition_max=high,
                **who,
            )


def remove(apps, schema_editor):
    apps.get_model("approvals", "ApprovalPolicy").objects.filter(
        document_type__in=[key for key, _, _ in POLICIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]
    operations = [migrations.RunPython(create, remove)]
