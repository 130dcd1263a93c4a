"""Targets and their decomposition (issue 7): exact splits (even, last year's seasonality, by
hand) down the org tree and the calendar, versions, the parent's sum, rights, duplicates."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.choices import Role
from apps.contracts.models import Contract
from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.goals import targets
from apps.goals.models import Target, TargetVersion
from apps.goals.targets import (
    CENT,
    ONE,
    left_to_allocate,
    split,
    target_create,
    target_decompose,
    target_set_amount,
)
from tests.factories import UserFactory

D = Decimal
_numbers = count(1)


# --- helpers shared by the page and API tests ---------------------------------------------


def make_target(
    by,
    *,
    scope: str = "company",
    unit=None,
    rep=None,
    metric: str = "contract_amount",
    kind: str = "month",
    day: date = date(2026, 3, 10),
    amount: str = "1000.00",
) -> Target:
    return target_create(
        by=by, metric=metric, period_kind=kind, day_in_period_or_start=day, scope_kind=scope,
        org_unit=unit, user=rep, amount=D(amount), reason="年度目标",
    )  # fmt: skip


def sign_contract(owner, day: date, amount: str) -> Contract:
    """A signed contract of `owner` (a new customer each time), signed on `day`."""
    n = next(_numbers)
    customer = Customer.objects.create(owner=owner, name=f"季节客户{n}有限公司")
    contract = Contract.objects.create(
        number=f"HT-T-{n:06d}", title="合同", customer=customer, owner=owner,
        amount=D(amount), credit_portion=D("0"), signed_on=day,
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(status="signed")  # state for the test
    return contract


def amounts(children) -> list[Decimal]:
    return [child.amount for child in children]


# --- the arithmetic ----------------------------------------------------------------------


def test_even_split_of_money_is_exact_to_the_cent():
    assert split(D("100.00"), [ONE] * 3, CENT) == [D("33.34"), D("33.33"), D("33.33")]


def test_even_split_of_a_count_is_in_whole_units():
    assert split(D("10"), [ONE] * 3, ONE) == [D("4"), D("3"), D("3")]


def test_weighted_split_gives_the_extra_cent_to_the_largest_remainder():
    # 1 : 1 : 1 of 0.02 → shares 0.00667 each → two cents to the first two
    assert split(D("0.02"), [D(1)] * 3, CENT) == [D("0.01"), D("0.01"), D("0")]
    # 1 : 2 of 1.00 → 0.333… and 0.666… → the second has the larger remainder
    assert split(D("1.00"), [D(1), D(2)], CENT) == [D("0.33"), D("0.67")]


def test_all_zero_weights_split_evenly():
    assert split(D("9"), [D(0), D(0), D(0)], ONE) == [D(3), D(3), D(3)]


def test_a_total_not_in_whole_steps_cannot_be_split():
    with pytest.raises(ValueError):
        split(D("10.5"), [ONE, ONE], ONE)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cents=st.integers(min_value=0, max_value=9_999_999_999_999_99),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60),
    money=st.booleans(),
)
def test_every_split_adds_up_exactly(cents, weights, money):
    step = CENT if money else ONE
    total = (D(cents) * step).quantize(CENT)
    for given_weights in ([D(1)] * len(weights), [D(w) for w in weights]):
        parts = split(total, given_weights, step)
        assert sum(parts) == total
        assert len(parts) == len(weights)
        assert all(part >= 0 and part == part.quantize(step) for part in parts)
    even = split(total, [D(1)] * len(weights), step)
    assert max(even) - min(even) <= step
    assert even == sorted(even, reverse=True)  # the extra steps on the first parts


# --- create ------------------------------------------------------------------------------


def test_create_sets_an_active_target_with_version_1(org):
    # when manager1 sets dept1's March target
    target = make_target(org.manager1, scope="unit", unit=org.dept1, day=date(2026, 3, 17))
    # then its period is the month and version 1 records who and why
    assert (target.period_start, target.period_end) == (date(2026, 3, 1), date(2026, 3, 31))
    assert (target.status, target.version, target.amount) == ("active", 1, D("1000.00"))
    version = TargetVersion.objects.get(target=target)
    assert (version.version, version.amount, version.changed_by, version.reason) == (
        1, D("1000.00"), org.manager1, "年度目标",
    )  # fmt: skip


def test_a_week_target_covers_monday_to_sunday(org):
    target = make_target(org.admin, kind="week", day=date(2026, 3, 12))  # a Thursday
    assert (target.period_start, target.period_end) == (date(2026, 3, 9), date(2026, 3, 15))


def test_a_reps_target_keeps_the_reps_unit(org):
    target = make_target(org.sup1, scope="rep", rep=org.rep1a)
    assert (target.user, target.org_unit) == (org.rep1a, org.team1)


def test_a_second_live_target_for_the_same_scope_is_a_field_error(org):
    make_target(org.sup1, scope="unit", unit=org.team1)
    with pytest.raises(ValidationError) as caught:
        make_target(org.sup1, scope="unit", unit=org.team1, day=date(2026, 3, 30))
    assert "scope_kind" in caught.value.message_dict
    assert "Team 1" in caught.value.message_dict["scope_kind"][0]
    assert Target.objects.count() == 1


def test_another_metric_or_period_is_not_a_duplicate(org):
    make_target(org.sup1, scope="unit", unit=org.team1)
    make_target(org.sup1, scope="unit", unit=org.team1, metric="visits", amount="40")
    make_target(org.sup1, scope="unit", unit=org.team1, day=date(2026, 4, 1))
    assert Target.objects.count() == 3


def test_a_count_target_must_be_whole(org):
    with pytest.raises(ValidationError) as caught:
        make_target(org.sup1, scope="unit", unit=org.team1, metric="visits", amount="10.5")
    assert "amount" in caught.value.message_dict


def test_a_money_target_is_to_the_cent_and_not_negative(org):
    with pytest.raises(ValidationError):
        make_target(org.sup1, scope="unit", unit=org.team1, amount="10.005")
    with pytest.raises(ValidationError):
        make_target(org.sup1, scope="unit", unit=org.team1, amount="-1")


def test_a_unit_target_needs_a_unit(org):
    with pytest.raises(ValidationError) as caught:
        make_target(org.admin, scope="unit", unit=None)
    assert "org_unit" in caught.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_two_people_setting_the_same_target_at_once_get_one_and_a_field_error(org):
    # given the first creation inside an open transaction (not yet committed)
    created, second_done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                make_target(org.sup1, scope="unit", unit=org.team1)
                created.set()
                second_done.wait(timeout=2)  # the second is blocked on the unique index
        finally:
            connection.close()

    def second() -> None:
        created.wait(timeout=5)
        try:
            make_target(org.manager1, scope="unit", unit=org.team1)
        except ValidationError as exc:
            outcome["error"] = exc
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    # when both run
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    # then one target exists and the other got the field error
    assert Target.objects.count() == 1
    assert "scope_kind" in outcome["error"].message_dict


# --- rights ------------------------------------------------------------------------------


def test_a_rep_cannot_set_a_target(org):
    with pytest.raises(PermissionDenied):
        make_target(org.rep1a, scope="rep", rep=org.rep1a)
    with pytest.raises(PermissionDenied):
        make_target(org.rep1a, scope="unit", unit=org.team1)


def test_finance_cannot_set_a_target(org):
    with pytest.raises(PermissionDenied):
        make_target(org.finance, scope="unit", unit=org.team1)


def test_a_supervisor_sets_the_targets_of_their_team_and_its_reps_only(org):
    make_target(org.sup1, scope="unit", unit=org.team1)
    make_target(org.sup1, scope="rep", rep=org.rep1a)
    for scope, unit, rep in (("unit", org.team2, None), ("unit", org.dept1, None),
                             ("rep", None, org.rep2a), ("company", None, None)):  # fmt: skip
        with pytest.raises(PermissionDenied):
            make_target(org.sup1, scope=scope, unit=unit, rep=rep)


def test_a_manager_sets_targets_in_their_subtree_but_not_the_company(org):
    make_target(org.manager1, scope="unit", unit=org.team2)
    make_target(org.manager1, scope="rep", rep=org.rep1b)
    with pytest.raises(PermissionDenied):
        make_target(org.manager1, scope="unit", unit=org.team3)
    with pytest.raises(PermissionDenied):
        make_target(org.manager1, scope="company")


def test_the_head_of_the_company_and_an_admin_set_company_targets(org):
    head = UserFactory(username="ceo", role=Role.MANAGER, org_unit=org.company)
    org.company.head = head
    org.company.save()
    make_target(head, scope="company")
    make_target(org.admin, scope="company", metric="visits", amount="500")
    assert Target.objects.filter(scope_kind="company").count() == 2


def test_a_supervisor_cannot_change_or_split_another_teams_target(org):
    target = make_target(org.sup2, scope="unit", unit=org.team2)
    with pytest.raises(PermissionDenied):
        target_set_amount(target=target, by=org.sup1, amount=D("5"), reason="x")
    with pytest.raises(PermissionDenied):
        target_decompose(target=target, by=org.sup1, direction="org", method="even")


# --- changing the amount -----------------------------------------------------------------


def test_a_change_adds_a_version_and_keeps_the_old_ones(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1)
    target_set_amount(target=target, by=org.manager1, amount=D("1200.00"), reason="市场扩大")
    target = Target.objects.get(pk=target.pk)
    assert (target.amount, target.version) == (D("1200.00"), 2)
    rows = list(TargetVersion.objects.filter(target=target).values_list(
        "version", "amount", "changed_by", "reason"))  # fmt: skip
    assert rows == [(1, D("1000.00"), org.sup1.pk, "年度目标"),
                    (2, D("1200.00"), org.manager1.pk, "市场扩大")]  # fmt: skip


def test_a_change_needs_a_reason(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1)
    with pytest.raises(ValidationError) as caught:
        target_set_amount(target=target, by=org.sup1, amount=D("1.00"), reason="  ")
    assert "reason" in caught.value.message_dict
    assert Target.objects.get(pk=target.pk).version == 1


def test_a_part_cannot_take_more_than_its_parent_leaves(org):
    # given dept1's 100.00 split evenly into team1 and team2
    parent = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    team1, team2 = target_decompose(target=parent, by=org.manager1, direction="org",
                                    method="even")  # fmt: skip
    # when team1 asks for 60.00
    with pytest.raises(ValidationError) as caught:
        target_set_amount(target=team1, by=org.manager1, amount=D("60.00"), reason="x")
    # then it is refused, naming what is left for it
    assert "50.00" in caught.value.message_dict["amount"][0]
    # and lowering it leaves something to allocate
    target_set_amount(target=team1, by=org.sup1, amount=D("40.00"), reason="人手不足")
    assert left_to_allocate(parent).left == D("10.00")
    # which team2 may then take
    target_set_amount(target=team2, by=org.manager1, amount=D("60.00"), reason="补足")
    assert left_to_allocate(parent).left == D("0.00")


def test_a_split_target_cannot_go_below_its_parts_but_may_rise(org):
    parent = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    target_decompose(target=parent, by=org.manager1, direction="org", method="even")
    with pytest.raises(ValidationError) as caught:
        target_set_amount(target=parent, by=org.manager1, amount=D("99.99"), reason="x")
    assert "100.00" in caught.value.message_dict["amount"][0]
    target_set_amount(target=parent, by=org.manager1, amount=D("120.00"), reason="上调")
    assert left_to_allocate(Target.objects.get(pk=parent.pk)).left == D("20.00")


def test_a_closed_target_cannot_change(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1)
    Target.objects.filter(pk=target.pk).update(status="closed")  # state for the test
    with pytest.raises(Conflict):
        target_set_amount(target=target, by=org.sup1, amount=D("1.00"), reason="x")
    with pytest.raises(Conflict):
        target_decompose(target=target, by=org.sup1, direction="org", method="even")


# --- down the org tree --------------------------------------------------------------------


def test_a_company_target_splits_into_the_top_units_children(org):
    target = make_target(org.admin, scope="company", amount="100.00")
    children = target_decompose(target=target, by=org.admin, direction="org", method="even")
    assert [(c.scope_kind, c.org_unit) for c in children] == [
        ("unit", org.dept1), ("unit", org.dept2),
    ]  # fmt: skip
    assert amounts(children) == [D("50.00"), D("50.00")]
    assert all(c.period_start == target.period_start and c.period_kind == "month"
               for c in children)  # fmt: skip


def test_a_team_target_splits_into_its_reps(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1, amount="100.00")
    children = target_decompose(target=target, by=org.sup1, direction="org", method="even")
    assert [(c.scope_kind, c.user, c.org_unit) for c in children] == [
        ("rep", org.rep1a, org.team1), ("rep", org.rep1b, org.team1),
    ]  # fmt: skip
    assert [(c.parent_id, c.split_method, c.version) for c in children] == [
        (target.pk, "even", 1), (target.pk, "even", 1),
    ]  # fmt: skip
    assert TargetVersion.objects.filter(target__in=children, version=1).count() == 2


def test_inactive_reps_and_supervisors_are_not_parts(org):
    UserFactory(username="gone", role=Role.REP, org_unit=org.team1, is_active=False)
    target = make_target(org.sup1, scope="unit", unit=org.team1, amount="90.00")
    children = target_decompose(target=target, by=org.sup1, direction="org", method="even")
    assert {c.user for c in children} == {org.rep1a, org.rep1b}


def test_a_reps_target_cannot_split_down_the_org_tree(org):
    target = make_target(org.sup1, scope="rep", rep=org.rep1a)
    with pytest.raises(ValidationError) as caught:
        target_decompose(target=target, by=org.sup1, direction="org", method="even")
    assert "direction" in caught.value.message_dict


def test_a_count_target_splits_in_whole_units(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1, metric="visits", amount="7")
    children = target_decompose(target=target, by=org.sup1, direction="org", method="even")
    assert amounts(children) == [D("4"), D("3")]


# --- down the calendar ---------------------------------------------------------------------


def test_year_to_quarters_to_months_to_weeks_adds_up_exactly(org):
    # given a year target of 1,000,000.01
    year = make_target(org.admin, scope="company", kind="year", day=date(2026, 1, 1),
                       amount="1000000.01")  # fmt: skip
    # when split into quarters, the first quarter into months, March into weeks
    quarters = target_decompose(target=year, by=org.admin, direction="calendar", method="even")
    months = target_decompose(target=quarters[0], by=org.admin, direction="calendar",
                              method="even")  # fmt: skip
    weeks = target_decompose(target=months[2], by=org.admin, direction="calendar", method="even")
    # then each level adds up to its parent
    assert [q.period_start for q in quarters] == [date(2026, m, 1) for m in (1, 4, 7, 10)]
    assert amounts(quarters) == [D("250000.01"), D("250000.00"), D("250000.00"), D("250000.00")]
    assert sum(amounts(months)) == quarters[0].amount
    assert [m.period_kind for m in months] == ["month"] * 3
    # and March 2026 (Sunday 1st to Tuesday 31st) has six weeks clipped to the month
    assert [(w.period_start, w.period_end) for w in weeks] == [
        (date(2026, 3, 1), date(2026, 3, 1)), (date(2026, 3, 2), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 3, 15)), (date(2026, 3, 16), date(2026, 3, 22)),
        (date(2026, 3, 23), date(2026, 3, 29)), (date(2026, 3, 30), date(2026, 3, 31)),
    ]  # fmt: skip
    assert sum(amounts(weeks)) == months[2].amount
    assert {(w.scope_kind, w.org_unit_id, w.user_id) for w in weeks} == {("company", None, None)}


def test_a_week_cannot_split_down_the_calendar(org):
    week = make_target(org.admin, scope="company", kind="week")
    with pytest.raises(ValidationError) as caught:
        target_decompose(target=week, by=org.admin, direction="calendar", method="even")
    assert "direction" in caught.value.message_dict


def test_a_reps_month_splits_into_the_reps_weeks(org):
    target = make_target(org.sup1, scope="rep", rep=org.rep1a, metric="visits", amount="20")
    weeks = target_decompose(target=target, by=org.sup1, direction="calendar", method="even")
    assert {(w.scope_kind, w.user_id, w.org_unit_id) for w in weeks} == {
        ("rep", org.rep1a.pk, org.team1.pk)
    }
    assert amounts(weeks) == [D(4), D(4), D(3), D(3), D(3), D(3)]


def test_a_target_cannot_be_split_both_ways(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1)
    target_decompose(target=target, by=org.manager1, direction="org", method="even")
    with pytest.raises(ValidationError) as caught:
        target_decompose(target=target, by=org.manager1, direction="calendar", method="even")
    assert "direction" in caught.value.message_dict
    assert Target.objects.filter(parent=target).count() == 2


# --- seasonality -------------------------------------------------------------------------


def test_seasonal_calendar_split_follows_last_years_quarters(org):
    # given 2025's contracts: Q1 100, Q2 300, Q3 none, Q4 600 (another metric's noise aside)
    sign_contract(org.rep1a, date(2025, 2, 10), "100.00")
    sign_contract(org.rep2a, date(2025, 5, 10), "200.00")
    sign_contract(org.rep3a, date(2025, 6, 30), "100.00")
    sign_contract(org.rep1b, date(2025, 12, 31), "600.00")
    sign_contract(org.rep1b, date(2026, 1, 5), "9999.00")  # this year: not a weight
    year = make_target(org.admin, scope="company", kind="year", day=date(2026, 6, 1),
                       amount="2000.00")  # fmt: skip
    # when split by last year's seasonality
    quarters = target_decompose(target=year, by=org.admin, direction="calendar",
                                method="seasonal")  # fmt: skip
    # then 1 : 3 : 0 : 6
    assert amounts(quarters) == [D("200.00"), D("600.00"), D("0.00"), D("1200.00")]
    assert {q.split_method for q in quarters} == {"seasonal"}


def test_seasonal_calendar_split_of_a_unit_counts_only_the_unit(org):
    sign_contract(org.rep1a, date(2025, 1, 10), "100.00")  # team1, January
    sign_contract(org.rep1b, date(2025, 2, 10), "300.00")  # team1, February
    sign_contract(org.rep2a, date(2025, 3, 10), "5000.00")  # team2: not team1's weight
    quarter = make_target(org.sup1, scope="unit", unit=org.team1, kind="quarter",
                          day=date(2026, 1, 1), amount="1000.00")  # fmt: skip
    months = target_decompose(target=quarter, by=org.sup1, direction="calendar",
                              method="seasonal")  # fmt: skip
    assert amounts(months) == [D("250.00"), D("750.00"), D("0.00")]


def test_seasonal_org_split_follows_last_years_units_and_reps(org):
    # given March 2025: team1 sold 200 (rep1a 50, rep1b 150), team2 100; March 2026 ignored
    sign_contract(org.rep1a, date(2025, 3, 3), "50.00")
    sign_contract(org.rep1b, date(2025, 3, 20), "150.00")
    sign_contract(org.rep2a, date(2025, 3, 31), "100.00")
    sign_contract(org.rep2a, date(2026, 3, 5), "1000.00")
    dept = make_target(org.manager1, scope="unit", unit=org.dept1, amount="90.00")
    # when dept1's March splits to its teams, then team1's to its reps
    teams = target_decompose(target=dept, by=org.manager1, direction="org", method="seasonal")
    reps = target_decompose(target=teams[0], by=org.sup1, direction="org", method="seasonal")
    # then 2 : 1 and 1 : 3
    assert amounts(teams) == [D("60.00"), D("30.00")]
    assert [(r.user, r.amount) for r in reps] == [(org.rep1a, D("15.00")),
                                                  (org.rep1b, D("45.00"))]  # fmt: skip


def test_seasonal_split_without_last_years_actuals_is_even(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1, amount="100.01")
    children = target_decompose(target=target, by=org.sup1, direction="org", method="seasonal")
    assert amounts(children) == [D("50.01"), D("50.00")]


def test_seasonal_counts_are_whole_and_exact(org):
    # 1 : 1 : 1 of 10 new customers → 4, 3, 3
    for rep, day in ((org.rep1a, date(2025, 1, 5)), (org.rep1a, date(2025, 2, 5)),
                     (org.rep1a, date(2025, 3, 5))):  # fmt: skip
        sign_contract(rep, day, "10.00")
    quarter = make_target(org.sup1, scope="unit", unit=org.team1, metric="new_customers",
                          kind="quarter", day=date(2026, 2, 1), amount="10")  # fmt: skip
    months = target_decompose(target=quarter, by=org.sup1, direction="calendar",
                              method="seasonal")  # fmt: skip
    assert amounts(months) == [D(4), D(3), D(3)]


# --- by hand -----------------------------------------------------------------------------


def test_a_manual_split_that_does_not_add_up_names_what_is_left_and_writes_nothing(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    keys = [s.key for s in targets.child_specs(target, "org")]
    assert keys == [f"unit-{org.team1.pk}", f"unit-{org.team2.pk}"]
    with pytest.raises(ValidationError) as caught:
        target_decompose(target=target, by=org.manager1, direction="org", method="manual",
                         manual={keys[0]: "60.00", keys[1]: "30.00"})  # fmt: skip
    message = caught.value.message_dict["manual"][0]
    assert "10.00 is left to allocate" in message
    assert Target.objects.count() == 1


def test_a_manual_split_over_the_target_says_by_how_much(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    keys = [s.key for s in targets.child_specs(target, "org")]
    with pytest.raises(ValidationError) as caught:
        target_decompose(target=target, by=org.manager1, direction="org", method="manual",
                         manual={keys[0]: "60.00", keys[1]: "40.01"})  # fmt: skip
    assert "0.01 over the target" in caught.value.message_dict["manual"][0]
    assert Target.objects.count() == 1


def test_a_manual_split_with_an_unknown_part_is_refused(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    with pytest.raises(ValidationError) as caught:
        target_decompose(target=target, by=org.manager1, direction="org", method="manual",
                         manual={f"unit-{org.team3.pk}": "100.00"})  # fmt: skip
    assert f"unit-{org.team3.pk}" in caught.value.message_dict["manual"][0]


def test_a_manual_split_that_adds_up_is_written(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    children = target_decompose(
        target=target, by=org.manager1, direction="org", method="manual",
        manual={f"unit-{org.team1.pk}": D("70.00"), f"unit-{org.team2.pk}": "30"},
    )  # fmt: skip
    assert amounts(children) == [D("70.00"), D("30.00")]
    assert {c.split_method for c in children} == {"manual"}
    assert left_to_allocate(target).left == D("0.00")


# --- splitting again ---------------------------------------------------------------------


def test_splitting_again_updates_the_parts_in_place_and_keeps_their_versions(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    first = target_decompose(target=target, by=org.manager1, direction="org", method="even")
    again = target_decompose(
        target=target, by=org.manager1, direction="org", method="manual",
        manual={f"unit-{org.team1.pk}": "80.00", f"unit-{org.team2.pk}": "20.00"},
    )  # fmt: skip
    assert [c.pk for c in again] == [c.pk for c in first]
    assert [(c.amount, c.version, c.split_method) for c in again] == [
        (D("80.00"), 2, "manual"), (D("20.00"), 2, "manual"),
    ]  # fmt: skip
    assert list(
        TargetVersion.objects.filter(target=first[0]).order_by("version").values_list("amount")
    ) == [(D("50.00"),), (D("80.00"),)]
    assert Target.objects.filter(parent=target).count() == 2


def test_a_part_whose_amount_does_not_change_keeps_its_version(org):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    target_decompose(target=target, by=org.manager1, direction="org", method="even")
    again = target_decompose(target=target, by=org.manager1, direction="org", method="seasonal")
    assert [c.version for c in again] == [1, 1]  # no actuals: even again, same amounts


def test_a_split_takes_in_a_target_already_set_for_a_part(org):
    # given team1's own March target, set before dept1's was split
    standing = make_target(org.sup1, scope="unit", unit=org.team1, amount="10.00")
    dept = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    # when dept1 splits evenly
    children = target_decompose(target=dept, by=org.manager1, direction="org", method="even")
    # then team1's target is the first part, at version 2, its first version kept
    assert children[0].pk == standing.pk
    standing = Target.objects.get(pk=standing.pk)
    assert (standing.parent_id, standing.amount, standing.version) == (dept.pk, D("50.00"), 2)
    assert TargetVersion.objects.filter(target=standing).count() == 2


def test_a_part_that_is_no_longer_there_is_detached(org):
    target = make_target(org.sup1, scope="unit", unit=org.team1, amount="100.00")
    first = target_decompose(target=target, by=org.sup1, direction="org", method="even")
    org.rep1b.is_active = False
    org.rep1b.save()
    again = target_decompose(target=target, by=org.sup1, direction="org", method="even")
    assert [(c.user, c.amount) for c in again] == [(org.rep1a, D("100.00"))]
    gone = Target.objects.get(pk=first[1].pk)
    assert (gone.parent_id, gone.amount) == (None, D("50.00"))


def test_a_part_cannot_be_set_below_its_own_parts_by_a_new_split(org):
    dept = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    teams = target_decompose(target=dept, by=org.manager1, direction="org", method="even")
    target_decompose(target=teams[0], by=org.sup1, direction="org", method="even")  # 25 + 25
    with pytest.raises(ValidationError) as caught:
        target_decompose(
            target=dept, by=org.manager1, direction="org", method="manual",
            manual={f"unit-{org.team1.pk}": "10.00", f"unit-{org.team2.pk}": "90.00"},
        )  # fmt: skip
    assert "Team 1" in caught.value.message_dict["method"][0]
    assert Target.objects.get(pk=teams[0].pk).amount == D("50.00")
