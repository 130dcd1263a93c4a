"""Pages of the weekly reports and the visit figures: scope (404 outside), the rep's edit and
submit, the supervisor's review box, the late filter, the figures drill-down, query budgets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from apps.visits import reports
from apps.visits.choices import ReportStatus
from apps.visits.models import WeeklyReport

from .test_figures import MON, at, make_customer, make_record
from .test_reports import draft, set_status

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_rep_of_another_team_gets_404_on_a_report(org):
    # given rep1a's report
    report = draft(org.rep1a)

    # when rep3a opens it, then 404 (not 403)
    response = login(org.rep3a).get(reverse("visits:report_detail", args=[report.pk]))
    assert response.status_code == 404


def test_rep_writes_and_submits_from_the_page(org):
    # given rep1a's draft
    report = draft(org.rep1a)
    client = login(org.rep1a)

    # when the rep saves the sections and submits
    response = client.post(
        reverse("visits:report_edit", args=[report.pk]),
        {"summary": "Good week", "competitor_notes": "", "abnormal_customers": "",
         "next_week_plan": "Call A", "submit": "1"},
    )  # fmt: skip

    # then the report is submitted and the page shows it read-only
    assert response.status_code == 302
    report = WeeklyReport.objects.get(pk=report.pk)
    assert (report.status, report.summary) == (ReportStatus.SUBMITTED, "Good week")
    page = client.get(report.get_absolute_url(), **EN).content.decode()
    assert "Good week" in page and 'id="report-form"' not in page


def test_submitting_an_incomplete_report_names_the_sections(org):
    # given rep1a's empty draft
    report = draft(org.rep1a)

    # when the rep submits it without the summary and the plan
    response = login(org.rep1a).post(
        reverse("visits:report_edit", args=[report.pk]), {"summary": " ", "submit": "1"}, **EN
    )

    # then the page answers 400 with the two fields marked, and nothing changed
    assert response.status_code == 400
    body = response.content.decode()
    assert 'data-field="summary"' in body and 'data-field="next_week_plan"' in body
    report = WeeklyReport.objects.get(pk=report.pk)
    assert report.status == ReportStatus.DRAFT


def test_supervisor_sees_the_review_box_and_returns_the_report(org):
    # given rep1a's submitted report
    report = set_status(draft(org.rep1a, summary="s", next_week_plan="p"), ReportStatus.SUBMITTED)
    client = login(org.sup1)

    # when sup1 opens it, then the review box is there
    assert 'id="review-box"' in client.get(report.get_absolute_url()).content.decode()

    # when sup1 returns it with a comment
    client.post(
        reverse("visits:report_review", args=[report.pk]),
        {"decision": "return", "comment": "Add the plan"},
    )

    # then it is a draft again
    report = WeeklyReport.objects.get(pk=report.pk)
    assert (report.status, report.supervisor_comment) == (ReportStatus.DRAFT, "Add the plan")


def test_rep_cannot_review_own_report_from_the_page(org):
    # given rep1a's submitted report
    report = set_status(draft(org.rep1a, summary="s", next_week_plan="p"), ReportStatus.SUBMITTED)

    # when rep1a posts a review, then it is refused with a message and nothing changes
    login(org.rep1a).post(reverse("visits:report_review", args=[report.pk]), {"decision": "review"})
    report = WeeklyReport.objects.get(pk=report.pk)
    assert report.status == ReportStatus.SUBMITTED


def test_report_list_shows_team_reports_and_filters_late(org):
    # given a late open report of rep1a and an in-time one of rep1b
    past = MON - timedelta(days=21)
    late = draft(org.rep1a, past)
    ok = set_status(draft(org.rep1b, past), ReportStatus.SUBMITTED,
                    submitted_at=reports.due_at_for(past) - timedelta(hours=2))  # fmt: skip
    draft(org.rep3a, past)
    client = login(org.sup1)

    # when sup1 lists reports, then both of team1 are there and rep3a's is not
    body = client.get(reverse("visits:report_list"), **EN).content.decode()
    assert f'data-report="{late.pk}"' in body and f'data-report="{ok.pk}"' in body
    assert body.count("data-report=") == 2

    # when sup1 asks for late ones only, then only the late one
    body = client.get(reverse("visits:report_list"), {"late": "on"}, **EN).content.decode()
    assert f'data-report="{late.pk}"' in body and f'data-report="{ok.pk}"' not in body


def test_report_list_query_budget(org, django_assert_max_num_queries):
    # given many reports in the admin's scope
    from tests.factories import UserFactory

    for i in range(30):
        draft(UserFactory(username=f"r{i}", role="rep", org_unit=org.team1), MON)
    client = login(org.admin)
    client.get(reverse("visits:report_list"))  # warm the session and nav caches

    # when the admin lists them, then the page costs a constant number of queries
    with django_assert_max_num_queries(15):
        response = client.get(reverse("visits:report_list"))
    assert response.content.decode().count("data-report=") == 30


def test_figures_page_drills_from_department_to_rep(org):
    # given visits of rep1a in the week of MON
    make_record(org.rep1a, make_customer(org.rep1a, "A"), at(MON + timedelta(days=1)))
    client = login(org.manager1)
    custom = {"period": "custom", "start": MON.isoformat(),
              "end": (MON + timedelta(days=6)).isoformat()}  # fmt: skip

    # when manager1 opens the figures, then a row per team
    body = client.get(reverse("visits:figures"), custom, **EN).content.decode()
    assert f'data-row="unit-{org.team1.pk}"' in body
    assert f'data-row="unit-{org.team3.pk}"' not in body

    # when they drill into team1, then a row per rep
    body = client.get(reverse("visits:figures"), {**custom, "team": org.team1.pk}).content.decode()
    assert f'data-row="rep-{org.rep1a.pk}"' in body


def test_figures_page_404s_on_a_team_outside_the_scope(org):
    # when sup1 asks for team3's figures, then 404
    response = login(org.sup1).get(reverse("visits:figures"), {"team": org.team3.pk})
    assert response.status_code == 404


def test_figures_page_bad_dates_name_the_field(org):
    # when the custom period ends before it starts
    response = login(org.sup1).get(
        reverse("visits:figures"),
        {"period": "custom", "start": "2026-11-10", "end": "2026-11-01"},
        **EN,
    )

    # then the page says so about the last day
    assert 'data-field="end"' in response.content.decode()


def test_figures_page_query_budget(org, django_assert_max_num_queries):
    # given many reps and customers under the admin
    from tests.factories import UserFactory

    for i in range(20):
        rep = UserFactory(username=f"f{i}", role="rep", org_unit=org.team2)
        make_record(rep, make_customer(rep, f"C{i}"), at(MON))
    client = login(org.admin)
    client.get(reverse("visits:figures"))

    # when the admin opens the figures of team2, then a constant number of queries
    with django_assert_max_num_queries(20):
        response = client.get(reverse("visits:figures"), {"team": org.team2.pk})
    assert response.status_code == 200
    assert WeeklyReport.objects.count() == 0
