"""The week calendar page: route order, scope, team rows, query budget."""

from __future__ import annotations

from datetime import timedelta

from apps.visits.selectors import week_start
from apps.visits.services import visit_plan_move, visit_record_create


def _week_url(day, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"/visits/?week={week_start(day):%Y-%m-%d}" + (f"&{query}" if query else "")


def test_calendar_shows_the_weeks_plans_in_route_order(client, org, make_plan, today):
    # given three plans on one future day, the last moved first
    day = today + timedelta(days=7)
    a, b, c = (make_plan(days=7, objectives=str(i)) for i in range(3))
    visit_plan_move(plan=c, by=org.rep1a, planned_date=day, route_order=1)
    client.force_login(org.rep1a)
    # when the rep opens that week
    html = client.get(_week_url(day)).content.decode()
    # then the day lists c, a, b
    positions = [html.index(f'data-plan="{p.pk}"') for p in (c, a, b)]
    assert positions == sorted(positions)
    assert f'data-date="{day:%Y-%m-%d}"' in html


def test_unplanned_record_shows_as_done(client, org, customers, today):
    from django.utils import timezone

    record = visit_record_create(
        by=org.rep1a,
        customer=customers["1a"],
        data={"purpose": "service", "started_at": timezone.now()},
    )
    client.force_login(org.rep1a)
    assert f'data-record="{record.pk}"' in client.get(_week_url(today)).content.decode()


def test_rep_cannot_open_another_reps_calendar(client, org):
    client.force_login(org.rep1a)
    assert client.get(f"/visits/?rep={org.rep1b.pk}").status_code == 404
    assert client.get(f"/visits/?team={org.team1.pk}").status_code == 404


def test_supervisor_sees_the_teams_week(client, org, make_plan, customers, today):
    mine = make_plan(days=7)
    theirs = make_plan(by=org.rep1b, customer=customers["1b"], days=7)
    other_team = make_plan(by=org.rep2a, customer=customers["2a"], days=7)
    client.force_login(org.sup1)
    html = client.get(_week_url(today + timedelta(days=7), team=org.team1.pk)).content.decode()
    assert f'data-rep="{org.rep1a.pk}"' in html and f'data-rep="{org.rep1b.pk}"' in html
    assert f'data-plan="{mine.pk}"' in html and f'data-plan="{theirs.pk}"' in html
    assert f'data-plan="{other_team.pk}"' not in html
    assert client.get(f"/visits/?team={org.team2.pk}").status_code == 404
    assert client.get(f"/visits/?rep={org.rep1b.pk}").status_code == 200


def test_calendar_query_budget(
    client, org, make_plan, customers, today, django_assert_max_num_queries
):
    for i in range(20):
        make_plan(days=7 + i % 5)
        make_plan(by=org.rep1b, customer=customers["1b"], days=7 + i % 5)
    client.force_login(org.sup1)
    with django_assert_max_num_queries(14):
        response = client.get(_week_url(today + timedelta(days=7), team=org.team1.pk))
    assert response.status_code == 200
    assert response.content.decode().count("data-plan=") == 40
