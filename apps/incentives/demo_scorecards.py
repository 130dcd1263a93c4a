"""Demo scorecards for `manage.py seed_demo`: a monthly scheme for the reps and one for the
supervisors (created through the services, as an administrator would), last month's scorecards
computed by the job's own computation, two reps' assessments written and submitted by their
supervisor, and one of them approved by the manager and published.

Idempotent: an active scheme of the same role and period is reused, the computation changes
nothing the second time, and the flow runs only while no scorecard of the month has been
submitted yet. `SCHEMES` is also what the scale data loads (`scale_scorecards`)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.approvals.choices import RequestStatus, TaskStatus
from apps.approvals.models import ApprovalTask
from apps.approvals.services import approval_approve

from .choices import AssessmentPeriod, Curve, KpiMetric, SchemeRole, ScorecardStatus
from .models import Scorecard, ScoringScheme
from .scorecards import (
    MetricSpec,
    SchemeData,
    period_for,
    scheme_create,
    scorecard_publish,
    scorecard_submit,
    scorecards_compute,
)

D = Decimal


def _linear(metric: str, weight: int, zero: str, full: str, cap: str = "120") -> MetricSpec:
    return MetricSpec(
        metric=metric, weight=D(weight), curve=Curve.LINEAR, zero_at=D(zero), full_at=D(full),
        cap=D(cap), lower_is_better=D(full) < D(zero),
    )  # fmt: skip


def _steps(metric: str, weight: int, steps: list[tuple[str, str]], cap: str = "100") -> MetricSpec:
    return MetricSpec(
        metric=metric, weight=D(weight), curve=Curve.THRESHOLDS, cap=D(cap),
        thresholds=[(D(at), D(points)) for at, points in steps],
    )  # fmt: skip


def schemes() -> list[SchemeData]:
    """The demo (and scale) schemes: reps and supervisors, by month (seed 000: sales,
    collection rate, customer satisfaction; seed 004: 考核评估)."""
    grades = {"grade_s_min": D(95), "grade_a_min": D(85), "grade_b_min": D(70),
              "grade_c_min": D(60)}  # fmt: skip
    return [
        SchemeData(
            name="销售代表月度绩效考核", role=SchemeRole.REP, period_kind=AssessmentPeriod.MONTH,
            notes="合同额与回款达成为主，兼顾拜访质量、计划执行、客户满意度与逾期控制。",
            metrics=[
                _linear(KpiMetric.CONTRACT_ATTAINMENT, 30, "0", "100"),
                _linear(KpiMetric.COLLECTION_ATTAINMENT, 25, "0", "100"),
                _steps(KpiMetric.EFFECTIVE_VISIT_RATE, 15, [("40", "60"), ("60", "80"),
                                                            ("80", "100")]),
                _linear(KpiMetric.PLAN_EXECUTION_RATE, 10, "50", "100", cap="100"),
                _linear(KpiMetric.SATISFACTION, 10, "3", "5", cap="100"),
                _linear(KpiMetric.OVERDUE_RATIO, 10, "30", "0", cap="100"),
            ],
            **grades,
        ),
        SchemeData(
            name="销售主管月度绩效考核", role=SchemeRole.SUPERVISOR,
            period_kind=AssessmentPeriod.MONTH,
            notes="按所带团队的整体业绩考核。",
            metrics=[
                _linear(KpiMetric.CONTRACT_ATTAINMENT, 35, "0", "100"),
                _linear(KpiMetric.COLLECTION_RATE, 25, "50", "100", cap="110"),
                _linear(KpiMetric.LEAD_SLA_COMPLIANCE, 15, "50", "100", cap="100"),
                _steps(KpiMetric.EFFECTIVE_VISIT_RATE, 10, [("40", "60"), ("60", "80"),
                                                            ("80", "100")]),
                _linear(KpiMetric.OVERDUE_RATIO, 15, "30", "0", cap="100"),
            ],
            **grades,
        ),
    ]  # fmt: skip


def ensure_schemes(admin: User) -> list[ScoringScheme]:
    """The active scheme of each demo role and period: the existing one, else created."""
    found = []
    for data in schemes():
        scheme = ScoringScheme.objects.filter(
            role=data.role, period_kind=data.period_kind, is_active=True
        ).first()
        found.append(scheme or scheme_create(data=data, by=admin))
    return found


ASSESSMENTS = [
    "本月合同签约超额完成，回款跟进及时；拜访记录完整。下月重点：老客户复购与新区域开拓。",
    "回款达成良好，但有效拜访率偏低，拜访前目标不够明确。下月请每次拜访前写清拜访目的。",
]


def _flow(period_start, admin: User) -> int:
    """Two reps of the first team with a head: assessed and submitted; the first approved and
    published. Returns how many were submitted (0 when the month is under way already)."""
    cards = Scorecard.objects.filter(period_kind=AssessmentPeriod.MONTH, period_start=period_start)
    if cards.exclude(status=ScorecardStatus.COMPUTED).exists():
        return 0
    reps = list(
        cards.filter(scheme__role=SchemeRole.REP, org_unit__head__isnull=False)
        .select_related("org_unit__head", "user")
        .order_by("org_unit__path", "user__username")[:2]
    )
    submitted = 0
    for card, text in zip(reps, ASSESSMENTS, strict=False):
        head = card.org_unit.head
        request = scorecard_submit(scorecard=card, by=head, assessment=text)
        submitted += 1
        if submitted == 1 and request.status == RequestStatus.PENDING:
            task = ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).first()
            if task is not None:
                approval_approve(request=request, by=task.approver, comment="同意。")
                card = Scorecard.objects.get(pk=card.pk)
                if card.status == ScorecardStatus.APPROVED:
                    scorecard_publish(scorecard=card, by=admin)
    return submitted


@transaction.atomic
def load(stdout=None) -> int:
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("username").first()
    if admin is None:
        return 0
    today = timezone.localdate()
    created = 0
    for scheme in ensure_schemes(admin):
        period = period_for(scheme, today).previous()
        created += scorecards_compute(scheme=scheme, period=period).created
    last_month = period_for(ScoringScheme(period_kind=AssessmentPeriod.MONTH), today).previous()
    submitted = _flow(last_month.start, admin)
    if stdout:
        stdout.write(
            f"incentives: {created} scorecards of {last_month.label()} computed, "
            f"{submitted} assessments submitted\n"
        )
    return created
