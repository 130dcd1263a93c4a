"""Sales contests (销售竞赛): the leaderboard on hand-made documents with known answers, ties,
who takes part (a rep who moved into a contest team midway counts from the move), the final
ranking kept by the nightly job and not recomputed after a late reversal, who sees a contest,
and the create / change rules.

The documents of June 2026 (today is 10 July 2026 unless a test says otherwise):

- signed contracts (contract amount): rep1a 5,000 on 5 Jun and 3,000 on 20 Jun (8,000), and
  4,000 on 31 May and 6,000 on 1 Jul (outside); rep1b 8,000 on 10 Jun (a tie with rep1a);
  rep2a 10,000 on 15 Jun; rep3a 50,000 on 12 Jun while in team 3 and 1,000 on 25 Jun after
  moving to team 2 on 16 Jun.

The builders here (`june_contracts`, `contest`) are shared by the other contest tests.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.goals.choices import Metric
from apps.incentives import contests
from apps.incentives import selectors_contests as selectors
from apps.incentives.models import Contest, ContestStanding
from apps.notifications.models import Notification
from apps.receivables.services import payment_reverse
from tests.goals.test_actuals import contract, installment, move, pay, shanghai

pytestmark = pytest.mark.django_db

D = Decimal
JUNE_START, JUNE_END = date(2026, 6, 1), date(2026, 6, 30)
TODAY = date(2026, 7, 10)


def contest(org, *, units, metric=Metric.CONTRACT_AMOUNT, start=JUNE_START, end=JUNE_END,
            name="六月签约赛") -> Contest:  # fmt: skip
    return contests.contest_create(
        by=org.admin, name=name, metric=metric, starts_on=start, ends_on=end, units=units
    )


def june_contracts(org) -> dict[str, Customer]:
    """The contracts of the module docstring; rep3a moves from team 3 to team 2 on 16 Jun."""
    move(org.rep3a, org.team3, org.team2, date(2026, 6, 16))
    customers = {
        key: Customer.objects.create(name=f"竞赛客户{key}有限公司", owner=owner)
        for key, owner in (("A", org.rep1a), ("B", org.rep1b), ("C", org.rep2a), ("D", org.rep3a))
    }
    a, b, c, d = (customers[k] for k in "ABCD")
    contract(org.rep1a, a, date(2026, 6, 5), "5000.00")
    contract(org.rep1a, a, date(2026, 6, 20), "3000.00")
    contract(org.rep1a, a, date(2026, 5, 31), "4000.00")
    contract(org.rep1a, a, date(2026, 7, 1), "6000.00")
    contract(org.rep1b, b, date(2026, 6, 10), "8000.00")
    contract(org.rep2a, c, date(2026, 6, 15), "10000.00")
    contract(org.rep3a, d, date(2026, 6, 12), "50000.00")
    contract(org.rep3a, d, date(2026, 6, 25), "1000.00")
    return customers


def ranking(board) -> list[tuple[str, int, Decimal]]:
    return [(row.name, row.rank, row.value) for row in board.rows]


@pytest.fixture
def today(time_machine):
    time_machine.move_to(shanghai(2026, 7, 10, 9, 0))
    return TODAY


# --- the leaderboard --------------------------------------------------------------------------


def test_leaderboard_ranks_the_teams_reps_by_the_metric_and_ties_share_a_rank(org, today):
    # given June's contracts and a contest of teams 1 and 2 over June
    june_contracts(org)
    race = contest(org, units=[org.team1, org.team2])
    # when the leaderboard is computed
    board = selectors.live_leaderboard(race, today=today)
    # then rep2a leads with 10,000; rep1a (5,000 + 3,000, not May 31 or Jul 1) and rep1b
    # tie on 8,000 and share rank 2; rep3a counts only the 1,000 signed after joining team 2
    names = {u.pk: u.display_name for u in (org.rep1a, org.rep1b, org.rep2a, org.rep3a)}
    assert [(row.user_id, row.rank, row.value) for row in board.rows] == [
        (org.rep2a.pk, 1, D("10000.00")),
        *sorted(
            [(org.rep1a.pk, 2, D("8000.00")), (org.rep1b.pk, 2, D("8000.00"))],
            key=lambda r: (names[r[0]], r[0]),
        ),
        (org.rep3a.pk, 4, D("1000.00")),
    ]
    assert board.end == JUNE_END and not board.final
    # and rep3a is shown in team 2, the unit of the contest they were last in
    assert board.row_of(org.rep3a.pk).unit_id == org.team2.pk


def test_reps_outside_the_teams_do_not_take_part(org, today):
    # given June's contracts and a contest of team 1 only
    june_contracts(org)
    race = contest(org, units=[org.team1])
    # when the leaderboard is computed
    board = selectors.live_leaderboard(race, today=today)
    # then only team 1's reps are on it (supervisors are not reps)
    assert {row.user_id for row in board.rows} == {org.rep1a.pk, org.rep1b.pk}


def test_a_departments_contest_takes_in_the_reps_of_its_teams(org, today):
    june_contracts(org)
    race = contest(org, units=[org.dept2])
    board = selectors.live_leaderboard(race, today=today)
    # rep3a was in team 3 (under dept 2) until 16 June: the 50,000 of 12 June counts there
    assert [(row.user_id, row.rank, row.value) for row in board.rows] == [
        (org.rep3a.pk, 1, D("50000.00"))
    ]
    assert board.row_of(org.rep3a.pk).unit_id == org.team3.pk


def test_a_running_contest_counts_up_to_today(org, time_machine):
    # given the contracts, and today is 19 June in the middle of the contest
    june_contracts(org)
    time_machine.move_to(shanghai(2026, 6, 19, 9, 0))
    race = contest(org, units=[org.team1])
    # when the live leaderboard is computed
    board = selectors.leaderboard(race)
    # then it runs, counted to today: rep1b's 8,000 leads rep1a's 5,000 (the 3,000 of 20 June
    # is not signed yet as far as the board is concerned)
    assert board.state == selectors.RUNNING and board.end == date(2026, 6, 19)
    assert [(row.user_id, row.rank, row.value) for row in board.rows] == [
        (org.rep1b.pk, 1, D("8000.00")),
        (org.rep1a.pk, 2, D("5000.00")),
    ]


def test_an_upcoming_contest_lists_its_participants_without_figures(org, today):
    race = contest(org, units=[org.team1], start=date(2026, 8, 1), end=date(2026, 8, 31))
    board = selectors.leaderboard(race)
    assert board.state == selectors.UPCOMING and board.end is None
    assert {(row.user_id, row.value) for row in board.rows} == {
        (org.rep1a.pk, D("0")),
        (org.rep1b.pk, D("0")),
    }


def test_the_leaderboard_takes_a_fixed_number_of_queries(org, today, django_assert_num_queries):
    june_contracts(org)
    race = Contest.objects.prefetch_related("units").get(
        pk=contest(org, units=[org.team1, org.team2, org.team3]).pk
    )
    # the units below the contest's, the participants, the metric (one query)
    with django_assert_num_queries(3):
        board = selectors.live_leaderboard(race, today=today)
    assert len(board.rows) == 4


# --- the final ranking ------------------------------------------------------------------------


def _collections(org):
    """June collections: rep1a 3,000 on 10 Jun, rep1b 2,000 on 12 Jun; rep2a nothing."""
    a = Customer.objects.create(name="回款客户甲", owner=org.rep1a)
    b = Customer.objects.create(name="回款客户乙", owner=org.rep1b)
    ca = contract(org.rep1a, a, date(2026, 5, 20), "3000.00", "executing")
    cb = contract(org.rep1b, b, date(2026, 5, 21), "2000.00", "executing")
    pa, _ = pay(
        org.finance, a, date(2026, 6, 10), [(installment(ca, "3000.00", JUNE_END), "3000.00")]
    )
    pay(org.finance, b, date(2026, 6, 12), [(installment(cb, "2000.00", JUNE_END), "2000.00")])
    return pa


def test_finalize_keeps_the_ranking_of_ended_contests_and_notifies_the_participants(org, today):
    # given a collection contest over June with its payments, and one still running
    _collections(org)
    ended = contest(org, units=[org.team1, org.team2], metric=Metric.COLLECTED)
    running = contest(org, units=[org.team1], start=date(2026, 7, 1), end=date(2026, 7, 31),
                      name="七月赛")  # fmt: skip
    # when the nightly job runs
    assert contests.contests_finalize(today=today) == 1
    # then June's ranking is kept: rep1a 3,000, rep1b 2,000, rep2a nothing
    kept = list(
        ContestStanding.objects.filter(contest=ended).values_list("user_id", "rank", "value")
    )
    assert kept == [
        (org.rep1a.pk, 1, D("3000.00")),
        (org.rep1b.pk, 2, D("2000.00")),
        (org.rep2a.pk, 3, D("0.00")),
    ]
    ended.refresh_from_db()
    assert ended.finalized_at is not None
    running.refresh_from_db()
    assert running.finalized_at is None and not running.standings.exists()
    # and each participant got one notification about it
    notified = Notification.objects.filter(kind="contest", url=ended.get_absolute_url())
    assert sorted(notified.values_list("recipient_id", flat=True)) == sorted(
        [org.rep1a.pk, org.rep1b.pk, org.rep2a.pk]
    )


def test_finalize_twice_keeps_nothing_twice_and_notifies_nobody_again(org, today):
    _collections(org)
    ended = contest(org, units=[org.team1], metric=Metric.COLLECTED)
    assert contests.contests_finalize(today=today) == 1
    # when the job runs again
    assert contests.contests_finalize(today=today) == 0
    # then the ranking and the notifications are as after the first run
    assert ended.standings.count() == 2
    assert Notification.objects.filter(kind="contest").count() == 2


def test_a_contest_ending_yesterday_is_final_today_and_not_before(org, time_machine):
    race = contest(org, units=[org.team1], end=date(2026, 7, 9))
    # on its last day it is not final yet
    assert contests.contests_finalize(today=date(2026, 7, 9)) == 0
    # the day after, it is
    assert contests.contests_finalize(today=date(2026, 7, 10)) == 1
    race.refresh_from_db()
    assert race.finalized_at is not None


def test_a_late_reversal_does_not_change_the_final_ranking(org, today):
    # given June's collection contest finalized with rep1a first on 3,000
    payment = _collections(org)
    race = contest(org, units=[org.team1], metric=Metric.COLLECTED)
    contests.contests_finalize(today=today)
    # when rep1a's June payment is reversed in July
    payment_reverse(payment=payment, by=org.finance, reason="银行退票")
    # then a recomputation would now put rep1b first …
    recomputed = selectors.live_leaderboard(race, today=today)
    assert [(r.user_id, r.rank, r.value) for r in recomputed.rows] == [
        (org.rep1b.pk, 1, D("2000.00")),
        (org.rep1a.pk, 2, D("0")),
    ]
    # … but the contest shows the ranking kept when it ended
    race = Contest.objects.get(pk=race.pk)
    board = selectors.leaderboard(race)
    assert board.final
    assert [(r.user_id, r.rank, r.value) for r in board.rows] == [
        (org.rep1a.pk, 1, D("3000.00")),
        (org.rep1b.pk, 2, D("2000.00")),
    ]


# --- who sees a contest -----------------------------------------------------------------------


def test_who_sees_a_teams_contest(org, today):
    # given a contest of team 1 (under dept 1)
    race = contest(org, units=[org.team1])
    seen = {
        name: selectors.contest_list(user=user).filter(pk=race.pk).exists()
        for name, user in org.users().items()
    }
    # then its reps, its head, the head above and the admins see it; nobody else
    assert {name for name, yes in seen.items() if yes} == {
        "rep1a", "rep1b", "sup1", "manager1", "admin", "erp",
    }  # fmt: skip


def test_a_supervisor_sees_the_contest_of_the_department_above_their_team(org, today):
    race = contest(org, units=[org.dept1])
    assert selectors.contest_list(user=org.sup1).filter(pk=race.pk).exists()
    assert selectors.contest_list(user=org.sup2).filter(pk=race.pk).exists()
    assert not selectors.contest_list(user=org.sup3).filter(pk=race.pk).exists()


def test_a_rep_sees_a_contest_of_a_team_they_were_in_during_it(org, today):
    # given rep3a moved from team 3 to team 2 on 16 June, and contests of team 3 in May and
    # June and of team 3 in July
    move(org.rep3a, org.team3, org.team2, date(2026, 6, 16))
    june = contest(org, units=[org.team3], name="六月")
    july = contest(org, units=[org.team3], start=date(2026, 7, 1), end=date(2026, 7, 31),
                   name="七月")  # fmt: skip
    visible = set(selectors.contest_list(user=org.rep3a).values_list("pk", flat=True))
    # then June's is theirs (they were in team 3 until the 16th), July's is not
    assert june.pk in visible and july.pk not in visible


def test_an_outsider_gets_a_404(org, today):
    from django.http import Http404

    race = contest(org, units=[org.team1])
    with pytest.raises(Http404):
        selectors.contest_get(user=org.rep2a, pk=race.pk)


# --- setting and changing a contest --------------------------------------------------------


def test_a_manager_sets_a_contest_for_the_teams_they_head(org, today):
    race = contests.contest_create(
        by=org.manager1, name="  二队冲刺  ", metric=Metric.VISITS, starts_on=date(2026, 7, 1),
        ends_on=date(2026, 7, 31), units=[org.team1.pk, org.team2.pk],
    )  # fmt: skip
    assert race.name == "二队冲刺" and race.created_by == org.manager1
    assert set(race.units.values_list("pk", flat=True)) == {org.team1.pk, org.team2.pk}


def test_a_manager_cannot_put_another_departments_team_in_a_contest(org, today):
    with pytest.raises(ValidationError) as caught:
        contests.contest_create(
            by=org.manager1, name="越界", metric=Metric.VISITS, starts_on=date(2026, 7, 1),
            ends_on=date(2026, 7, 31), units=[org.team1, org.team3],
        )  # fmt: skip
    assert "units" in caught.value.message_dict
    assert not Contest.objects.exists()


@pytest.mark.parametrize("who", ["rep1a", "sup1", "finance"])
def test_only_admins_and_managers_set_contests(org, today, who):
    with pytest.raises(PermissionDenied):
        contests.contest_create(
            by=getattr(org, who), name="x", metric=Metric.VISITS, starts_on=date(2026, 7, 1),
            ends_on=date(2026, 7, 31), units=[org.team1],
        )  # fmt: skip


def test_bad_input_names_each_field(org, today):
    with pytest.raises(ValidationError) as caught:
        contests.contest_create(
            by=org.admin, name=" ", metric="revenue", starts_on=date(2026, 7, 31),
            ends_on=date(2026, 7, 1), units=[],
        )  # fmt: skip
    assert set(caught.value.message_dict) == {"name", "metric", "ends_on", "units"}
    assert caught.value.message_dict["ends_on"] == ["The last day is before the first day."]
    assert caught.value.message_dict["units"] == ["Choose at least one team."]


def test_a_contest_can_be_changed_until_it_starts(org, today):
    race = contest(org, units=[org.team1], start=date(2026, 8, 1), end=date(2026, 8, 31))
    changed = contests.contest_update(
        contest=race, by=org.manager1, name="八月赛", metric=Metric.COLLECTED,
        starts_on=date(2026, 8, 1), ends_on=date(2026, 8, 15), units=[org.team2],
    )  # fmt: skip
    assert (changed.name, changed.metric, changed.ends_on) == ("八月赛", "collected",
                                                               date(2026, 8, 15))  # fmt: skip
    assert list(changed.units.values_list("pk", flat=True)) == [org.team2.pk]


def test_a_running_contest_cannot_be_changed(org, today):
    race = contest(org, units=[org.team1], start=date(2026, 7, 1), end=date(2026, 7, 31))
    with pytest.raises(Conflict):
        contests.contest_update(
            contest=race, by=org.admin, name="改", metric=Metric.COLLECTED,
            starts_on=date(2026, 7, 1), ends_on=date(2026, 7, 31), units=[org.team1],
        )  # fmt: skip
    race.refresh_from_db()
    assert race.name == "六月签约赛"


def test_a_manager_cannot_change_another_departments_contest(org, today):
    race = contest(org, units=[org.team3], start=date(2026, 8, 1), end=date(2026, 8, 31))
    with pytest.raises(PermissionDenied):
        contests.contest_update(
            contest=race, by=org.manager1, name="改", metric=Metric.COLLECTED,
            starts_on=date(2026, 8, 1), ends_on=date(2026, 8, 31), units=[org.team1],
        )  # fmt: skip
