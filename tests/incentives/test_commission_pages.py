"""The commission pages and API: who sees which statement (the rep their own, a head their
units', finance all; anything else 404), the list's filters and totals, the statement page's
computation and lines, "submit all drafts of my team", the payroll download; the plan pages
(create with tiers and factors, the rules refused with a message naming the field, a plan with
statements keeps its tiers, overlapping plans); the API's plans and statements (filters,
ordering, detail, submit, problem+json for 400/403/404/409); query budgets.
Data: the June book of `test_commissions` (today 10 July 2026)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.incentives.models import CommissionPlan, CommissionStatement
from tests.api.conftest import api, assert_problem, bearer  # noqa: F401 (fixtures)
from tests.factories import PASSWORD

from .test_commissions import (  # noqa: F401 (fixtures)
    JULY,
    JUNE,
    Book,
    approve,
    commission_policy,
    june_book,
    make_plan,
    run,
    statement_of,
)

pytestmark = pytest.mark.django_db

D = Decimal


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the assertions read English
    return client


@pytest.fixture
def computed(org, time_machine) -> Book:
    """The June book, after the job."""
    docs = june_book(org, time_machine)
    run()
    return docs


def listed(response) -> set[str]:
    """The (rep username, month) of the rows of a statements list page."""
    page = response.content.decode()
    rows = {
        (s.rep.username, f"{s.month:%Y-%m}")
        for s in CommissionStatement.objects.select_related("rep")
        if f'data-statement="{s.pk}"' in page
    }
    return rows


# --- statements pages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "reps"),
    [
        ("rep1a", {"rep1a"}),
        ("sup1", {"rep1a", "rep1b"}),
        ("manager1", {"rep1a", "rep1b", "rep2a"}),
        ("manager2", {"rep3a"}),
        ("finance", {"rep1a", "rep1b", "rep2a", "rep3a"}),
        ("admin", {"rep1a", "rep1b", "rep2a", "rep3a"}),
    ],
)
def test_statement_list_shows_the_callers_scope(client, org, computed, who, reps):
    response = login(client, getattr(org, who)).get(reverse("incentives:statement_list"))
    assert response.status_code == 200
    assert {rep for rep, _month in listed(response)} == reps


def test_statement_list_filters_and_totals(client, org, computed):
    login(client, org.finance)
    url = reverse("incentives:statement_list")
    # when finance filters June of team 1
    response = client.get(url, {"month": "2026-06", "unit": org.team1.pk})
    assert listed(response) == {("rep1a", "2026-06"), ("rep1b", "2026-06")}
    # then the totals row sums every row of the filter
    page = response.content.decode()
    assert 'data-total="payable">570.00<' in page and "Total of 2 statements" in page
    # a search by the rep's login, a status filter
    assert listed(client.get(url, {"q": "rep1b"})) == {("rep1b", "2026-06"), ("rep1b", "2026-07")}
    assert listed(client.get(url, {"status": "approved"})) == set()


def test_statement_list_names_a_bad_month(client, org, computed):
    response = login(client, org.finance).get(
        reverse("incentives:statement_list"), {"month": "2026-13"}
    )
    assert response.status_code == 200
    assert 'data-field="month"' in response.content.decode()
    assert "Enter a month as YYYY-MM" in response.content.decode()


def test_statement_page_shows_the_computation_and_links_the_documents(client, org, computed):
    june = statement_of(org.rep1a, JUNE)
    page = login(client, org.rep1a).get(june.get_absolute_url()).content.decode()
    # the tiers step by step: 10,000 × 1 %, 20,000 × 2 %, 500 × 3 %, the accelerator
    assert page.count("data-step=") == 3
    assert "500.00" in page and "515.00" in page and "5,500.00 above target × 1%" in page
    # the lines link to the payment and the contract
    assert reverse("receivables:payment_detail", args=[computed.p1.pk]) in page
    assert reverse("contracts:detail", args=[computed.c1.pk]) in page
    assert 'data-figure="payable">570.00<' in page


@pytest.mark.parametrize("who", ["rep1b", "rep2a", "sup2", "manager2"])
def test_statement_outside_the_scope_is_404(client, org, computed, who):
    june = statement_of(org.rep1a, JUNE)
    response = login(client, getattr(org, who)).get(june.get_absolute_url())
    assert response.status_code == 404


def test_approved_statement_shows_its_later_adjustment(client, org, computed, time_machine):
    from apps.receivables.services import payment_reverse

    june = approve(statement_of(org.rep1a, JUNE), submitter=org.sup1, approver=org.manager1)
    payment_reverse(payment=computed.p1, by=org.finance, reason="退票")
    run()
    july = statement_of(org.rep1a, JULY)
    # the July page lists the June adjustment; the June page points to it
    july_page = login(client, org.rep1a).get(july.get_absolute_url()).content.decode()
    assert "-270.00" in july_page and "2026-06" in july_page
    june_page = client.get(june.get_absolute_url()).content.decode()
    assert 'id="later-adjustments"' in june_page and july.get_absolute_url() in june_page


def test_team_submission_from_the_list(client, org, computed):
    login(client, org.sup1)
    response = client.post(
        reverse("incentives:statement_submit_team"), {"month": "2026-06"}, follow=True
    )
    assert response.status_code == 200
    assert "2 statements submitted to the manager." in response.content.decode()
    assert statement_of(org.rep1a, JUNE).status == "pending"
    assert statement_of(org.rep2a, JUNE).status == "draft"
    # an open month is refused with the reason
    response = client.post(
        reverse("incentives:statement_submit_team"), {"month": "2026-07"}, follow=True
    )
    assert "has not ended yet" in response.content.decode()


def test_payroll_download_for_finance_only(client, org, computed):
    approve(statement_of(org.rep1a, JUNE), submitter=org.sup1, approver=org.manager1)
    url = reverse("incentives:statement_export")
    forbidden = login(client, org.sup1).post(url, {"month": "2026-06"})
    assert forbidden.status_code == 403
    response = login(client, org.finance).post(url, {"month": "2026-06"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "commissions-2026-06.xlsx" in response["Content-Disposition"]
    assert statement_of(org.rep1a, JUNE).exported_by == org.finance


def test_statement_pages_query_counts_stay_flat(
    client, org, computed, django_assert_max_num_queries
):
    # given a year of statements for every rep (hand-made rows)
    plan = computed.plan
    rows = [
        CommissionStatement(
            plan=plan,
            rep=rep,
            org_unit=rep.org_unit,
            month=date(2025, month, 1),
            collected=D("100.00"),
            base=D("100.00"),
            tier_amount=D("1.00"),
            earned=D("1.00"),
            payable=D("1.00"),
            computed_at=timezone.now(),
            status="approved",
        )
        for month in range(1, 13)
        for rep in (org.rep1a, org.rep1b, org.rep2a, org.rep3a)
    ]
    CommissionStatement.objects.bulk_create(rows)
    login(client, org.finance)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("incentives:statement_list"))
    assert response.status_code == 200 and len(listed(response)) == 50
    june = statement_of(org.rep1a, JUNE)
    with django_assert_max_num_queries(30):
        response = client.get(june.get_absolute_url())
    assert response.status_code == 200


# --- plan pages --------------------------------------------------------------------------------


def _plan_post(**overrides) -> dict:
    data = {
        "name": "Team 3 plan",
        "valid_from": "2026-01-01",
        "valid_to": "",
        "units": [],
        "accelerator_pct": "1.00",
        "clawback_on_write_off": "on",
        "notes": "",
        "tiers-TOTAL_FORMS": "3",
        "tiers-INITIAL_FORMS": "0",
        "tiers-0-from_amount": "0",
        "tiers-0-rate_pct": "1",
        "tiers-1-from_amount": "100000",
        "tiers-1-rate_pct": "1.5",
        "tiers-2-from_amount": "",
        "tiers-2-rate_pct": "",
        "factors-TOTAL_FORMS": "2",
        "factors-INITIAL_FORMS": "0",
        "factors-0-kind": "customer_tier",
        "factors-0-value": "A",
        "factors-0-factor": "1.2",
        "factors-1-kind": "",
        "factors-1-value": "",
        "factors-1-factor": "",
    }
    data.update(overrides)
    return data


def test_finance_creates_a_plan_with_tiers_and_factors(client, org):
    login(client, org.finance)
    response = client.post(
        reverse("incentives:commission_plan_create"), _plan_post(units=[org.team3.pk])
    )
    plan = CommissionPlan.objects.get(name="Team 3 plan")
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    assert list(plan.tiers.values_list("from_amount", "rate")) == [
        (D("0.00"), D("0.0100")), (D("100000.00"), D("0.0150")),
    ]  # fmt: skip
    assert list(plan.factors.values_list("kind", "value", "factor")) == [
        ("customer_tier", "A", D("1.2000"))
    ]
    assert (plan.accelerator_rate, list(plan.units.all())) == (D("0.0100"), [org.team3])
    page = client.get(plan.get_absolute_url()).content.decode()
    assert "1.50%" in page and "Team 3" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tiers-0-from_amount": "500"}, "The first tier starts at 0."),
        ({"tiers-1-from_amount": "0"}, "Each tier starts above the one before it."),
        (
            {
                "tiers-0-from_amount": "",
                "tiers-0-rate_pct": "",
                "tiers-1-from_amount": "",
                "tiers-1-rate_pct": "",
            },
            "Give at least one tier, starting at 0.",
        ),
        ({"tiers-1-rate_pct": "150"}, "Ensure this value is less than or equal to 100."),
        ({"valid_to": "2025-12-31"}, "The plan cannot end before it starts."),
        (
            {"factors-1-kind": "customer_tier", "factors-1-value": "A", "factors-1-factor": "2"},
            "“A” has two factors: keep one.",
        ),
    ],
)
def test_plan_rules_are_refused_with_a_message(client, org, overrides, message):
    login(client, org.admin)
    response = client.post(reverse("incentives:commission_plan_create"), _plan_post(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CommissionPlan.objects.exists()


def test_overlapping_active_plan_for_the_same_unit_is_refused(client, org):
    make_plan("Team 3 now", units=[org.team3], valid_from=date(2026, 6, 1))
    login(client, org.admin)
    response = client.post(
        reverse("incentives:commission_plan_create"), _plan_post(units=[org.team3.pk])
    )
    assert response.status_code == 400
    assert "The active plan “Team 3 now” already applies" in response.content.decode()
    # another unit is fine
    response = client.post(
        reverse("incentives:commission_plan_create"), _plan_post(units=[org.team2.pk])
    )
    assert response.status_code == 302


def test_plan_with_statements_keeps_its_tiers(client, org, computed):
    plan = computed.plan
    login(client, org.finance)
    url = reverse("incentives:commission_plan_edit", args=[plan.pk])
    assert "already has statements" in client.get(url).content.decode()
    changed = _plan_post(
        name=plan.name, **{"tiers-1-from_amount": "10000", "tiers-1-rate_pct": "2.5",
                           "tiers-2-from_amount": "30000", "tiers-2-rate_pct": "3"},
        **{"factors-0-kind": "", "factors-0-value": "", "factors-0-factor": ""},
    )  # fmt: skip
    response = client.post(url, changed)
    assert response.status_code == 400
    assert "its tiers cannot change: make a new plan" in response.content.decode()
    assert list(plan.tiers.values_list("rate", flat=True)) == [
        D("0.0100"), D("0.0200"), D("0.0300"),
    ]  # fmt: skip
    # the name alone may change
    same = _plan_post(
        name="Renamed", **{"tiers-1-from_amount": "10000", "tiers-1-rate_pct": "2",
                           "tiers-2-from_amount": "30000", "tiers-2-rate_pct": "3"},
        **{"factors-0-value": "A", "factors-0-factor": "1.5",
           "factors-1-kind": "product_line", "factors-1-value": "服务", "factors-1-factor": "0.5"},
    )  # fmt: skip
    assert client.post(url, same).status_code == 302
    assert CommissionPlan.objects.get(pk=plan.pk).name == "Renamed"


def test_plan_pages_for_whom(client, org):
    team1 = make_plan("Team 1 only", units=[org.team1])
    everyone = make_plan("Everyone", units=[], valid_from=date(2025, 1, 1),
                         valid_to=date(2025, 12, 31))  # fmt: skip
    login(client, org.rep3a)
    assert client.get(reverse("incentives:commission_plan_create")).status_code == 403
    assert client.get(team1.get_absolute_url()).status_code == 404
    assert client.get(everyone.get_absolute_url()).status_code == 200
    response = client.post(reverse("incentives:commission_plan_deactivate", args=[everyone.pk]))
    assert response.status_code == 403
    login(client, org.finance)
    client.post(reverse("incentives:commission_plan_deactivate", args=[everyone.pk]))
    assert not CommissionPlan.objects.get(pk=everyone.pk).is_active


# --- API ---------------------------------------------------------------------------------------

PLAN = {
    "name": "API plan",
    "valid_from": "2026-01-01",
    "units": [],
    "accelerator_rate": "0.0100",
    "tiers": [{"from_amount": "0", "rate": "0.0100"}, {"from_amount": "50000", "rate": "0.02"}],
    "factors": [{"kind": "customer_tier", "value": "A", "factor": "1.2"}],
}


def test_api_finance_creates_and_changes_a_plan(org, bearer):  # noqa: F811
    client = bearer(org.finance)
    created = client.post("/api/v1/commission-plans/", PLAN, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["tiers"] == [
        {"from_amount": "0.00", "rate": "0.0100"}, {"from_amount": "50000.00", "rate": "0.0200"},
    ]  # fmt: skip
    patched = client.patch(
        f"/api/v1/commission-plans/{body['id']}/", {"name": "Renamed"}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"
    assert len(patched.json()["tiers"]) == 2


def test_api_plan_problems(org, bearer):  # noqa: F811
    assert_problem(
        bearer(org.rep1a).post("/api/v1/commission-plans/", PLAN, format="json"),
        403, "permission-denied",
    )  # fmt: skip
    bad = {**PLAN, "tiers": [{"from_amount": "100", "rate": "0.01"}]}
    body = assert_problem(
        bearer(org.admin).post("/api/v1/commission-plans/", bad, format="json"),
        400, "validation-error",
    )  # fmt: skip
    assert [e["field"] for e in body["errors"]] == ["tiers"]
    body = assert_problem(
        bearer(org.admin).post("/api/v1/commission-plans/", {**PLAN, "units": [999999]},
                               format="json"),
        400, "validation-error",
    )  # fmt: skip
    assert [e["field"] for e in body["errors"]] == ["units"]


def test_api_plan_with_statements_refuses_new_tiers(org, computed, bearer):  # noqa: F811
    url = f"/api/v1/commission-plans/{computed.plan.pk}/"
    body = assert_problem(
        bearer(org.finance).patch(url, {"tiers": [{"from_amount": "0", "rate": "0.05"}]},
                                  format="json"),
        400, "validation-error",
    )  # fmt: skip
    assert [e["field"] for e in body["errors"]] == ["tiers"]


def test_api_statements_list_scope_filters_and_ordering(org, computed, bearer):  # noqa: F811
    mine = bearer(org.rep1a).get("/api/v1/commission-statements/").json()["results"]
    assert {(s["rep"]["id"], s["month"]) for s in mine} == {
        (org.rep1a.pk, "2026-06-01"), (org.rep1a.pk, "2026-07-01"),
    }  # fmt: skip
    client = bearer(org.finance)
    june = client.get(
        "/api/v1/commission-statements/", {"month": "2026-06", "ordering": "-payable"}
    ).json()["results"]
    assert june[0]["payable"] == "570.00" and len(june) == 4
    team = client.get(
        "/api/v1/commission-statements/", {"org_unit": org.team1.pk, "month": "2026-06"}
    ).json()["results"]
    assert {s["rep"]["id"] for s in team} == {org.rep1a.pk, org.rep1b.pk}
    since = (timezone.now() + timedelta(minutes=5)).isoformat()
    assert (
        client.get("/api/v1/commission-statements/", {"updated_since": since}).json()["results"]
        == []
    )
    body = assert_problem(
        client.get("/api/v1/commission-statements/", {"month": "2026-13"}), 400,
        "validation-error",
    )  # fmt: skip
    assert [e["field"] for e in body["errors"]] == ["month"]
    assert_problem(
        client.get("/api/v1/commission-statements/", {"ordering": "rep"}), 400,
        "validation-error",
    )  # fmt: skip


def test_api_statement_detail_and_submit(org, computed, bearer):  # noqa: F811
    june = statement_of(org.rep1a, JUNE)
    url = f"/api/v1/commission-statements/{june.pk}/"
    detail = bearer(org.sup1).get(url).json()
    assert detail["available_transitions"] == ["submit"]
    assert {line["allocation"] for line in detail["lines"]} == {computed.a1.pk, computed.a2.pk}
    assert [step["amount"] for step in detail["tier_steps"]] == ["100.00", "400.00", "15.00"]
    assert bearer(org.rep1a).get(url).json()["available_transitions"] == []

    # the rep cannot submit (403), another team's head does not see it (404), July is open (409)
    assert_problem(bearer(org.rep1a).post(f"{url}submit/"), 403, "permission-denied")
    assert_problem(bearer(org.sup2).post(f"{url}submit/"), 404, "not-found")
    assert_problem(bearer(org.sup2).get(url), 404, "not-found")
    july = statement_of(org.rep1a, JULY)
    assert_problem(
        bearer(org.sup1).post(f"/api/v1/commission-statements/{july.pk}/submit/"), 409,
        "conflict",
    )  # fmt: skip

    submitted = bearer(org.sup1).post(f"{url}submit/", {"comment": "June"}, format="json")
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending"
    assert_problem(bearer(org.sup1).post(f"{url}submit/"), 409, "conflict")


def test_api_team_submission(org, computed, bearer):  # noqa: F811
    response = bearer(org.sup1).post(
        "/api/v1/commission-statements/submit-team/", {"month": "2026-06"}, format="json"
    )
    assert response.status_code == 200
    assert sorted(response.json()["submitted"]) == sorted(
        [statement_of(org.rep1a, JUNE).pk, statement_of(org.rep1b, JUNE).pk]
    )


def test_api_statement_list_query_count_stays_flat(
    org,
    computed,
    bearer,  # noqa: F811
    django_assert_max_num_queries,
):
    client = bearer(org.manager1)
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/commission-statements/")
    assert response.status_code == 200 and len(response.json()["results"]) == 6
    june = statement_of(org.rep1a, JUNE)
    with django_assert_max_num_queries(14):
        assert client.get(f"/api/v1/commission-statements/{june.pk}/").status_code == 200
