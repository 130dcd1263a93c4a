"""Quotes (报价单): totals, line validation, the quote-discount approval (折扣审批) end to end,
versions, editing rules, scope on pages and API, query budgets, and the negotiate guard."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.approvals.choices import RequestStatus, TaskStatus
from apps.approvals.models import ApprovalTask
from apps.approvals.services import (
    approval_approve,
    approval_reject,
    approval_request_for,
    approval_submit,
)
from apps.core.errors import Conflict
from apps.customers.models import Contact, Customer
from apps.opportunities.choices import QuoteStatus, Stage
from apps.opportunities.models import Opportunity, Product, Quote, QuoteLine, has_approved_quote
from apps.opportunities.quotes import (
    clean_lines,
    quote_create,
    quote_new_version,
    quote_submit,
    quote_update,
)
from apps.opportunities.services import opportunity_create
from apps.opportunities.views_quotes import amount_in_words
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


# --- fixtures -------------------------------------------------------------------------------


def make_product(code: str, price: str, *, active: bool = True, name: str = "") -> Product:
    return Product.objects.create(
        code=code, name=name or f"产品 {code}", unit="台", list_price=Decimal(price),
        product_line="工业设备", is_active=active,
    )  # fmt: skip


def make_opportunity(owner, name: str = "华星 产线改造") -> Opportunity:
    customer = Customer.objects.create(owner=owner, name=f"{name} 客户")
    return opportunity_create(customer=customer, owner=owner, by=owner, name=name)


@pytest.fixture
def products(db) -> dict[str, Product]:
    return {
        "a": make_product("A-100", "33.33"),
        "b": make_product("B-200", "1000.00"),
        "old": make_product("Z-OLD", "10.00", active=False),
    }


@pytest.fixture
def opportunity(org) -> Opportunity:
    return make_opportunity(org.rep1a)


def line(product: Product, quantity="1", discount="0", unit_price=None, **extra) -> dict:
    data = {"product": product.pk, "quantity": quantity, "discount_pct": discount}
    if unit_price is not None:
        data["unit_price"] = unit_price
    return {**data, **extra}


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def waiting_approvers(quote: Quote) -> set[str]:
    request = approval_request_for(quote)
    return set(
        ApprovalTask.objects.filter(request=request, status=TaskStatus.WAITING).values_list(
            "approver__username", flat=True
        )
    )


# --- totals and rounding ----------------------------------------------------------------------


def test_totals_are_exact_for_three_at_33_33_with_ten_percent(org, products, opportunity):
    # given / when: 3 × 33.33 = 99.99, less 10 % = 89.991 → 89.99
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["a"], "3", "10")]
    )
    # then
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.list_amount == Decimal("99.99")
    assert quote.total == Decimal("89.99")
    assert quote.discount_amount == Decimal("10.00")
    assert quote.max_discount_pct == Decimal("10.00")
    assert quote.lines.get().amount == Decimal("89.99")


def test_line_amount_rounds_half_up_to_the_cent(org, products, opportunity):
    # given: 1 × 0.05 at 50 % = 0.025 → 0.03 (half-up, not banker's 0.02)
    cheap = make_product("C-005", "0.05")
    # when
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(cheap, "1", "50")])
    # then
    assert quote.lines.get().amount == Decimal("0.03")
    assert QuoteLine(
        quantity=Decimal("1"), unit_price=Decimal("0.05"), discount_pct=Decimal("50")
    ).compute_amount() == Decimal("0.03")


def test_totals_sum_lines_and_take_the_largest_discount(org, products, opportunity):
    # given: 2 × 1000 at 7.5 % = 1850.00; 3 × 33.33 at 0 % = 99.99
    lines = [line(products["b"], "2", "7.5"), line(products["a"], "3")]
    # when
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=lines)
    # then
    assert quote.list_amount == Decimal("2099.99")
    assert quote.total == Decimal("1949.99")
    assert quote.max_discount_pct == Decimal("7.50")
    assert list(quote.lines.values_list("position", flat=True)) == [1, 2]


def test_unit_price_defaults_to_the_list_price(org, products, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "1")])
    assert quote.lines.get().unit_price == Decimal("1000.00")


def test_quoted_unit_price_overrides_the_list_price(org, products, opportunity):
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "2", unit_price="950")]
    )
    assert quote.total == Decimal("1900.00")
    assert quote.list_amount == Decimal("1900.00")


def test_amount_in_words():
    assert amount_in_words(Decimal("1234.50")) == "壹仟贰佰叁拾肆元伍角整"
    assert amount_in_words(Decimal("0")) == "零元整"
    assert amount_in_words(Decimal("100005.07")) == "壹拾万零伍元零柒分"
    assert amount_in_words(Decimal("89.99")) == "捌拾玖元玖角玖分"


# --- validation: each error names the line and the field -------------------------------------


@pytest.mark.parametrize(
    ("bad", "field", "fragment"),
    [
        ({"quantity": "0"}, "quantity", "greater than 0"),
        ({"quantity": "-1"}, "quantity", "greater than 0"),
        ({"quantity": "abc"}, "quantity", "number"),
        ({"discount_pct": "101"}, "discount_pct", "between 0 and 100"),
        ({"discount_pct": "-1"}, "discount_pct", "between 0 and 100"),
        ({"unit_price": "-0.01"}, "unit_price", "cannot be negative"),
        ({"unit_price": "1.234"}, "unit_price", "2 decimal places"),
        ({"product": 999999}, "product", "choose a product"),
    ],
)
def test_a_bad_line_is_named_by_number_and_field(products, bad, field, fragment):
    # given: the second line is wrong
    from django.utils import translation

    lines = [line(products["a"], "1"), {**line(products["b"], "1"), **bad}]
    # when
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        clean_lines(lines)
    # then
    errors = caught.value.message_dict
    assert list(errors) == [f"lines[1].{field}"]
    assert errors[f"lines[1].{field}"][0].startswith("Line 2: ")
    assert fragment in errors[f"lines[1].{field}"][0]


def test_an_inactive_product_is_refused(products):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as caught:
        clean_lines([line(products["old"], "1")])
    assert "no longer sold" in caught.value.message_dict["lines[0].product"][0]


def test_every_bad_line_is_reported_at_once(products):
    with pytest.raises(ValidationError) as caught:
        clean_lines([line(products["a"], "0"), line(products["b"], "1", "150")])
    assert set(caught.value.message_dict) == {"lines[0].quantity", "lines[1].discount_pct"}


def test_a_bad_line_changes_nothing(org, products, opportunity):
    # given
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"], "3")])
    # when
    with pytest.raises(ValidationError):
        quote_update(quote=quote, by=org.rep1a, lines=[line(products["a"], "0")])
    # then
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.total == Decimal("99.99")
    assert quote.lines.count() == 1


# --- rights ---------------------------------------------------------------------------------


def test_a_rep_of_another_team_cannot_draft_a_quote(org, products, opportunity):
    with pytest.raises(PermissionDenied):
        quote_create(opportunity=opportunity, by=org.rep2a, lines=[line(products["a"])])


def test_the_supervisor_may_draft_a_quote_for_the_reps_deal(org, products, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.sup1, lines=[line(products["a"])])
    assert quote.owner == org.rep1a  # the quote follows the deal's owner


def test_versions_number_per_opportunity(org, products, opportunity):
    first = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    second = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["b"])])
    other = quote_create(opportunity=make_opportunity(org.rep1a, "另一个"), by=org.rep1a)
    assert (first.version, second.version, other.version) == (1, 2, 1)


# --- the discount approval, end to end ------------------------------------------------------


def test_a_small_discount_is_approved_at_submission(org, products, opportunity):
    # given: 5 % is not above the supervisor's threshold (> 5 %)
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "1", "5")]
    )
    # when
    quote = quote_submit(quote=quote, by=org.rep1a)
    # then
    assert quote.status == QuoteStatus.APPROVED
    assert quote.approved_at is not None
    assert approval_request_for(quote).status == RequestStatus.APPROVED


def test_a_discount_above_five_percent_goes_to_the_supervisor(org, products, opportunity):
    # given
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "1", "10")]
    )
    # when
    quote = quote_submit(quote=quote, by=org.rep1a)
    # then
    assert quote.status == QuoteStatus.PENDING
    assert waiting_approvers(quote) == {"sup1"}
    # when the supervisor approves: no manager step at 10 %
    approval_approve(request=approval_request_for(quote), by=org.sup1)
    # then
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == QuoteStatus.APPROVED


def test_a_discount_above_fifteen_percent_needs_supervisor_then_manager(org, products, opportunity):
    # given
    quote = quote_create(
        opportunity=opportunity,
        by=org.rep1a,
        lines=[line(products["a"], "1", "2"), line(products["b"], "1", "20")],
    )
    quote = quote_submit(quote=quote, by=org.rep1a)
    assert waiting_approvers(quote) == {"sup1"}
    # when the supervisor approves
    approval_approve(request=approval_request_for(quote), by=org.sup1)
    # then the manager is asked, and the quote is still pending
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == QuoteStatus.PENDING
    assert waiting_approvers(quote) == {"manager1"}
    # when the manager approves
    approval_approve(request=approval_request_for(quote), by=org.manager1)
    # then
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == QuoteStatus.APPROVED


def test_a_return_brings_the_quote_back_to_draft_with_the_comment(org, products, opportunity):
    # given
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "1", "12")]
    )
    quote = quote_submit(quote=quote, by=org.rep1a)
    # when
    approval_reject(request=approval_request_for(quote), by=org.sup1, comment="折扣太高，最多8%")
    # then
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == QuoteStatus.DRAFT
    assert quote.return_comment == "折扣太高，最多8%"
    # and the rep revises and resubmits: 8 % goes to the supervisor again, the comment clears
    quote_update(quote=quote, by=org.rep1a, lines=[line(products["b"], "1", "8")])
    quote = quote_submit(quote=quote, by=org.rep1a)
    assert quote.status == QuoteStatus.PENDING
    assert quote.return_comment == ""


def test_a_quote_without_lines_cannot_be_submitted(org, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.rep1a)
    with pytest.raises(ValidationError):
        quote_submit(quote=quote, by=org.rep1a)
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == QuoteStatus.DRAFT
    assert approval_request_for(quote) is None


def test_the_approval_panel_submission_checks_the_lines_too(org, opportunity):
    # given: a submission straight through the approval engine (the panel's button)
    quote = quote_create(opportunity=opportunity, by=org.rep1a)
    # when / then
    with pytest.raises(ValidationError):
        approval_submit(document=quote, by=org.rep1a)
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.status == QuoteStatus.DRAFT


@pytest.mark.parametrize("state", ["pending", "approved"])
def test_a_quote_that_is_not_a_draft_cannot_be_edited(org, products, opportunity, state):
    # given
    discount = "10" if state == "pending" else "0"
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "1", discount)]
    )
    quote = quote_submit(quote=quote, by=org.rep1a)
    assert quote.status == state
    # when / then
    with pytest.raises(Conflict):
        quote_update(quote=quote, by=org.rep1a, lines=[line(products["b"], "1", "0")])
    # and through the API: 409
    response = api(org.rep1a).put(
        f"/api/v1/quotes/{quote.pk}/",
        {"lines": [line(products["b"], "1", "0")]},
        format="json",
    )
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"


# --- versions -------------------------------------------------------------------------------


def test_a_new_version_copies_the_lines_into_a_draft(org, products, opportunity):
    # given: an approved version 1
    v1 = quote_create(
        opportunity=opportunity,
        by=org.rep1a,
        lines=[line(products["a"], "3", "10"), line(products["b"], "1")],
        notes="含运费",
    )
    v1 = quote_submit(quote=v1, by=org.rep1a)
    approval_approve(request=approval_request_for(v1), by=org.sup1)
    # when
    v2 = quote_new_version(quote=v1, by=org.rep1a)
    # then
    assert v2.version == 2
    assert v2.status == QuoteStatus.DRAFT
    assert v2.notes == "含运费"
    assert v2.total == v1.total
    assert list(v2.lines.values_list("product__code", "quantity", "discount_pct")) == list(
        v1.lines.values_list("product__code", "quantity", "discount_pct")
    )
    # and v1 is untouched and still approved
    v1 = Quote.objects.get(pk=v1.pk)
    assert v1.status == QuoteStatus.APPROVED
    assert v1.lines.count() == 2


def test_an_earlier_version_is_read_only(org, products, opportunity):
    # given: a draft v1 and a new version from it
    v1 = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    quote_new_version(quote=v1, by=org.rep1a)
    # when / then
    with pytest.raises(Conflict):
        quote_update(quote=v1, by=org.rep1a, lines=[line(products["b"])])
    with pytest.raises(Conflict):
        quote_submit(quote=v1, by=org.rep1a)


def test_a_quote_under_approval_gets_no_new_version(org, products, opportunity):
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "1", "10")]
    )
    quote = quote_submit(quote=quote, by=org.rep1a)
    with pytest.raises(Conflict):
        quote_new_version(quote=quote, by=org.rep1a)


# --- the negotiate guard --------------------------------------------------------------------


def test_the_negotiate_guard_passes_once_a_quote_is_approved(org, products, opportunity):
    # given
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["b"], "1", "10")]
    )
    quote = quote_submit(quote=quote, by=org.rep1a)
    # then: pending is not enough
    assert not has_approved_quote(opportunity)
    # when
    approval_approve(request=approval_request_for(quote), by=org.sup1)
    # then
    assert has_approved_quote(opportunity)


# --- pages ----------------------------------------------------------------------------------


def test_the_rep_drafts_a_quote_on_the_page(org, products, opportunity):
    # when
    response = browser(org.rep1a).post(
        reverse("opportunities:quote_create", args=[opportunity.pk]),
        {
            "valid_until": "2026-12-31",
            "notes": "",
            "line-product": [products["a"].pk, products["b"].pk, ""],
            "line-quantity": ["3", "1", ""],
            "line-unit_price": ["", "900", ""],
            "line-discount_pct": ["10", "", ""],
            "line-description": ["", "含安装", ""],
        },
    )
    # then
    quote = Quote.objects.get(opportunity=opportunity)
    assert response.status_code == 302
    assert response["Location"] == reverse("opportunities:quote_detail", args=[quote.pk])
    assert quote.total == Decimal("989.99")
    assert quote.lines.count() == 2


def test_a_bad_line_on_the_page_is_shown_on_its_row(org, products, opportunity):
    response = browser(org.rep1a).post(
        reverse("opportunities:quote_create", args=[opportunity.pk]),
        {
            "line-product": [products["a"].pk, products["b"].pk],
            "line-quantity": ["3", "0"],
            "line-unit_price": ["", ""],
            "line-discount_pct": ["", ""],
            "line-description": ["", ""],
        },
    )
    assert response.status_code == 400
    assert "Line 2: the quantity must be greater than 0." in response.content.decode()
    assert not Quote.objects.filter(opportunity=opportunity).exists()


def test_the_quote_page_shows_lines_versions_and_the_approval_panel(org, products, opportunity):
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["a"], "3", "10")]
    )
    response = browser(org.rep1a).get(reverse("opportunities:quote_detail", args=[quote.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "89.99" in body
    assert 'id="quote-versions"' in body
    assert 'id="quote-edit"' in body
    assert "approval" in body.lower()


def test_the_print_page_is_marked_draft_until_approved(org, products, opportunity):
    # given
    quote = quote_create(
        opportunity=opportunity, by=org.rep1a, lines=[line(products["a"], "3", "10")]
    )
    client = browser(org.rep1a)
    url = reverse("opportunities:quote_print", args=[quote.pk])
    # then: a draft prints with the mark
    body = client.get(url).content.decode()
    assert "DRAFT — not approved" in body
    assert "@media print" in body
    assert "89.99" in body
    assert "捌拾玖元玖角玖分" in body
    # when approved
    quote_update(quote=quote, by=org.rep1a, lines=[line(products["a"], "3", "0")])
    quote_submit(quote=quote, by=org.rep1a)
    body = client.get(url).content.decode()
    # then
    assert "DRAFT — not approved" not in body
    assert "99.99" in body


def test_editing_an_approved_quote_on_the_page_is_refused(org, products, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    quote_submit(quote=quote, by=org.rep1a)
    client = browser(org.rep1a)
    response = client.post(
        reverse("opportunities:quote_edit", args=[quote.pk]),
        {"line-product": [products["b"].pk], "line-quantity": ["5"]},
    )
    assert response.status_code == 302
    quote = Quote.objects.get(pk=quote.pk)
    assert quote.lines.get().product == products["a"]


def test_new_version_on_the_page_opens_the_editor(org, products, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    quote_submit(quote=quote, by=org.rep1a)
    response = browser(org.rep1a).post(reverse("opportunities:quote_new_version", args=[quote.pk]))
    new = Quote.objects.get(opportunity=opportunity, version=2)
    assert response["Location"] == reverse("opportunities:quote_edit", args=[new.pk])


@pytest.mark.parametrize("name", ["quote_detail", "quote_edit", "quote_print"])
def test_a_rep_of_another_team_gets_404_on_quote_pages(org, products, opportunity, name):
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    response = browser(org.rep2a).get(reverse(f"opportunities:{name}", args=[quote.pk]))
    assert response.status_code == 404


def test_a_rep_of_another_team_gets_404_for_a_new_quote_on_a_deal(org, opportunity):
    response = browser(org.rep2a).get(reverse("opportunities:quote_create", args=[opportunity.pk]))
    assert response.status_code == 404


def test_the_manager_above_sees_the_reps_quote(org, products, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    response = browser(org.manager1).get(reverse("opportunities:quote_detail", args=[quote.pk]))
    assert response.status_code == 200
    assert (
        browser(org.manager2)
        .get(reverse("opportunities:quote_detail", args=[quote.pk]))
        .status_code
        == 404
    )


# --- API ------------------------------------------------------------------------------------


def test_api_create_with_lines_and_retrieve(org, products, opportunity):
    # when
    response = api(org.rep1a).post(
        "/api/v1/quotes/",
        {"opportunity": opportunity.pk, "lines": [line(products["a"], "3", "10")]},
        format="json",
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "89.99"
    assert body["version"] == 1
    assert body["status"] == "draft"
    assert body["lines"][0]["product"]["code"] == "A-100"
    assert body["lines"][0]["amount"] == "89.99"
    assert set(body["available_transitions"]) == {"update", "submit", "new_version"}


def test_api_line_errors_name_the_line_and_field(org, products, opportunity):
    response = api(org.rep1a).post(
        "/api/v1/quotes/",
        {
            "opportunity": opportunity.pk,
            "lines": [
                line(products["a"], "1"),
                line(products["a"], "1"),
                line(products["b"], "1", "120"),
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["lines[2].discount_pct"]
    assert errors[0]["message"].startswith("Line 3: ")


def test_api_update_submit_and_new_version(org, products, opportunity):
    client = api(org.rep1a)
    created = client.post("/api/v1/quotes/", {"opportunity": opportunity.pk}, format="json").json()
    # when: lines replaced
    updated = client.patch(
        f"/api/v1/quotes/{created['id']}/",
        {"lines": [line(products["b"], "2", "20")], "notes": "含税"},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["total"] == "1600.00"
    assert updated.json()["max_discount_pct"] == "20.00"
    # when submitted: pending with the supervisor
    submitted = client.post(f"/api/v1/quotes/{created['id']}/submit/", {}, format="json")
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "pending"
    # then a new version is refused while pending (409)
    assert client.post(f"/api/v1/quotes/{created['id']}/new-version/").status_code == 409
    # after approval by sup1 then manager1, a new version is a draft v2
    quote = Quote.objects.get(pk=created["id"])
    approval_approve(request=approval_request_for(quote), by=org.sup1)
    approval_approve(request=approval_request_for(quote), by=org.manager1)
    new = client.post(f"/api/v1/quotes/{created['id']}/new-version/")
    assert new.status_code == 201
    assert new.json()["version"] == 2
    assert new.json()["status"] == "draft"


def test_api_scope_404_for_a_rep_of_another_team(org, products, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    client = api(org.rep2a)
    assert client.get(f"/api/v1/quotes/{quote.pk}/").status_code == 404
    assert client.post(f"/api/v1/quotes/{quote.pk}/submit/").status_code == 404
    assert client.post(f"/api/v1/quotes/{quote.pk}/new-version/").status_code == 404
    assert (
        client.post("/api/v1/quotes/", {"opportunity": opportunity.pk}, format="json").status_code
        == 404
    )
    assert client.get("/api/v1/quotes/").json()["results"] == []


def test_api_submit_by_someone_else_than_the_owner_is_403(org, products, opportunity):
    quote = quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    response = api(org.sup1).post(f"/api/v1/quotes/{quote.pk}/submit/")
    assert response.status_code == 403
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.DRAFT
    assert approval_request_for(quote) is None


def test_quote_list_api_query_budget(org, products, django_assert_max_num_queries):
    # given: 20 quotes on 10 deals
    for i in range(10):
        opp = make_opportunity(org.rep1a, f"商机 {i}")
        quote_create(opportunity=opp, by=org.rep1a, lines=[line(products["a"])])
        quote_create(opportunity=opp, by=org.rep1a, lines=[line(products["b"])])
    client = api(org.sup1)
    # when / then
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/quotes/")
    assert len(response.json()["results"]) == 20


def test_api_list_filters_by_opportunity(org, products, opportunity):
    quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])
    quote_create(opportunity=make_opportunity(org.rep1a, "别的"), by=org.rep1a)
    response = api(org.rep1a).get(f"/api/v1/quotes/?opportunity={opportunity.pk}")
    assert [q["opportunity"]["id"] for q in response.json()["results"]] == [opportunity.pk]


def test_a_closed_deal_gets_no_new_quote(org, products, opportunity):
    Opportunity.objects.filter(pk=opportunity.pk).update(
        stage=Stage.LOST, lost_reason="价格", lost_competitor="某某"
    )
    opportunity = Opportunity.objects.get(pk=opportunity.pk)
    with pytest.raises(Conflict):
        quote_create(opportunity=opportunity, by=org.rep1a, lines=[line(products["a"])])


def test_demo_catalogue_and_approved_quote(org):
    from apps.opportunities import demo_catalogue

    assert demo_catalogue.load() == len(demo_catalogue.CATALOGUE)
    assert demo_catalogue.load() == 0  # idempotent
    opp = make_opportunity(org.rep1a)
    Contact.objects.create(customer=opp.customer, name="王经理", decision_role="decision_maker")
    quote = demo_catalogue.create_approved_quote(opp, org.rep1a)
    assert quote is not None and quote.status == QuoteStatus.APPROVED
    assert demo_catalogue.create_approved_quote(opp, org.rep1a) == quote
