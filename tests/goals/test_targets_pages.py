"""Target pages: the list (scope, htmx filters, query budget), a new target, the detail (parts,
left to allocate, versions, 404 outside the scope) and its split and amount forms."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from apps.goals.models import Target, TargetVersion
from apps.goals.targets import target_decompose, target_set_amount

from .test_targets import make_target

LIST = "/goals/targets/"


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the assertions read English
        return client

    return login


def test_the_urls_are_where_the_nav_expects_them():
    assert reverse("goals:target_list") == LIST
    assert reverse("goals:target_detail", args=[7]) == "/goals/targets/7/"


def test_the_list_shows_the_targets_in_scope(org, as_user):
    mine = make_target(org.sup1, scope="unit", unit=org.team1, amount="1234.50")
    visits = make_target(org.sup1, scope="rep", rep=org.rep1a, metric="visits", amount="40")
    other = make_target(org.sup2, scope="unit", unit=org.team2)
    target_decompose(target=mine, by=org.sup1, direction="org", method="even")
    response = as_user(org.sup1).get(LIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-target="{mine.pk}"' in html and f'data-target="{visits.pk}"' in html
    assert f'data-target="{other.pk}"' not in html
    # money with 2 decimals (grouped as the language groups), a count as a whole number
    assert re.search(r'data-col="amount">1,?234\.50<', html)
    assert 'data-col="amount">40<' in html
    assert "2026-03" in html  # the period label
    assert 'id="target-create"' in html


def test_a_rep_sees_no_new_target_button_and_cannot_open_the_form(org, as_user):
    client = as_user(org.rep1a)
    assert 'id="target-create"' not in client.get(LIST).content.decode()
    assert client.get(reverse("goals:target_create")).status_code == 403


def test_the_htmx_filter_answers_the_rows_only(org, as_user):
    march = make_target(org.admin, scope="company")
    april = make_target(org.admin, scope="company", day=date(2026, 4, 1))
    response = as_user(org.admin).get(
        LIST,
        {"period_kind": "month", "year": "2026", "metric": "contract_amount"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="target-results"' in html
    assert f'data-target="{march.pk}"' in html and f'data-target="{april.pk}"' in html
    filtered = as_user(org.admin).get(LIST, {"metric": "visits"}, HTTP_HX_REQUEST="true")
    assert f'data-target="{march.pk}"' not in filtered.content.decode()


def test_the_list_query_budget_stays_constant(org, as_user, django_assert_max_num_queries):
    client = as_user(org.manager1)
    make_target(org.manager1, scope="unit", unit=org.team1)
    with django_assert_max_num_queries(12) as few:
        assert client.get(LIST).status_code == 200
    for month in range(4, 13):
        for unit in (org.dept1, org.team2, org.team1):
            target = make_target(org.manager1, scope="unit", unit=unit, day=date(2026, month, 1))
        target_decompose(target=target, by=org.manager1, direction="org", method="even")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert response.content.decode().count("data-target=") == 46  # and team1's 18 rep parts


def test_the_list_pages_by_50(org, as_user):
    for week in range(28):
        for metric in ("visits", "effective_visits"):
            make_target(org.admin, scope="company", metric=metric, kind="week",
                        day=date(2026, 1, 5) + timedelta(weeks=week), amount="10")  # fmt: skip
    client = as_user(org.admin)
    first = client.get(LIST).content.decode()
    second = client.get(LIST, {"page": 2}).content.decode()
    assert first.count("data-target=") == 50
    assert second.count("data-target=") == 6


def test_create_through_the_form(org, as_user):
    client = as_user(org.sup1)
    response = client.post(reverse("goals:target_create"), {
        "metric": "visits", "period_kind": "month", "day": "2026-03-10", "scope_kind": "rep",
        "user": org.rep1b.pk, "amount": "25", "reason": "新人",
    })  # fmt: skip
    target = Target.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/goals/targets/{target.pk}/"
    assert (target.user, target.amount, target.created_by) == (org.rep1b, Decimal("25"), org.sup1)


def test_create_with_a_rep_outside_the_team_is_a_form_error(org, as_user):
    response = as_user(org.sup1).post(reverse("goals:target_create"), {
        "metric": "visits", "period_kind": "month", "day": "2026-03-10", "scope_kind": "rep",
        "user": org.rep2a.pk, "amount": "25",
    })  # fmt: skip
    assert response.status_code == 400
    assert not Target.objects.exists()


def test_a_duplicate_from_the_form_is_an_error_on_the_page(org, as_user):
    make_target(org.sup1, scope="unit", unit=org.team1)
    response = as_user(org.sup1).post(reverse("goals:target_create"), {
        "metric": "contract_amount", "period_kind": "month", "day": "2026-03-31",
        "scope_kind": "unit", "org_unit": org.team1.pk, "amount": "5.00",
    })  # fmt: skip
    assert response.status_code == 400
    assert "already has a target" in response.content.decode()
    assert Target.objects.count() == 1


def test_detail_shows_parts_left_to_allocate_and_versions(org, as_user):
    dept = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    team1, team2 = target_decompose(target=dept, by=org.manager1, direction="org", method="even")
    target_set_amount(target=team1, by=org.manager1, amount=Decimal("40.00"), reason="调整")
    response = as_user(org.manager1).get(dept.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="left-to-allocate"' in html and 'data-left="10.00"' in html
    assert "alert-warning" in html.split('id="left-to-allocate"')[0].rsplit("<div", 1)[1]
    assert f'data-child="{team1.pk}"' in html and f'data-child="{team2.pk}"' in html
    assert "40.0%" in html and "50.0%" in html
    child_page = as_user(org.manager1).get(team1.get_absolute_url()).content.decode()
    assert 'data-version="2"' in child_page and "调整" in child_page
    assert f'href="/goals/targets/{dept.pk}/"' in child_page  # the parent link


def test_a_fully_allocated_target_shows_green(org, as_user):
    dept = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    target_decompose(target=dept, by=org.manager1, direction="org", method="even")
    html = as_user(org.manager1).get(dept.get_absolute_url()).content.decode()
    assert "alert-success" in html.split('id="left-to-allocate"')[0].rsplit("<div", 1)[1]


def test_another_teams_target_page_is_404(org, as_user):
    target = make_target(org.sup2, scope="unit", unit=org.team2)
    rep_target = make_target(org.sup1, scope="rep", rep=org.rep1a)
    assert as_user(org.sup1).get(target.get_absolute_url()).status_code == 404
    assert as_user(org.rep1b).get(rep_target.get_absolute_url()).status_code == 404
    assert as_user(org.sup1).post(
        reverse("goals:target_decompose", args=[target.pk]),
        {"direction": "org", "method": "even"},
    ).status_code == 404  # fmt: skip


def test_the_owner_rep_sees_the_page_without_the_forms(org, as_user):
    target = make_target(org.sup1, scope="rep", rep=org.rep1a)
    html = as_user(org.rep1a).get(target.get_absolute_url()).content.decode()
    assert 'id="target-decompose"' not in html and 'id="target-amount-form"' not in html
    assert as_user(org.rep1a).post(
        reverse("goals:target_set_amount", args=[target.pk]), {"amount": "1", "reason": "x"}
    ).status_code == 403  # fmt: skip


def test_split_evenly_from_the_page(org, as_user):
    target = make_target(org.sup1, scope="unit", unit=org.team1, amount="100.01")
    response = as_user(org.sup1).post(reverse("goals:target_decompose", args=[target.pk]),
                                      {"direction": "org", "method": "even"})  # fmt: skip
    assert response.status_code == 302
    assert sorted(Target.objects.filter(parent=target).values_list("amount", flat=True)) == [
        Decimal("50.00"), Decimal("50.01"),
    ]  # fmt: skip


def test_a_manual_split_that_does_not_add_up_shows_the_remainder_and_writes_nothing(org, as_user):
    target = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    response = as_user(org.manager1).post(
        reverse("goals:target_decompose", args=[target.pk]),
        {"direction": "org", "method": "manual", f"part-unit-{org.team1.pk}": "60.00",
         f"part-unit-{org.team2.pk}": "30.00"},
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 400
    assert "10.00 is left to allocate" in html
    assert 'value="60.00"' in html  # the input is kept
    assert not Target.objects.filter(parent=target).exists()


def test_the_manual_inputs_are_prefilled_with_the_even_split(org, as_user):
    target = make_target(org.admin, scope="company", kind="quarter", day=date(2026, 1, 1),
                         amount="100.00")  # fmt: skip
    response = as_user(org.admin).get(
        reverse("goals:target_decompose", args=[target.pk]),
        {"direction": "calendar", "method": "manual"}, HTTP_HX_REQUEST="true",
    )  # fmt: skip
    html = response.content.decode()
    assert "<html" not in html
    for key, value in (("2026-01-01", "33.34"), ("2026-02-01", "33.33"), ("2026-03-01", "33.33")):
        assert f'name="part-{key}"' in html
        assert f'value="{value}"' in html


def test_counts_are_prefilled_as_whole_numbers(org, as_user):
    target = make_target(org.sup1, scope="unit", unit=org.team1, metric="visits", amount="7")
    html = (
        as_user(org.sup1)
        .get(target.get_absolute_url(), {"direction": "org", "method": "manual"})
        .content.decode()
    )
    assert f'name="part-rep-{org.rep1a.pk}"' in html and 'value="4"' in html


def test_change_the_amount_from_the_page(org, as_user):
    target = make_target(org.sup1, scope="unit", unit=org.team1)
    url = reverse("goals:target_set_amount", args=[target.pk])
    refused = as_user(org.sup1).post(url, {"amount": "900.00", "reason": ""})
    assert refused.status_code == 400
    done = as_user(org.sup1).post(url, {"amount": "900.00", "reason": "淡季"})
    assert done.status_code == 302
    assert list(TargetVersion.objects.filter(target=target).values_list("version", "amount")) == [
        (1, Decimal("1000.00")), (2, Decimal("900.00")),
    ]  # fmt: skip


def test_a_part_over_its_parent_is_refused_on_the_page(org, as_user):
    dept = make_target(org.manager1, scope="unit", unit=org.dept1, amount="100.00")
    team1, _team2 = target_decompose(target=dept, by=org.manager1, direction="org",
                                     method="even")  # fmt: skip
    response = as_user(org.sup1).post(reverse("goals:target_set_amount", args=[team1.pk]),
                                      {"amount": "50.01", "reason": "多做"})  # fmt: skip
    assert response.status_code == 400
    assert "at most 50.00 is left" in response.content.decode()
    assert Target.objects.get(pk=team1.pk).amount == Decimal("50.00")
