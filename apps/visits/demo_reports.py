"""Demo weekly sales reports for `manage.py seed_demo` (run after the visits demo, so that the
figures snapshot counts the demo visits): the report of each of the last 8 weeks for every
demo rep, drafted by the real job; the older ones written, submitted and reviewed through the
services (with their times moved back to when they would have happened), one left unsubmitted
past its due time (late), one submitted late, the current one (last week's) a draft.
Idempotent: the job adds only missing reports and only untouched drafts are written."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.accounts.selectors import supervisor_of

from . import reports
from .choices import ReportStatus
from .models import WeeklyReport

WEEKS = 8
SUMMARIES = [
    "本周重点跟进了老客户回款，新增两家意向客户，整体进度符合计划。",
    "拜访计划基本完成，一家客户因预算推迟，需要下周再次沟通。",
    "完成报价两份，其中一份进入商务谈判阶段。",
]
COMPETITION = [
    "竞品A在华南降价约5%，客户有比价。",
    "竞品B推出分期付款方案，需关注。",
    "未发现新的竞争动态。",
]
PLANS = [
    "下周拜访3家重点客户，推进1个报价进入谈判；催收逾期款项。",
    "下周完成2家新客户开发申请，回款目标20万元。",
    "下周跟进上周意向客户，安排产品演示。",
]
COMMENTS = ["内容清楚，继续保持。", "回款进度需加快，下周重点跟进。", "注意竞品动态，及时汇报。"]


@transaction.atomic
def load(stdout=None) -> int:
    rng = random.Random(20261125)
    current = reports.last_week_start()
    weeks = [current - timedelta(days=7 * i) for i in range(WEEKS - 1, -1, -1)]
    for week in weeks:
        reports.weekly_reports_draft(week_start=week)
    reps = list(
        User.objects.filter(is_active=True, role=Role.REP)
        .select_related("org_unit")
        .order_by("username")
    )
    untouched = (
        WeeklyReport.objects.filter(
            owner__in=reps, week_start__in=weeks[:-1], status=ReportStatus.DRAFT, summary=""
        )
        .select_related("owner", "owner__org_unit")
        .order_by("week_start", "owner__username")
    )
    late_open_week, late_submitted_week = weeks[-2], weeks[-3]
    written = 0
    for report in untouched:
        first = reps and report.owner_id == reps[0].pk
        data = {
            "summary": rng.choice(SUMMARIES),
            "competitor_notes": rng.choice(COMPETITION),
            "abnormal_customers": "已安排本周回访长期未拜访客户。",
            "next_week_plan": rng.choice(PLANS),
        }
        if first and report.week_start == late_open_week:
            # Late: started but not submitted by its due time.
            reports.weekly_report_update(report=report, by=report.owner, data={"summary": "…"})
            continue
        report = reports.weekly_report_update(report=report, by=report.owner, data=data)
        report = reports.weekly_report_submit(report=report, by=report.owner)
        hours = 20 if first and report.week_start == late_submitted_week else -rng.randint(2, 30)
        submitted_at = report.due_at + timedelta(hours=hours)
        WeeklyReport.objects.filter(pk=report.pk).update(submitted_at=submitted_at)
        written += 1
        if report.week_start == late_open_week:
            continue  # last week but one: waiting for the supervisor
        supervisor = supervisor_of(report.owner)
        if supervisor is None:
            continue
        report = reports.weekly_report_review(
            report=report, by=supervisor, comment=rng.choice(COMMENTS)
        )
        WeeklyReport.objects.filter(pk=report.pk).update(
            reviewed_at=submitted_at + timedelta(hours=rng.randint(3, 48))
        )
    if stdout is not None:
        stdout.write(f"  weekly reports: {written} written over {WEEKS} weeks")
    return written
