"""Period close (apps.goals.closing.period_close): targets closed against their actuals, the gap
rolled into the next period's target (or a new one) per the metric's setting, nothing rolled for
an over-achieved target or a metric that does not roll, cascades over several ended periods,
idempotent reruns, and the reviews opened with the figures.

The actuals are visits (apps.goals.actuals: visit records started in the period), made by hand
with known counts. Helpers here are shared by the other goals test modules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.approvals.models import ApprovalPolicy, ApprovalStep
from apps.goals import closing
from apps.goals.choices import Metric, PeriodKind, ReviewStatus, ScopeKind, TargetStatus
from apps.goals.models import MetricSetting, PeriodReview, Target, TargetVersion
from apps.goals.periods import Period, period_between, period_of
from apps.notifications.models import Notification
from tests.visits.test_figures import at, make_customer, make_record

OCT = period_of(PeriodKind.MONTH, date(2026, 10, 1))
NOV = period_of(PeriodKind.MONTH, date(2026, 11, 1))
DEC = period_of(PeriodKind.MONTH, date(2026, 12, 1))
V = Metric.VISITS


# --- helpers shared by the goals tests -----------------------------------------------------


@pytest.fixture
def goal_defaults(db) -> None:
    """What migration 0002 installs (a transaction test elsewhere may have flushed it): every
    metric rolls over; the review is approved by a manager."""
    for metric in Metric.values:
        MetricSetting.objects.update_or_create(metric=metric, defaults={"roll_over": True})
    policy, _created = ApprovalPolicy.objects.get_or_create(
        document_type="goals.periodreview", defaults={"name": "Period review"}
    )
    if not policy.steps.exists():
        ApprovalStep.objects.create(
            policy=policy, order=1, name="Manager", approver_kind="role", role="manager"
        )


def target(
    period: Period,
    amount: str,
    *,
    user=None,
    unit=None,
    metric: str = V,
    status: str = TargetStatus.ACTIVE,
    **kwargs,
) -> Target:
    """A target of `user` (a rep's, in the rep's unit) or `unit`, or the company's."""
    if user is not None:
        scope = {"scope_kind": ScopeKind.REP, "user": user, "org_unit": user.org_unit}
    elif unit is not None:
        scope = {"scope_kind": ScopeKind.UNIT, "org_unit": unit}
    else:
        scope = {"scope_kind": ScopeKind.COMPANY}
    made = Target.objects.create(
        metric=metric, period_kind=period.kind, period_start=period.start,
        period_end=period.end, amount=Decimal(amount), **scope, **kwargs,
    )  # fmt: skip
    if status != TargetStatus.ACTIVE:
        # FSM fields are protected: set the state in the database, as the services would.
        Target.objects.filter(pk=made.pk).update(status=status)
        made = Target.objects.get(pk=made.pk)
    return made


def visits(owner, day: date, count: int) -> None:
    """`count` visit records of `owner` on `day`."""
    customer = make_customer(owner, f"客户{owner.username}{day:%m%d}{count}")
    for hour in range(count):
        make_record(owner, customer, at(day, 8 + hour % 10))


def reload(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- roll-over -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_gap_is_added_to_next_periods_target_with_a_version(org, goal_defaults):
    # given rep1a's October target of 10 visits, 4 made, and a November target of 10
    october = target(OCT, "10", user=org.rep1a)
    november = target(NOV, "10", user=org.rep1a)
    visits(org.rep1a, date(2026, 10, 5), 4)
    visits(org.rep1a, date(2026, 11, 2), 3)  # November's: not October's actual

    # when the close runs on 1 November
    result = closing.period_close(today=date(2026, 11, 1))

    # then October is closed and its 6 missing visits raise November's target as version 2
    assert reload(october).status == TargetStatus.CLOSED
    november = reload(november)
    assert (november.amount, november.rolled_in, november.version) == (
        Decimal("16.00"), Decimal("6.00"), 2,
    )  # fmt: skip
    version = TargetVersion.objects.get(target=november, version=2)
    assert version.amount == Decimal("16.00")
    assert "2026" in version.reason and "10" in version.reason  # "rolled over from 2026-10"
    assert (result.closed, result.rolled_over, result.created) == (1, 1, 0)


@pytest.mark.django_db
def test_gap_creates_next_periods_target_when_there_is_none(org, goal_defaults):
    # given team1's October target of 10 visits and 7 visits by its reps
    target(OCT, "10", unit=org.team1)
    visits(org.rep1a, date(2026, 10, 5), 4)
    visits(org.rep1b, date(2026, 10, 6), 3)

    # when October closes
    result = closing.period_close(today=date(2026, 11, 1))

    # then team1 has a November target of the 3 missing visits, active, version 1
    created = Target.objects.get(period_start=NOV.start, org_unit=org.team1)
    assert (created.scope_kind, created.status, created.period_end) == (
        ScopeKind.UNIT, TargetStatus.ACTIVE, NOV.end,
    )  # fmt: skip
    assert (created.amount, created.rolled_in, created.version) == (
        Decimal("3.00"), Decimal("3.00"), 1,
    )  # fmt: skip
    assert TargetVersion.objects.get(target=created).version == 1
    assert result.created == 1


@pytest.mark.django_db
def test_metric_that_does_not_roll_over_rolls_nothing(org, goal_defaults):
    # given visits do not roll over, and rep1a missed October's target
    MetricSetting.objects.filter(metric=V).update(roll_over=False)
    october = target(OCT, "10", user=org.rep1a)
    november = target(NOV, "10", user=org.rep1a)
    visits(org.rep1a, date(2026, 10, 5), 2)

    # when October closes
    closing.period_close(today=date(2026, 11, 1))

    # then October is closed but November is untouched, and nothing was created
    assert reload(october).status == TargetStatus.CLOSED
    november = reload(november)
    assert (november.amount, november.rolled_in, november.version) == (Decimal("10.00"), 0, 1)
    assert Target.objects.count() == 2


@pytest.mark.django_db
def test_over_achieved_target_rolls_nothing(org, goal_defaults):
    # given rep1a made 12 visits against October's 10
    october = target(OCT, "10", user=org.rep1a)
    november = target(NOV, "10", user=org.rep1a)
    visits(org.rep1a, date(2026, 10, 5), 12)

    # when October closes
    result = closing.period_close(today=date(2026, 11, 1))

    # then it is closed and November is unchanged (no negative roll-over)
    assert reload(october).status == TargetStatus.CLOSED
    assert reload(november).amount == Decimal("10.00")
    assert (result.rolled_over, result.created) == (0, 0)


@pytest.mark.django_db
def test_second_run_changes_nothing(org, goal_defaults):
    # given October closed once with a roll-over into November
    target(OCT, "10", user=org.rep1a)
    november = target(NOV, "10", user=org.rep1a)
    visits(org.rep1a, date(2026, 10, 5), 4)
    closing.period_close(today=date(2026, 11, 1))
    reviews = PeriodReview.objects.count()

    # when the job runs again (a retry, or the next night)
    again = closing.period_close(today=date(2026, 11, 2))

    # then nothing is closed, rolled or opened twice
    assert again.as_dict() == {"closed": 0, "rolled_over": 0, "created": 0, "reviews": 0}
    november = reload(november)
    assert (november.amount, november.version) == (Decimal("16.00"), 2)
    assert TargetVersion.objects.filter(target=november).count() == 1
    assert PeriodReview.objects.count() == reviews


@pytest.mark.django_db
def test_running_period_and_draft_targets_are_not_closed(org, goal_defaults):
    # given a November target (running on 15 November) and a draft October one of a plan
    november = target(NOV, "10", user=org.rep1a)
    draft = target(OCT, "10", user=org.rep1b, status=TargetStatus.DRAFT)

    # when the close runs mid-November
    result = closing.period_close(today=date(2026, 11, 15))

    # then neither is closed
    assert result.closed == 0
    assert reload(november).status == TargetStatus.ACTIVE
    assert reload(draft).status == TargetStatus.DRAFT


@pytest.mark.django_db
def test_roll_over_into_a_decomposed_target_changes_the_parent_only(org, goal_defaults):
    # given team1's November target split into its reps' targets, and October missed by 4
    target(OCT, "10", unit=org.team1)
    parent = target(NOV, "20", unit=org.team1)
    child_a = target(NOV, "12", user=org.rep1a, parent=parent)
    child_b = target(NOV, "8", user=org.rep1b, parent=parent)
    visits(org.rep1a, date(2026, 10, 5), 6)

    # when October closes
    closing.period_close(today=date(2026, 11, 1))

    # then the parent carries the gap (left to allocate: 4) and its children are unchanged
    assert reload(parent).amount == Decimal("24.00")
    assert reload(child_a).amount == Decimal("12.00")
    assert reload(child_b).amount == Decimal("8.00")
    assert sum(c.amount for c in reload(parent).children.all()) == Decimal("20.00")


@pytest.mark.django_db
def test_missed_weeks_cascade_oldest_first(org, goal_defaults):
    # given two ended weeks of 5 visits each for rep1a (the job did not run in between):
    # 2 visits in the first, 4 in the second
    w1 = period_of(PeriodKind.WEEK, date(2026, 11, 2))
    w2 = period_of(PeriodKind.WEEK, date(2026, 11, 9))
    w3 = period_of(PeriodKind.WEEK, date(2026, 11, 16))
    first = target(w1, "5", user=org.rep1a)
    second = target(w2, "5", user=org.rep1a)
    visits(org.rep1a, date(2026, 11, 3), 2)
    visits(org.rep1a, date(2026, 11, 10), 4)

    # when the close runs in the third week
    closing.period_close(today=date(2026, 11, 17))

    # then week 2 got week 1's 3 (target 8), closed at 4, and week 3 was created for the 4 left
    assert reload(first).status == reload(second).status == TargetStatus.CLOSED
    assert reload(second).amount == Decimal("8.00")
    third = Target.objects.get(period_start=w3.start, user=org.rep1a)
    assert (third.amount, third.status, third.period_end) == (
        Decimal("4.00"), TargetStatus.ACTIVE, w3.end,
    )  # fmt: skip


def test_a_week_clipped_to_its_month_is_followed_by_the_rest_of_the_week():
    # given the clipped week Mon 28 – Fri 30 September 2026 (from September's decomposition)
    clipped = period_between(PeriodKind.WEEK, date(2026, 9, 28), date(2026, 9, 30))

    # then the next period is the rest of that week in October, then a whole week follows it
    assert closing.next_period(clipped) == period_between(
        "week", date(2026, 10, 1), date(2026, 10, 4)
    )
    whole = period_of(PeriodKind.WEEK, date(2026, 10, 5))
    assert closing.next_period(whole) == period_of(PeriodKind.WEEK, date(2026, 10, 12))
    assert closing.next_period(OCT) == NOV and closing.next_period(NOV) == DEC


# --- reviews opened by the close -----------------------------------------------------------


@pytest.mark.django_db
def test_close_opens_a_review_per_unit_with_the_figures(
    org, goal_defaults, django_capture_on_commit_callbacks
):
    # given team1's October target of 10 visits with its reps' 6 and 4; rep2a's 5 in team2
    target(OCT, "10", unit=org.team1)
    target(OCT, "6", user=org.rep1a)
    target(OCT, "4", user=org.rep1b)
    target(OCT, "5", user=org.rep2a)
    visits(org.rep1a, date(2026, 10, 5), 4)
    visits(org.rep1b, date(2026, 10, 6), 5)

    # when October closes
    with django_capture_on_commit_callbacks(execute=True):
        result = closing.period_close(today=date(2026, 11, 1))

    # then team1 and team2 each have an open review owned by their head
    assert result.reviews == 2
    review = PeriodReview.objects.get(org_unit=org.team1)
    assert (review.status, review.owner, review.period_kind) == (
        ReviewStatus.OPEN, org.sup1, PeriodKind.MONTH,
    )  # fmt: skip
    assert (review.period_start, review.period_end) == (OCT.start, OCT.end)
    # and its figures: the unit 9 of 10, rep1a 4 of 6, rep1b 5 of 4 (over: no gap)
    figures = review.figures[V]
    assert figures["unit"] == {"target": "10.00", "actual": "9.00", "attainment": "90.0",
                               "gap": "1.00"}  # fmt: skip
    reps = {rep["user"]: rep for rep in figures["reps"]}
    assert reps[org.rep1a.pk] | {"name": ""} == {
        "user": org.rep1a.pk, "name": "", "target": "6.00", "actual": "4.00",
        "attainment": "66.7", "gap": "2.00",
    }  # fmt: skip
    assert reps[org.rep1a.pk]["name"] == org.rep1a.display_name
    assert (reps[org.rep1b.pk]["attainment"], reps[org.rep1b.pk]["gap"]) == ("125.0", "0.00")
    # team2 has no unit target: its actual, against no target
    team2 = PeriodReview.objects.get(org_unit=org.team2).figures[V]
    assert team2["unit"] == {"target": None, "actual": "0.00", "attainment": None, "gap": None}
    # and each head is told to write the review
    assert Notification.objects.filter(recipient=org.sup1, url=review.get_absolute_url()).exists()
    assert Notification.objects.filter(recipient=org.sup2).count() == 1


@pytest.mark.django_db
def test_company_targets_close_without_a_review(org, goal_defaults):
    # given only a company target for October
    company = target(OCT, "10")

    # when October closes
    result = closing.period_close(today=date(2026, 11, 1))

    # then it is closed and rolled over, and no unit review is opened
    assert reload(company).status == TargetStatus.CLOSED
    assert (result.created, result.reviews) == (1, 0)
    assert not PeriodReview.objects.exists()


@pytest.mark.django_db
def test_close_job_query_count_does_not_grow_with_targets(
    org, goal_defaults, django_assert_max_num_queries
):
    # given 4 reps × 5 metrics of October targets, and their units' targets
    for metric in Metric.values:
        for rep in (org.rep1a, org.rep1b, org.rep2a, org.rep3a):
            target(OCT, "10", user=rep, metric=metric)
        for unit in (org.team1, org.team2, org.team3):
            target(OCT, "30", unit=unit, metric=metric)
    visits(org.rep1a, date(2026, 10, 5), 1)

    # when October closes: a fixed number of queries (5 actuals, a few bulk writes)
    with django_assert_max_num_queries(25):
        result = closing.period_close(today=date(2026, 11, 1))

    # then all 35 are closed and rolled into 35 new November targets
    assert (result.closed, result.created, result.reviews) == (35, 35, 3)
    assert Target.objects.filter(period_start=NOV.start, status=TargetStatus.ACTIVE).count() == 35
