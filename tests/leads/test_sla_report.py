"""The first-response SLA compliance page and `GET /api/v1/leads/sla-compliance/`: figures in
the user's scope, per owner and per grade, breached leads paged, periods, budgets."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from apps.core.navigation import nav_for
from apps.leads.models import Lead
from apps.leads.periods import Period, period_bounds, period_dates
from apps.leads.selectors import lead_sla_by_owner, lead_sla_report
from tests.api.conftest import assert_problem
from tests.factories import UserFactory

PAGE = "/leads/sla/"
API = "/api/v1/leads/sla-compliance/"
MARCH = {"period": "custom", "start": "2025-03-01", "end": "2025-03-31"}
API_MARCH = {"start": "2025-03-01", "end": "2025-03-31"}


def at(day: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(2025, 3, day, hour), timezone.get_current_timezone())


def due(lead: Lead, when: datetime, *, responded: timedelta | None = None,
        breached: bool = False, grade: str | None = None) -> Lead:  # fmt: skip
    """Put the lead's first response due at `when`, answered `responded` after it (negative:
    before), flagged as breached or not."""
    changes = {"first_response_due_at": when, "first_responded_at": None, "sla_breached_at": None}
    if responded is not None:
        changes["first_responded_at"] = when + responded
    if breached:
        changes["sla_breached_at"] = when + timedelta(minutes=1)
    if grade:
        changes["grade"] = grade
    Lead.objects.filter(pk=lead.pk).update(**changes)
    return lead


@pytest.fixture
def march(capture, territories, org) -> dict[str, Lead]:
    """Team 1: rep1a in time (A) and breached unanswered (B), rep1b late and breached (B);
    team 2: rep2a in time (C); one team-1 lead due in April (outside the period)."""
    a1 = capture(region="上海").lead  # rep1a
    b1 = capture(region="上海").lead  # rep1b
    a2 = capture(region="上海").lead  # rep1a
    april = capture(region="上海").lead
    other = capture(region="北京").lead  # rep2a
    return {
        "in_time": due(a1, at(3), responded=timedelta(minutes=-5), grade="A"),
        "late": due(b1, at(4), responded=timedelta(hours=2), breached=True, grade="B"),
        "breached": due(a2, at(31, 23), breached=True, grade="B"),
        "april": due(april, at(31) + timedelta(days=1), grade="A"),
        "other_team": due(other, at(5), responded=timedelta(0), grade="C"),
    }


# --- the page ------------------------------------------------------------------------------


def test_page_shows_the_figures_of_the_users_scope(client, org, march):
    # given / when sup1 looks at March
    client.force_login(org.sup1)
    response = client.get(PAGE, MARCH)
    # then team 1's three leads due in March count, not team 2's nor April's
    assert response.status_code == 200
    total = response.context["report"].total
    assert (total.due, total.responded_in_time, total.responded_late, total.breached) == (
        3, 1, 1, 2,
    )  # fmt: skip


def test_page_breaks_the_figures_down_per_owner(client, org, march):
    client.force_login(org.sup1)
    rows = client.get(PAGE, MARCH).context["report"].by_owner
    assert [(r.owner.username, r.figures.due, r.figures.breached) for r in rows] == [
        ("rep1a", 2, 1), ("rep1b", 1, 1),
    ]  # fmt: skip


def test_page_breaks_the_figures_down_per_grade(client, org, march):
    client.force_login(org.sup1)
    rows = client.get(PAGE, MARCH).context["report"].by_grade
    assert [(r.grade, r.figures.due, r.figures.responded_in_time) for r in rows] == [
        ("A", 1, 1), ("B", 2, 0),
    ]  # fmt: skip


def test_page_lists_the_breached_leads_linked_to_them(client, org, march):
    client.force_login(org.sup1)
    response = client.get(PAGE, MARCH)
    listed = list(response.context["page"].object_list)
    # the latest breach first
    assert listed == [march["breached"], march["late"]]
    assert f'href="/leads/{march["breached"].pk}/"' in response.content.decode()


def test_page_pages_the_breached_leads(client, capture, territories, org):
    # given 27 breached leads of team 1 due in March
    for i in range(27):
        due(capture(region="上海").lead, at(1 + i), breached=True)
    client.force_login(org.sup1)
    # when
    first = client.get(PAGE, MARCH).context["page"]
    second = client.get(PAGE, {**MARCH, "page": 2}).context["page"]
    # then
    assert (len(first.object_list), first.paginator.num_pages) == (25, 2)
    assert len(second.object_list) == 2


def test_page_pages_the_breached_leads_in_the_order_of_the_list(client, capture, territories, org):
    # given 27 breached leads of team 1 due in March, some breached at the same time
    for i in range(27):
        lead = due(capture(region="上海").lead, at(1 + i // 2), breached=True)
    client.force_login(org.sup1)
    # when both pages are read
    first = client.get(PAGE, MARCH).context
    second = client.get(PAGE, {**MARCH, "page": 2}).context
    # then they hold the report's breached leads in its order (latest breach, then id, first)
    listed = [*first["page"].object_list, *second["page"].object_list]
    assert listed == list(first["report"].breached)
    assert listed[0] == lead and len(set(listed)) == 27


def test_rows_per_owner_team_and_grade_add_up_with_leads_without_owner_or_unit(
    client, capture, territories, org
):
    # given, due in March: rep1a two leads in grades A and B (one late), a rep without a unit
    # one (grade C, breached), and a lead waiting in team 1 without an owner (grade A)
    a = due(capture(region="上海").lead, at(3), responded=timedelta(minutes=-1), grade="A")
    b = due(capture(region="上海").lead, at(4), responded=timedelta(hours=1), grade="B")
    loner = UserFactory(username="zz-loner", role="rep", org_unit=None)
    c = due(capture(region="上海").lead, at(5), breached=True, grade="C")
    waiting = due(capture(region="上海").lead, at(6), grade="A")
    Lead.objects.filter(pk__in=[a.pk, b.pk]).update(owner=org.rep1a, team=org.team1)
    Lead.objects.filter(pk=c.pk).update(owner=loner, team=None)
    Lead.objects.filter(pk=waiting.pk).update(owner=None, team=org.team1, status="new")
    client.force_login(org.admin)
    # when
    report = client.get(PAGE, MARCH).context["report"]

    def figures(f):
        return (f.due, f.responded_in_time, f.responded_late, f.breached)

    # then per owner by username, the leads without an owner last
    assert [(r.owner.username if r.owner else None, figures(r.figures))
            for r in report.by_owner] == [
        ("rep1a", (2, 1, 1, 0)), ("zz-loner", (1, 0, 0, 1)), (None, (1, 0, 0, 0)),
    ]  # fmt: skip
    # per team: rep1a's unit; the rep without a unit and the lead without an owner together
    assert [(r.team.pk if r.team else None, figures(r.figures)) for r in report.by_team] == [
        (org.team1.pk, (2, 1, 1, 0)), (None, (2, 0, 0, 1)),
    ]  # fmt: skip
    # per grade, and the total is their sum; the API answers the same
    assert [(r.grade, figures(r.figures)) for r in report.by_grade] == [
        ("A", (2, 1, 0, 0)), ("B", (1, 0, 1, 0)), ("C", (1, 0, 0, 1)),
    ]  # fmt: skip
    assert figures(report.total) == (4, 1, 1, 1)
    api = lead_sla_report(user=org.admin, period=period_bounds(date(2025, 3, 1),
                                                               date(2025, 3, 31)))  # fmt: skip
    assert (api.total, api.by_grade) == (report.total, report.by_grade)
    assert [(r.owner.pk if r.owner else None, r.figures) for r in api.by_owner] == [
        (r.owner.pk if r.owner else None, r.figures) for r in report.by_owner
    ]


def test_page_of_another_supervisor_excludes_team_1(client, org, march):
    client.force_login(org.sup2)
    report = client.get(PAGE, MARCH).context["report"]
    assert [r.owner.username for r in report.by_owner] == ["rep2a"]
    assert report.total.due == 1


def test_rep_gets_404_on_the_page(client, org, march):
    client.force_login(org.rep1a)
    assert client.get(PAGE, MARCH).status_code == 404


def test_page_with_end_before_start_shows_the_error_of_the_end(client, org):
    client.force_login(org.sup1)
    response = client.get(
        PAGE, {"period": "custom", "start": "2025-03-31", "end": "2025-03-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors == {"end": ["The last day is before the first day."]}


def test_page_with_custom_period_without_dates_asks_for_them(client, org):
    client.force_login(org.sup1)
    response = client.get(PAGE, {"period": "custom"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"start", "end"}


def test_page_defaults_to_this_month(client, org):
    client.force_login(org.sup1)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert (response.context["start"], response.context["end"]) == period_dates(Period.THIS_MONTH)


def test_page_query_count_does_not_grow_with_reps_and_leads(
    client, capture, territories, org, django_assert_max_num_queries
):
    # given 12 more reps in team 1 with breached leads due in March
    for i in range(12):
        rep = UserFactory(username=f"extra{i:02}", role="rep", org_unit=org.team1)
        for day in (2, 3):
            lead = due(capture(region="上海").lead, at(day + i), breached=True)
            Lead.objects.filter(pk=lead.pk).update(owner=rep)
    client.force_login(org.manager1)
    # when / then: session, user, scope, two grouped queries, one page of leads and the shell
    with django_assert_max_num_queries(12):
        response = client.get(PAGE, MARCH)
    assert response.status_code == 200
    assert len(response.context["report"].by_owner) == 12


def test_per_owner_breakdown_is_one_query(capture, territories, org, django_assert_max_num_queries):
    # given leads of 10 more reps due in March
    for i in range(10):
        rep = UserFactory(username=f"extra{i:02}", role="rep", org_unit=org.team1)
        lead = due(capture(region="上海").lead, at(2 + i))
        Lead.objects.filter(pk=lead.pk).update(owner=rep)
    bounds = period_bounds(date(2025, 3, 1), date(2025, 3, 31))
    # when / then
    with django_assert_max_num_queries(1):
        rows = lead_sla_by_owner(user=org.admin, period=bounds)
    assert len(rows) == 10


def test_navigation_offers_the_page_to_supervisors_not_reps(org):
    assert "leads_sla" in {item["key"] for item in nav_for(org.sup1)}
    assert "leads_sla" not in {item["key"] for item in nav_for(org.rep1a)}


# --- periods -------------------------------------------------------------------------------


def test_last_month_in_january_is_december_of_the_year_before():
    assert period_dates(Period.LAST_MONTH, on=date(2025, 1, 15)) == (
        date(2024, 12, 1), date(2024, 12, 31),
    )  # fmt: skip


def test_last_week_runs_monday_to_sunday():
    # 2025-03-12 is a Wednesday
    assert period_dates(Period.LAST_WEEK, on=date(2025, 3, 12)) == (
        date(2025, 3, 3), date(2025, 3, 9),
    )  # fmt: skip


# --- the API -------------------------------------------------------------------------------


def test_api_answers_the_same_figures_as_the_page(bearer, org, march):
    # given / when
    body = bearer(org.sup1).get(API, API_MARCH).json()
    # then
    assert (body["due"], body["responded_in_time"], body["responded_late"], body["breached"]) == (
        3, 1, 1, 2,
    )  # fmt: skip
    assert body["rate"] == pytest.approx(1 / 3)
    assert [(r["owner"]["id"], r["due"]) for r in body["by_owner"]] == [
        (org.rep1a.pk, 2), (org.rep1b.pk, 1),
    ]  # fmt: skip
    assert [(r["grade"], r["due"]) for r in body["by_grade"]] == [("A", 1), ("B", 2)]
    assert (body["start"], body["end"]) == ("2025-03-01", "2025-03-31")


def test_api_for_the_whole_company_counts_every_team(bearer, org, march):
    body = bearer(org.erp).get(API, API_MARCH).json()
    assert body["due"] == 4


def test_api_for_a_rep_is_404(bearer, org, march):
    assert_problem(bearer(org.rep1a).get(API, API_MARCH), 404, "not-found")


def test_api_with_a_malformed_date_names_the_field(bearer, org):
    response = bearer(org.sup1).get(API, {"start": "2025-13-01", "end": "2025-03-31"})
    body = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["start"]


def test_api_with_end_before_start_names_the_end(bearer, org):
    response = bearer(org.sup1).get(API, {"start": "2025-03-31", "end": "2025-03-01"})
    body = assert_problem(response, 400, "validation-error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("end", "invalid_range")]


def test_api_with_a_range_over_a_year_is_refused(bearer, org):
    response = bearer(org.sup1).get(API, {"start": "2024-01-01", "end": "2025-03-31"})
    body = assert_problem(response, 400, "validation-error")
    assert [e["code"] for e in body["errors"]] == ["range_too_long"]


def test_api_query_count_does_not_grow_with_reps(
    bearer, capture, territories, org, django_assert_max_num_queries
):
    for i in range(8):
        rep = UserFactory(username=f"extra{i:02}", role="rep", org_unit=org.team1)
        lead = due(capture(region="上海").lead, at(2 + i))
        Lead.objects.filter(pk=lead.pk).update(owner=rep)
    client = bearer(org.manager1)
    with django_assert_max_num_queries(8):
        response = client.get(API, API_MARCH)
    assert len(response.json()["by_owner"]) == 8
