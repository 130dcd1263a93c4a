"""Collection records (催收记录) and collection tasks (催收任务): who may record, what is
checked, scope on lists, the API and the pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import include, path, reverse
from pghistory.models import Events
from rest_framework.test import APIClient

from apps.customers.models import Contact
from apps.receivables import urls as receivables_urls
from apps.receivables import urls_collections
from apps.receivables.collections import (
    collection_record_create,
    collection_record_list,
    collection_task_done,
)
from apps.receivables.models import CollectionRecord, CollectionTask
from salesctl import urls as site_urls

from .conftest_jobs import customer_of, installment, on, signed_contract

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 15)

# The site's URLs with the collection pages under /receivables/ (until apps/receivables/urls.py
# includes urls_collections itself; then the extra patterns are the same ones twice).
urlpatterns = [
    p for p in site_urls.urlpatterns if getattr(p, "namespace", None) != "receivables"
] + [
    path(
        "receivables/",
        include((receivables_urls.urlpatterns + urls_collections.urlpatterns, "receivables")),
    )
]
pages = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def _today(time_machine):
    on(time_machine, TODAY, hour=10)


@pytest.fixture
def customer(org):
    return customer_of(org.rep1a)


@pytest.fixture
def item(customer):
    return installment(signed_contract(customer), TODAY - timedelta(days=10), status="due")


@pytest.fixture
def contact(customer):
    return Contact.objects.create(customer=customer, name="王会计")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def record(by, customer, **kwargs) -> CollectionRecord:
    return collection_record_create(
        by=by, customer=customer, method=kwargs.pop("method", "phone"),
        notes=kwargs.pop("notes", "电话催收"), **kwargs,
    )  # fmt: skip


# --- services -----------------------------------------------------------------------------


def test_owner_records_a_call_with_a_promise(org, customer, item, contact):
    # when the owner logs a call with a promise to pay 5,000.00 on 20 June
    created = record(
        org.rep1a, customer, contact=contact, installment=item, notes="  答应下周付款 ",
        promised_on=date(2026, 6, 20), promised_amount="5000.00",
    )  # fmt: skip

    # then it is stored with a pending promise, in the history
    created = CollectionRecord.objects.get(pk=created.pk)
    assert (created.owner, created.notes, created.promise_status) == (
        org.rep1a,
        "答应下周付款",
        "pending",
    )
    assert created.promised_amount == Decimal("5000.00")
    events = Events.objects.tracks(created)
    assert events.get().pgh_context["action"] == "collection_record_create"


def test_record_without_promise_has_no_promise_status(org, customer):
    assert record(org.rep1a, customer).promise_status == ""


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1", "finance", "admin"])
def test_owner_heads_over_them_and_finance_may_record(org, customer, who):
    assert record(getattr(org, who), customer).owner == getattr(org, who)


@pytest.mark.parametrize("who", ["rep1b", "sup2", "manager2", "rep3a"])
def test_others_may_not_record(org, customer, who):
    with pytest.raises(PermissionDenied):
        record(getattr(org, who), customer)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"promised_on": date(2026, 6, 20)}, "promised_amount"),
        ({"promised_amount": "100.00"}, "promised_on"),
        ({"promised_on": date(2026, 6, 14), "promised_amount": "100.00"}, "promised_on"),
        ({"promised_on": date(2026, 6, 20), "promised_amount": "0"}, "promised_amount"),
        ({"promised_on": date(2026, 6, 20), "promised_amount": "1.005"}, "promised_amount"),
        ({"notes": "  "}, "notes"),
        ({"method": "pigeon"}, "method"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(org, customer, kwargs, field):
    with pytest.raises(ValidationError) as error:
        record(org.rep1a, customer, **kwargs)
    assert field in error.value.message_dict
    assert not CollectionRecord.objects.exists()


def test_contact_and_installment_must_be_the_customers(org, customer):
    # given a contact and an installment of another customer
    other = customer_of(org.rep1a, "别的客户")
    foreign_contact = Contact.objects.create(customer=other, name="李总")
    foreign_item = installment(signed_contract(other), TODAY)

    # when used for this customer
    with pytest.raises(ValidationError) as error:
        record(org.rep1a, customer, contact=foreign_contact, installment=foreign_item)

    # then both are named
    assert set(error.value.message_dict) == {"contact", "installment"}


def test_rep_sees_finance_notes_on_own_customer_but_not_other_teams(org, customer):
    # given finance logged a call about rep1a's customer, rep3a one about their own
    mine = record(org.finance, customer)
    other = record(org.rep3a, customer_of(org.rep3a, "三队客户"))

    # then rep1a sees the first, sup3 the second, sup1 the first, finance both
    assert list(collection_record_list(user=org.rep1a)) == [mine]
    assert list(collection_record_list(user=org.sup1)) == [mine]
    assert list(collection_record_list(user=org.sup3)) == [other]
    assert set(collection_record_list(user=org.finance)) == {mine, other}
    assert list(collection_record_list(user=org.rep1b)) == []


# --- tasks --------------------------------------------------------------------------------


@pytest.fixture
def task(org, item):
    return CollectionTask.objects.create(
        installment=item, customer=item.customer, owner=org.rep1a, bucket=1,
        due_on=TODAY + timedelta(days=3),
    )  # fmt: skip


def test_assignee_marks_the_task_done_once(org, task):
    done = collection_task_done(task=task, by=org.rep1a)
    assert done.status == "done" and done.done_at is not None
    from apps.core.errors import Conflict

    with pytest.raises(Conflict):
        collection_task_done(task=task, by=org.rep1a)


def test_a_colleague_cannot_mark_the_task_done(org, task):
    with pytest.raises(PermissionDenied):
        collection_task_done(task=task, by=org.rep1b)


# --- API ----------------------------------------------------------------------------------


def test_api_create_record(org, customer, item, contact):
    response = api(org.rep1a).post(
        "/api/v1/collection-records/",
        {"customer": customer.pk, "method": "visit", "notes": "上门催收", "contact": contact.pk,
         "installment": item.pk, "promised_on": "2026-06-30", "promised_amount": "12000.50"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["promise_status"] == "pending" and body["promised_amount"] == "12000.50"
    assert body["contract_number"] == item.contract.number
    assert body["contact_name"] == "王会计"


def test_api_create_incomplete_promise_is_400_naming_the_field(org, customer):
    response = api(org.rep1a).post(
        "/api/v1/collection-records/",
        {"customer": customer.pk, "method": "phone", "notes": "x", "promised_on": "2026-06-30"},
        format="json",
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["promised_amount"]


def test_api_create_for_customer_out_of_scope_is_404(org, customer):
    response = api(org.rep3a).post(
        "/api/v1/collection-records/",
        {"customer": customer.pk, "method": "phone", "notes": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert not CollectionRecord.objects.exists()


def test_api_create_by_a_colleague_out_of_scope_is_404(org, customer, item):
    # rep1b (same team, own scope) does not see rep1a's customer
    response = api(org.rep1b).post(
        "/api/v1/collection-records/",
        {"customer": customer.pk, "method": "phone", "notes": "x"},
        format="json",
    )
    assert response.status_code == 404


def test_api_create_by_a_rep_who_only_sees_the_customers_installment_is_403(org, customer):
    # given rep1b owns a contract (and its installment) with rep1a's customer
    contract = signed_contract(customer)
    type(contract).objects.filter(pk=contract.pk).update(owner=org.rep1b)
    installment(type(contract).objects.get(pk=contract.pk), TODAY)

    # when rep1b records collection for the customer
    response = api(org.rep1b).post(
        "/api/v1/collection-records/",
        {"customer": customer.pk, "method": "phone", "notes": "x"},
        format="json",
    )

    # then it is refused: only the customer's owner, the heads over them and finance record
    assert response.status_code == 403
    assert not CollectionRecord.objects.exists()


def test_api_record_list_filters_and_scope(org, customer, django_assert_max_num_queries):
    # given 12 records on rep1a's customer and one on another
    for n in range(12):
        record(org.rep1a, customer, notes=f"第{n}次")
    other = customer_of(org.rep1a, "另一个客户")
    record(org.rep1a, other)

    # then the list by customer shows the 12, in a fixed number of queries
    with django_assert_max_num_queries(8):
        response = api(org.sup1).get(f"/api/v1/collection-records/?customer={customer.pk}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 12
    # and a record out of scope is 404
    rid = CollectionRecord.objects.first().pk
    assert api(org.rep3a).get(f"/api/v1/collection-records/{rid}/").status_code == 404
    assert api(org.rep1a).get(f"/api/v1/collection-records/{rid}/").status_code == 200


def test_api_tasks_list_done_and_scope(org, task, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        mine = api(org.rep1a).get("/api/v1/collection-tasks/")
    assert [t["id"] for t in mine.json()["results"]] == [task.pk]
    assert api(org.sup1).get("/api/v1/collection-tasks/").json()["results"] == []
    team = api(org.sup1).get("/api/v1/collection-tasks/?mine=false")
    assert [t["id"] for t in team.json()["results"]] == [task.pk]
    # out of scope: 404, also for done
    assert api(org.rep2a).get(f"/api/v1/collection-tasks/{task.pk}/").status_code == 404
    assert api(org.rep2a).post(f"/api/v1/collection-tasks/{task.pk}/done/").status_code == 404
    # the assignee marks it done; again is 409
    done = api(org.rep1a).post(f"/api/v1/collection-tasks/{task.pk}/done/")
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert api(org.rep1a).post(f"/api/v1/collection-tasks/{task.pk}/done/").status_code == 409


# --- pages --------------------------------------------------------------------------------


@pages
def test_record_form_saves_and_lists(client, org, customer, item):
    client.force_login(org.rep1a)
    url = reverse("receivables:collection_create")
    form = client.get(f"{url}?customer={customer.pk}&installment={item.pk}")
    assert form.status_code == 200
    response = client.post(url, {
        "customer": customer.pk, "method": "phone", "notes": "客户答应月底付款",
        "installment": item.pk, "promised_on": "2026-06-30", "promised_amount": "3000.00",
    })  # fmt: skip
    assert response.status_code == 302
    created = CollectionRecord.objects.get()
    assert (created.installment, created.promised_amount) == (item, Decimal("3000.00"))
    page = client.get(response["Location"])
    assert "客户答应月底付款" in page.content.decode()


@pages
def test_record_form_error_names_the_field(client, org, customer):
    client.force_login(org.rep1a)
    response = client.post(
        reverse("receivables:collection_create"),
        {"customer": customer.pk, "method": "phone", "notes": "x", "promised_amount": "10"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "needs both its date and its amount" in response.content.decode()
    assert not CollectionRecord.objects.exists()


@pages
def test_record_form_for_customer_out_of_scope_is_404(client, org, customer):
    client.force_login(org.rep3a)
    url = reverse("receivables:collection_create")
    assert client.get(f"{url}?customer={customer.pk}").status_code == 404
    assert (
        client.get(reverse("receivables:collection_list") + f"?customer={customer.pk}").status_code
        == 404
    )


@pages
def test_customer_search_finds_only_customers_in_scope(client, org, customer, item):
    client.force_login(org.rep3a)
    url = reverse("receivables:collection_customer_search")
    assert customer.name not in client.get(url, {"q": "华星"}).content.decode()
    client.force_login(org.rep1a)
    assert customer.name in client.get(url, {"q": "华星"}).content.decode()


@pages
def test_record_list_query_budget(client, org, customer, django_assert_max_num_queries):
    for n in range(20):
        record(org.finance, customer, notes=f"记录{n}")
    client.force_login(org.sup1)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("receivables:collection_list"))
    assert response.content.decode().count("data-record=") == 20


@pages
def test_task_page_and_done_button(client, org, task, django_assert_max_num_queries):
    client.force_login(org.rep1a)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("receivables:collection_task_list"))
    assert f'data-task="{task.pk}"' in page.content.decode()
    response = client.post(reverse("receivables:collection_task_done", args=[task.pk]))
    assert response.status_code == 302
    assert CollectionTask.objects.get(pk=task.pk).status == "done"
    client.force_login(org.rep2a)
    assert (
        client.post(reverse("receivables:collection_task_done", args=[task.pk])).status_code == 404
    )
