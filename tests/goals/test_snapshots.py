"""The nightly attainment snapshot (apps.goals.snapshots): one row per live target of the day's
periods and per target that ended the eve, with the known actuals and the scope's name; a rerun
the same day replaces the rows; the query count does not grow with the targets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.accounts.models import OrgUnit
from apps.goals import closing, snapshots
from apps.goals.choices import Metric, PeriodKind, TargetStatus
from apps.goals.models import AttainmentSnapshot, Target
from apps.goals.periods import period_of

from .test_closing import NOV, OCT, V, goal_defaults, target, visits  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

MID_NOV = date(2026, 11, 15)


def rows(as_of: date) -> dict[int, AttainmentSnapshot]:
    return {s.target_id: s for s in AttainmentSnapshot.objects.filter(as_of=as_of)}


def test_snapshot_has_a_row_per_running_target_with_its_actual(org):
    # given November targets of rep1a (10 visits), team1 (20) and the company (50), a week
    # target of rep1a, and 3 + 2 visits by rep1a and rep1b this month (one in the week)
    rep = target(NOV, "10", user=org.rep1a)
    team = target(NOV, "20", unit=org.team1)
    company = target(NOV, "50")
    week = target(period_of(PeriodKind.WEEK, MID_NOV), "4", user=org.rep1a)
    visits(org.rep1a, date(2026, 11, 3), 2)
    visits(org.rep1a, date(2026, 11, 12), 1)
    visits(org.rep1b, date(2026, 11, 4), 2)

    # when the snapshot of 15 November is taken
    written = snapshots.snapshot_attainment(as_of=MID_NOV)

    # then each target has its row with the actual of its period and scope
    got = rows(MID_NOV)
    assert written == 4 and set(got) == {rep.pk, team.pk, company.pk, week.pk}
    assert (got[rep.pk].actual, got[rep.pk].target_amount) == (Decimal("3.00"), Decimal("10.00"))
    assert got[team.pk].actual == Decimal("5.00")
    assert got[company.pk].actual == Decimal("5.00")
    assert got[week.pk].actual == Decimal("1.00")  # the week of 9–15 November
    # and the scope as it is named today, with the period and metric copied
    assert got[rep.pk].scope_name == org.rep1a.display_name
    assert got[team.pk].scope_name == "Team 1"
    assert got[company.pk].scope_name == "Company"
    assert (got[rep.pk].metric, got[rep.pk].period_start, got[rep.pk].user_id) == (
        V, NOV.start, org.rep1a.pk,
    )  # fmt: skip


@pytest.mark.usefixtures("goal_defaults")
def test_target_closed_on_the_eve_keeps_its_final_figure(org):
    # given October's target of rep1a (4 visits made), closed by the 00:30 job on 1 November,
    # one of September (ended long ago) and a draft October one
    october = target(OCT, "10", user=org.rep1a)
    september = target(period_of(PeriodKind.MONTH, date(2026, 9, 1)), "10", user=org.rep1b)
    draft = target(OCT, "10", user=org.rep2a, status=TargetStatus.DRAFT)
    visits(org.rep1a, date(2026, 10, 20), 4)
    closing.period_close(today=date(2026, 11, 1))

    # when the snapshot of 1 November is taken
    snapshots.snapshot_attainment(as_of=date(2026, 11, 1))

    # then October's final figure is kept, not September's, not the draft's
    got = rows(date(2026, 11, 1))
    assert got[october.pk].actual == Decimal("4.00")
    assert september.pk not in got and draft.pk not in got
    # and the November targets created by the roll-over are snapshotted as running
    rolled = Target.objects.get(period_start=NOV.start, user=org.rep1a)
    assert got[rolled.pk].target_amount == Decimal("6.00")


def test_rerun_the_same_day_replaces_the_rows(org):
    # given the day's snapshot taken with 1 visit
    rep = target(NOV, "10", user=org.rep1a)
    gone = target(NOV, "10", user=org.rep1b)
    visits(org.rep1a, date(2026, 11, 3), 1)
    snapshots.snapshot_attainment(as_of=MID_NOV)

    # when more visits come in, a target is set back to draft, and the job runs again
    visits(org.rep1a, date(2026, 11, 4), 2)
    Target.objects.filter(pk=gone.pk).update(status=TargetStatus.DRAFT)
    snapshots.snapshot_attainment(as_of=MID_NOV)

    # then the day holds one row per qualifying target, with the new actual
    got = rows(MID_NOV)
    assert set(got) == {rep.pk}
    assert AttainmentSnapshot.objects.filter(as_of=MID_NOV).count() == 1
    assert got[rep.pk].actual == Decimal("3.00")
    # and another day's snapshot is separate
    snapshots.snapshot_attainment(as_of=date(2026, 11, 16))
    assert AttainmentSnapshot.objects.count() == 2


def test_snapshot_survives_a_rename_and_the_target_being_deleted(org):
    # given a snapshot of team1's target
    team = target(NOV, "20", unit=org.team1)
    snapshots.snapshot_attainment(as_of=MID_NOV)

    # when team1 is renamed and the target deleted
    OrgUnit.objects.filter(pk=org.team1.pk).update(name="Renamed")
    Target.objects.filter(pk=team.pk).delete()

    # then the snapshot row keeps the old name, and a rerun leaves it alone
    snapshots.snapshot_attainment(as_of=MID_NOV)
    row = AttainmentSnapshot.objects.get(as_of=MID_NOV)
    assert (row.target_id, row.scope_name, row.target_amount) == (None, "Team 1", Decimal("20"))


def test_snapshot_query_count_does_not_grow_with_targets(org, django_assert_max_num_queries):
    # given every rep and team with a target per metric for the month and the week
    week = period_of(PeriodKind.WEEK, MID_NOV)
    for period in (NOV, week):
        for metric in Metric.values:
            for rep in (org.rep1a, org.rep1b, org.rep2a, org.rep3a):
                target(period, "10", user=rep, metric=metric)
            for unit in (org.team1, org.team2, org.team3):
                target(period, "10", unit=unit, metric=metric)
    visits(org.rep1a, date(2026, 11, 12), 2)

    # when the snapshot is taken: 1 read, 10 actuals (5 metrics × 2 periods), a few writes
    with django_assert_max_num_queries(18):
        written = snapshots.snapshot_attainment(as_of=MID_NOV)

    # then every target has its row
    assert written == 70 == AttainmentSnapshot.objects.filter(as_of=MID_NOV).count()
