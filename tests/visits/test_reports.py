"""Weekly sales reports (apps.visits.reports): the Monday draft job (figures, idempotent,
set-based, in a real worker), the submit / review / return transitions with wrong role and
wrong state, notifications, and the late list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.errors import Conflict
from apps.notifications.models import Notification
from apps.visits import (
    reports,
    tasks_reports,  # registers the task with the worker's app
)
from apps.visits.choices import PlanStatus, ReportStatus
from apps.visits.models import WeeklyReport
from tests.core.test_celery_worker import queue, wait_for, worker  # noqa: F401 (fixtures)

from .test_figures import MON, at, make_customer, make_plan, make_record

NEXT_MON = MON + timedelta(days=7)


def draft(owner, week_start: date = MON, **fields) -> WeeklyReport:
    return WeeklyReport.objects.create(
        owner=owner, week_start=week_start, due_at=reports.due_at_for(week_start), **fields
    )


def set_status(report: WeeklyReport, status: str, **fields) -> WeeklyReport:
    WeeklyReport.objects.filter(pk=report.pk).update(status=status, **fields)
    return WeeklyReport.objects.get(pk=report.pk)


# --- the draft job -------------------------------------------------------------------------


@pytest.mark.django_db
def test_due_time_is_monday_after_the_week_plus_the_due_hours(settings):
    # given a due delay of 36 hours
    settings.VISIT_WEEKLY_REPORT_DUE_HOURS = 36

    # then the report of the week from MON is due on the Tuesday after it at noon, local time
    due = timezone.localtime(reports.due_at_for(MON))
    assert (due.date(), due.hour) == (NEXT_MON + timedelta(days=1), 12)


@pytest.mark.django_db
def test_draft_job_snapshots_the_weeks_figures(org, settings):
    # given rep1a's week: 2 plans (1 done, 1 missed), 2 visits (1 effective with an order and a
    # payment), a new customer, a customer on credit hold and one never visited
    settings.VISIT_NOT_VISITED_DAYS = 30
    a = make_customer(org.rep1a, "A")
    make_plan(org.rep1a, a, MON, PlanStatus.DONE)
    make_plan(org.rep1a, a, MON + timedelta(days=1), PlanStatus.MISSED)
    make_record(org.rep1a, a, at(MON), order_amount=Decimal("800.00"),
                payment_collected=Decimal("300.00"))  # fmt: skip
    make_record(org.rep1a, a, at(MON + timedelta(days=2)))
    from apps.customers.models import Customer

    held = make_customer(org.rep1a, "Held", on_credit_hold=True)
    never = make_customer(org.rep1a, "Never")
    make_record(org.rep1a, held, timezone.now())
    Customer.objects.filter(pk__in=[a.pk, held.pk, never.pk]).update(
        created_at=at(MON - timedelta(days=30))
    )
    Customer.objects.filter(pk=never.pk).update(created_at=at(MON + timedelta(days=3)))

    # when the job drafts the week
    created = reports.weekly_reports_draft(week_start=MON)

    # then every active rep has a draft, with rep1a's known figures
    assert created == 4
    report = WeeklyReport.objects.get(owner=org.rep1a, week_start=MON)
    f = report.figures
    assert report.status == ReportStatus.DRAFT
    assert report.due_at == reports.due_at_for(MON)
    assert f["target_attainment"] is None  # no monthly target set for rep1a
    assert (f["plans"], f["plans_done"], f["plans_missed"]) == (2, 1, 1)
    assert f["plan_execution_rate"] == 0.5
    assert (f["visits"], f["effective_visits"], f["effective_visit_rate"]) == (2, 1, 0.5)
    assert (f["collections"], f["sales"]) == ("300.00", "800.00")
    assert f["new_customers"] == 1
    names = [c["name"] for c in f["abnormal_customers"]]
    assert names[0] == "Held"  # credit hold first
    assert "Never" in names and f["abnormal_customers_total"] == len(names)
    assert not WeeklyReport.objects.filter(owner__in=[org.sup1, org.manager1, org.admin]).exists()


@pytest.mark.django_db
def test_draft_job_run_twice_keeps_one_report_per_rep(org):
    # given the job ran once
    reports.weekly_reports_draft(week_start=MON)
    first = dict(WeeklyReport.objects.values_list("owner_id", "pk"))

    # when it runs again
    created = reports.weekly_reports_draft(week_start=MON)

    # then nothing new and the same rows
    assert created == 0
    assert dict(WeeklyReport.objects.values_list("owner_id", "pk")) == first


@pytest.mark.django_db
def test_draft_job_defaults_to_last_week(org, time_machine):
    # given it is Monday 00:10 business time after the week from MON
    time_machine.move_to(timezone.make_aware(datetime.combine(NEXT_MON, time(0, 10))))

    # when the job runs
    reports.weekly_reports_draft()

    # then the reports are those of the week before
    assert set(WeeklyReport.objects.values_list("week_start", flat=True)) == {MON}


@pytest.mark.django_db
def test_draft_job_query_count_does_not_grow_with_reps(org, django_assert_max_num_queries):
    # given many more reps
    from tests.factories import UserFactory

    for i in range(15):
        UserFactory(username=f"more{i}", role="rep", org_unit=org.team2)

    # when the job runs: a constant number of statements (people, 4 figures, insert, history)
    with django_assert_max_num_queries(12):
        created = reports.weekly_reports_draft(week_start=MON)

    # then every rep got a report
    assert created == 19


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_draft_job_runs_in_a_real_worker_and_is_idempotent(org, worker, queue):  # noqa: F811
    # given no report yet
    assert not WeeklyReport.objects.exists()

    # when the beat task runs twice through the broker
    tasks_reports.draft_weekly_reports.apply_async(queue=queue).get(timeout=30)
    second = tasks_reports.draft_weekly_reports.apply_async(queue=queue).get(timeout=30)

    # then each active rep has one report of last week, and the second run created none
    assert second == 0
    week = reports.last_week_start()
    assert WeeklyReport.objects.filter(week_start=week).count() == 4
    assert wait_for(lambda: WeeklyReport.objects.count() == 4)


# --- submit / review / return --------------------------------------------------------------


def _complete(report: WeeklyReport) -> WeeklyReport:
    return reports.weekly_report_update(
        report=report, by=report.owner,
        data={"summary": "Good week", "next_week_plan": "Visit B twice"},
    )  # fmt: skip


@pytest.mark.django_db
def test_rep_submits_and_supervisor_is_notified(org, django_capture_on_commit_callbacks):
    # given rep1a's completed draft
    report = _complete(draft(org.rep1a))

    # when the rep submits it
    with django_capture_on_commit_callbacks(execute=True):
        report = reports.weekly_report_submit(report=report, by=org.rep1a)

    # then it is submitted, stamped, and sup1 (head of team1) is told
    assert report.status == ReportStatus.SUBMITTED
    assert report.submitted_at is not None
    assert Notification.objects.filter(recipient=org.sup1, url=report.get_absolute_url()).exists()


@pytest.mark.django_db
def test_submit_names_every_missing_section(org):
    # given an empty draft
    report = draft(org.rep1a)

    # when the rep submits it, then both required sections are named
    with pytest.raises(ValidationError) as exc:
        reports.weekly_report_submit(report=report, by=org.rep1a)
    assert set(exc.value.message_dict) == {"summary", "next_week_plan"}
    report = WeeklyReport.objects.get(pk=report.pk)
    assert report.status == ReportStatus.DRAFT


@pytest.mark.django_db
def test_only_the_rep_can_submit(org):
    # given rep1a's completed draft
    report = _complete(draft(org.rep1a))

    # when their supervisor tries to submit it, then it is refused
    with pytest.raises(PermissionDenied):
        reports.weekly_report_submit(report=report, by=org.sup1)


@pytest.mark.django_db
def test_submitted_report_is_read_only_for_the_rep(org):
    # given a submitted report
    report = set_status(_complete(draft(org.rep1a)), ReportStatus.SUBMITTED)

    # when the rep edits or submits again, then both are state conflicts
    with pytest.raises(Conflict):
        reports.weekly_report_update(report=report, by=org.rep1a, data={"summary": "x"})
    with pytest.raises(Conflict):
        reports.weekly_report_submit(report=report, by=org.rep1a)


@pytest.mark.django_db
def test_supervisor_reviews_with_a_comment_and_the_rep_is_told(
    org, django_capture_on_commit_callbacks
):
    # given a submitted report of rep1a
    report = set_status(_complete(draft(org.rep1a)), ReportStatus.SUBMITTED)

    # when sup1 reviews it
    with django_capture_on_commit_callbacks(execute=True):
        report = reports.weekly_report_review(report=report, by=org.sup1, comment="Well done")

    # then it is reviewed with the comment and the rep is notified
    assert report.status == ReportStatus.REVIEWED
    assert (report.supervisor_comment, report.reviewed_by) == ("Well done", org.sup1)
    assert Notification.objects.filter(recipient=org.rep1a).exists()


@pytest.mark.django_db
def test_manager_above_the_team_may_review(org):
    # given a submitted report of rep1a (team1 under dept1)
    report = set_status(_complete(draft(org.rep1a)), ReportStatus.SUBMITTED)

    # when manager1 (head of dept1) reviews it, then it works
    assert reports.weekly_report_review(report=report, by=org.manager1).status == "reviewed"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep1a", "rep1b", "sup2", "manager2", "finance"])
def test_others_cannot_review(org, who):
    # given a submitted report of rep1a
    report = set_status(_complete(draft(org.rep1a)), ReportStatus.SUBMITTED)

    # when someone who is not a head over rep1a reviews it, then it is refused
    with pytest.raises(PermissionDenied):
        reports.weekly_report_review(report=report, by=getattr(org, who))


@pytest.mark.django_db
def test_a_draft_cannot_be_reviewed_or_returned(org):
    # given a draft
    report = _complete(draft(org.rep1a))

    # when sup1 reviews or returns it, then both are state conflicts
    with pytest.raises(Conflict):
        reports.weekly_report_review(report=report, by=org.sup1)
    with pytest.raises(Conflict):
        reports.weekly_report_return(report=report, by=org.sup1, comment="More")


@pytest.mark.django_db
def test_return_needs_a_comment_and_sends_the_report_back(org):
    # given a submitted report, submitted in time
    report = _complete(draft(org.rep1a))
    report = reports.weekly_report_submit(report=report, by=org.rep1a)
    first_submission = report.submitted_at

    # when sup1 returns it without a comment, then the comment is named
    with pytest.raises(ValidationError) as exc:
        reports.weekly_report_return(report=report, by=org.sup1, comment=" ")
    assert "comment" in exc.value.message_dict

    # when sup1 returns it with a comment
    report = reports.weekly_report_return(report=report, by=org.sup1, comment="Add competitors")

    # then it is a draft again with the comment; the rep can edit and resubmit
    assert report.status == ReportStatus.DRAFT
    assert report.supervisor_comment == "Add competitors"
    report = reports.weekly_report_update(report=report, by=org.rep1a,
                                          data={"competitor_notes": "X cut prices"})  # fmt: skip
    report = reports.weekly_report_submit(report=report, by=org.rep1a)
    assert report.status == ReportStatus.SUBMITTED
    assert report.submitted_at == first_submission  # the first submission counts


# --- late reports --------------------------------------------------------------------------


@pytest.mark.django_db
def test_late_list_has_open_past_due_and_late_submitted_reports(org):
    # given reports of a past week: one open, one submitted late, one submitted in time, and
    # an open one not yet due
    past = MON - timedelta(days=21)
    due = reports.due_at_for(past)
    open_late = draft(org.rep1a, past)
    submitted_late = set_status(draft(org.rep1b, past), ReportStatus.SUBMITTED,
                                submitted_at=due + timedelta(hours=5))  # fmt: skip
    set_status(
        draft(org.rep2a, past), ReportStatus.SUBMITTED, submitted_at=due - timedelta(hours=1)
    )
    future = reports.last_week_start() + timedelta(days=7)
    draft(org.rep3a, future)

    # when manager1 lists the late reports
    late = list(reports.late_reports(user=org.manager1))

    # then the two late ones of their department are there, flagged
    assert {r.pk for r in late} == {open_late.pk, submitted_late.pk}
    assert all(r.is_late for r in late)
    # and filtered by team2 there are none; by week the same two
    assert not reports.late_reports(user=org.manager1, team=org.team2).exists()
    assert reports.late_reports(user=org.manager1, week=past + timedelta(days=3)).count() == 2


@pytest.mark.django_db
def test_reps_get_no_late_list(org):
    # given a late report of rep1a
    draft(org.rep1a, MON - timedelta(days=21))

    # when rep1a asks for the late list, then nothing
    assert not reports.late_reports(user=org.rep1a).exists()


@pytest.mark.django_db
def test_report_scope(org):
    # given reports of rep1a and rep3a
    mine, other = draft(org.rep1a), draft(org.rep3a)

    # then rep1a sees their own, sup1 their team's, and rep3a's is outside both
    assert list(reports.weekly_report_list(user=org.rep1a)) == [mine]
    assert list(reports.weekly_report_list(user=org.sup1)) == [mine]
    assert other in reports.weekly_report_list(user=org.admin)


@pytest.mark.django_db
def test_demo_loads_eight_weeks_with_one_late_and_the_current_draft(org):
    # given the org's reps and no report
    from apps.visits import demo_reports

    # when the demo loads, twice
    demo_reports.load()
    demo_reports.load()

    # then each rep has 8 weekly reports; last week's is a draft; one is late
    current = reports.last_week_start()
    assert WeeklyReport.objects.count() == 8 * 4
    assert set(
        WeeklyReport.objects.filter(week_start=current).values_list("status", flat=True)
    ) == {ReportStatus.DRAFT}
    assert WeeklyReport.objects.filter(status=ReportStatus.REVIEWED).count() >= 4 * 5
    assert reports.late_reports(user=org.admin).exclude(week_start=current).count() == 2


@pytest.mark.django_db
def test_the_draft_reads_the_month_target_against_the_actual_to_the_week_end(org):
    # given rep1a's visits target of the month the week ends in (10 visits), and 2 visits
    # that week plus 1 the week after (not counted: after the week's end)
    from apps.goals.choices import Metric, PeriodKind, ScopeKind
    from apps.goals.models import Target
    from apps.goals.periods import period_of

    week_end = MON + timedelta(days=6)
    month = period_of(PeriodKind.MONTH, week_end)
    Target.objects.create(
        metric=Metric.VISITS, period_kind=PeriodKind.MONTH, period_start=month.start,
        period_end=month.end, scope_kind=ScopeKind.REP, user=org.rep1a,
        org_unit=org.team1, amount=Decimal("10"),
    )  # fmt: skip
    customer = make_customer(org.rep1a)
    for day in (MON, MON + timedelta(days=2), MON + timedelta(days=8)):
        make_record(org.rep1a, customer, at(day))
    # when the job drafts the week
    reports.weekly_reports_draft(week_start=MON)
    # then the report holds the target, the actual to the week's end and the percentage
    f = WeeklyReport.objects.get(owner=org.rep1a, week_start=MON).figures
    assert f["target_attainment"] == [
        {
            "metric": "visits",
            "label": str(Metric.VISITS.label),
            "target": "10.00",
            "actual": "2",
            "pct": 20.0,
        }
    ]
