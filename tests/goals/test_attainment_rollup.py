"""A unit (or the company) without a target of its own for the period is measured against the
sum of its parts' targets (its child units' and its reps'), marked as implied."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.goals import attainment
from apps.goals.choices import Metric
from apps.goals.periods import period_of

from .test_attainment import target

pytestmark = pytest.mark.django_db

D = Decimal
PERIOD = period_of("month", date(2026, 6, 15))


def test_a_unit_without_its_own_target_sums_its_reps_and_child_units(org):
    # given month targets for the reps of team1 and team2 only, and one set for dept2 itself
    target(Metric.VISITS, "10", unit=org.team1, user=org.rep1a)
    target(Metric.VISITS, "15", unit=org.team1, user=org.rep1b)
    target(Metric.VISITS, "7", unit=org.team2, user=org.rep2a)
    target(Metric.VISITS, "40", unit=org.dept2)
    # when the company's attainment is read
    result = attainment.attainment(user=org.finance, period=PERIOD, metrics=[Metric.VISITS])
    cells = {(row.kind, row.key): row.cells[Metric.VISITS] for row in result.rows}
    # then dept1 takes its teams' reps' 32, dept2 keeps its own 40, the company 72
    assert cells[("unit", org.dept1.pk)].target == D("32")
    assert cells[("unit", org.dept2.pk)].target == D("40")
    assert result.totals[Metric.VISITS].target == D("72")
    # and a team in turn: team1 = 25
    team = attainment.attainment(
        user=org.finance, period=PERIOD, metrics=[Metric.VISITS], unit_id=org.dept1.pk
    )
    cells = {(row.kind, row.key): row.cells[Metric.VISITS] for row in team.rows}
    assert cells[("unit", org.team1.pk)].target == D("25")


def test_a_unit_with_no_target_anywhere_below_has_none(org):
    target(Metric.VISITS, "10", unit=org.team1, user=org.rep1a)
    result = attainment.attainment(user=org.finance, period=PERIOD, metrics=[Metric.VISITS])
    cells = {(row.kind, row.key): row.cells[Metric.VISITS] for row in result.rows}
    assert cells[("unit", org.dept2.pk)].target is None


def test_the_page_marks_a_target_that_is_the_sum_of_its_parts(client, org):
    # given a rep's month target and one set for dept2 itself
    target(Metric.VISITS, "10", unit=org.team1, user=org.rep1a)
    target(Metric.VISITS, "40", unit=org.dept2)
    client.force_login(org.finance)
    # when the company's month attainment is opened
    html = client.get(
        "/goals/attainment/", {"period": "month", "date": "2026-06-15", "metric": "visits"}
    ).content.decode()
    # then dept1's target (from rep1a) and the company's carry the mark, dept2's does not
    row = lambda key: html.split(f'data-key="{key}"')[1].split("</tr>")[0]  # noqa: E731
    assert "data-implied" in row(f"unit-{org.dept1.pk}")
    assert "data-implied" not in row(f"unit-{org.dept2.pk}")
    assert "data-implied" in row("total")
