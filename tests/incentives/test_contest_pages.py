"""The contest pages: the list by state, a contest with its leaderboard (SVG chart, the
viewer's row highlighted, refreshed by htmx while it runs, the kept ranking once final), the
form's errors, who may set one, scope 404s and query budgets."""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.test import Client

from apps.goals.choices import Metric
from apps.incentives import contests
from apps.incentives.models import Contest

from .test_contests import contest, june_contracts, shanghai

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def today(time_machine):
    time_machine.move_to(shanghai(2026, 7, 10, 9, 0), tick=False)
    return date(2026, 7, 10)


@pytest.fixture
def three(org, today):
    """An ended contest (June), a running one (July), an upcoming one (August), all of team 1."""
    return {
        "ended": contest(org, units=[org.team1], name="六月赛"),
        "running": contest(org, units=[org.team1], start=date(2026, 7, 1),
                           end=date(2026, 7, 31), name="七月赛"),
        "upcoming": contest(org, units=[org.team1], start=date(2026, 8, 1),
                            end=date(2026, 8, 31), name="八月赛"),
    }  # fmt: skip


def test_the_list_by_state(org, three):
    client = logged_in(org.rep1a)
    every = client.get("/incentives/contests/")
    assert every.status_code == 200
    assert [c.name for c, _state in every.context["contests"]] == ["八月赛", "七月赛", "六月赛"]
    assert every.context["counts"] == {"running": 1, "upcoming": 1, "ended": 1}
    for state, name in (("running", "七月赛"), ("upcoming", "八月赛"), ("ended", "六月赛")):
        page = client.get(f"/incentives/contests/?state={state}")
        assert [c.name for c, _s in page.context["contests"]] == [name]
        assert f'data-contest-state="{state}"' in page.content.decode()


def test_a_bad_state_is_a_form_error(org, three):
    response = logged_in(org.rep1a).get("/incentives/contests/?state=someday")
    assert response.status_code == 400
    assert 'id="form-errors"' in response.content.decode()


def test_outsiders_do_not_see_the_contests(org, three):
    client = logged_in(org.rep2a)
    assert client.get("/incentives/contests/").context["contests"] == []
    for race in three.values():
        assert client.get(f"/incentives/contests/{race.pk}/").status_code == 404
        assert client.get(f"/incentives/contests/{race.pk}/leaderboard/").status_code == 404


def test_the_leaderboard_page_highlights_the_viewers_row(org, today):
    # given June's contracts and a contest of teams 1 and 2
    june_contracts(org)
    race = contest(org, units=[org.team1, org.team2])
    # when rep1b opens it
    response = logged_in(org.rep1b).get(f"/incentives/contests/{race.pk}/")
    # then the chart and the table show everyone, rep1b's row highlighted
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'data-mine="true"' in html
    assert f'<tr data-user="{org.rep1b.pk}" data-rank="2" class="table-primary' in html
    assert response.context["mine"].rank == 2
    assert response.context["board"].rows[0].user_id == org.rep2a.pk
    # and an ended contest is not refreshed
    assert "hx-trigger" not in html.split('id="contest-leaderboard"')[1].split(">")[0]


def test_a_running_contest_refreshes_every_minute(org, three):
    race = three["running"]
    page = logged_in(org.rep1a).get(f"/incentives/contests/{race.pk}/").content.decode()
    opening = page.split('id="contest-leaderboard"')[1].split(">")[0]
    assert f'hx-get="/incentives/contests/{race.pk}/leaderboard/"' in opening
    assert 'hx-trigger="every 60s"' in opening
    # the refresh answers the leaderboard alone
    part = logged_in(org.rep1a).get(f"/incentives/contests/{race.pk}/leaderboard/")
    assert part.status_code == 200
    assert part.content.decode().lstrip().startswith('<section class="card mb-3"')


def test_a_final_contest_shows_the_kept_ranking(org, today):
    june_contracts(org)
    race = contest(org, units=[org.team1])
    contests.contests_finalize(today=today)
    response = logged_in(org.sup1).get(f"/incentives/contests/{race.pk}/")
    assert response.context["board"].final
    assert "Final ranking" in response.content.decode()


def test_an_admin_sets_a_contest_through_the_form(org, today):
    client = logged_in(org.admin)
    assert client.get("/incentives/contests/new/").status_code == 200
    response = client.post("/incentives/contests/new/", {
        "name": "七月拜访赛", "description": "拜访最多者获胜", "metric": Metric.VISITS,
        "starts_on": "2026-07-11", "ends_on": "2026-07-31", "units": [org.team1.pk, org.team3.pk],
    })  # fmt: skip
    race = Contest.objects.get()
    assert response.status_code == 302 and response["Location"] == race.get_absolute_url()
    assert set(race.units.values_list("pk", flat=True)) == {org.team1.pk, org.team3.pk}


def test_the_form_names_the_wrong_fields(org, today):
    response = logged_in(org.manager1).post("/incentives/contests/new/", {
        "name": "", "metric": Metric.VISITS, "starts_on": "2026-07-31",
        "ends_on": "2026-07-01", "units": [org.team3.pk],
    })  # fmt: skip
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"name", "ends_on", "units"}
    assert form.errors["ends_on"] == ["The last day is before the first day."]
    assert form.errors["units"] == ["Choose teams within the units you head."]
    assert not Contest.objects.exists()


@pytest.mark.parametrize("who", ["rep1a", "sup1"])
def test_reps_and_supervisors_cannot_set_contests(org, today, who):
    client = logged_in(getattr(org, who))
    assert client.get("/incentives/contests/new/").status_code == 403
    assert "contest-new" not in client.get("/incentives/contests/").content.decode()


def test_an_upcoming_contest_is_changed_and_a_running_one_is_not(org, three):
    client = logged_in(org.manager1)
    upcoming, running = three["upcoming"], three["running"]
    response = client.post(f"/incentives/contests/{upcoming.pk}/edit/", {
        "name": "八月冲刺", "metric": Metric.COLLECTED, "starts_on": "2026-08-01",
        "ends_on": "2026-08-31", "units": [org.team2.pk],
    })  # fmt: skip
    assert response.status_code == 302
    upcoming.refresh_from_db()
    assert (upcoming.name, upcoming.metric) == ("八月冲刺", "collected")
    refused = client.get(f"/incentives/contests/{running.pk}/edit/", follow=True)
    assert "A contest cannot be changed once it has started." in refused.content.decode()
    # a manager of another department may not change it (and does not even see it)
    assert logged_in(org.manager2).get(f"/incentives/contests/{upcoming.pk}/edit/").status_code in (
        403, 404,
    )  # fmt: skip


def test_pages_stay_within_a_query_budget(org, today, django_assert_max_num_queries):
    june_contracts(org)
    for n in range(30):
        contest(org, units=[org.team1, org.team2], name=f"赛{n}")
    race = Contest.objects.order_by("id").first()
    client = logged_in(org.manager1)
    with django_assert_max_num_queries(10):
        listing = client.get("/incentives/contests/")
    assert len(listing.context["contests"]) == 25 and listing.context["has_next"]
    with django_assert_max_num_queries(16):
        detail = client.get(f"/incentives/contests/{race.pk}/")
    assert len(detail.context["board"].rows) == 4
