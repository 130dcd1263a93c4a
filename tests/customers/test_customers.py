"""Customer and contact use cases: validation, uniqueness, scope, search and filters."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.customers.models import Contact, Customer
from apps.customers.selectors import CustomerFilters, customer_get, customer_list
from apps.customers.services import (
    contact_create,
    contact_update,
    customer_create,
    customer_update,
)

from .conftest import credit_code, make_customer


def test_rep_creates_a_customer_they_own_as_a_prospect(org):
    # when a rep creates a customer
    customer = customer_create(by=org.rep1a, data={"name": "Acme", "credit_code": credit_code(1)})
    # then it is theirs, a prospect, with the code normalized
    assert customer.owner == org.rep1a
    assert customer.status == "prospect"
    assert customer.credit_code == credit_code(1)


def test_credit_code_with_a_wrong_check_character_is_a_field_error(org):
    code = credit_code(1)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        customer_create(by=org.rep1a, data={"name": "Acme", "credit_code": wrong})
    assert "credit_code" in exc.value.error_dict
    assert not Customer.objects.exists()


def test_duplicate_credit_code_is_a_field_error(org):
    customer_create(by=org.rep1a, data={"name": "Acme", "credit_code": credit_code(2)})
    # when another customer is created with the same code (typed in lower case with spaces)
    with pytest.raises(ValidationError) as exc:
        customer_create(
            by=org.rep2a, data={"name": "Other", "credit_code": " " + credit_code(2).lower()}
        )
    # then it is refused on the field
    assert exc.value.error_dict["credit_code"][0].code == "duplicate_credit_code"
    assert Customer.objects.count() == 1


def test_update_keeps_own_credit_code_and_refuses_anothers(org):
    a = customer_create(by=org.rep1a, data={"name": "A", "credit_code": credit_code(3)})
    customer_create(by=org.rep1a, data={"name": "B", "credit_code": credit_code(4)})
    customer_update(customer=a, by=org.rep1a, data={"name": "A2", "credit_code": credit_code(3)})
    assert Customer.objects.get(pk=a.pk).name == "A2"
    with pytest.raises(ValidationError):
        customer_update(customer=a, by=org.rep1a, data={"credit_code": credit_code(4)})


def test_rep_cannot_update_another_reps_customer(org, customer):
    with pytest.raises(PermissionDenied):
        customer_update(customer=customer, by=org.rep2a, data={"name": "Hijack"})


def test_rep_cannot_edit_a_pool_customer(org):
    pooled = make_customer(None, "Pooled")
    with pytest.raises(PermissionDenied):
        customer_update(customer=pooled, by=org.rep1a, data={"name": "x"})


def test_owner_must_be_in_the_creators_scope(org):
    with pytest.raises(ValidationError) as exc:
        customer_create(by=org.sup1, data={"name": "A"}, owner=org.rep3a)
    assert "owner" in exc.value.error_dict
    assert customer_create(by=org.sup1, data={"name": "A"}, owner=org.rep1b).owner == org.rep1b


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        ("rep1a", True),
        ("rep1b", False),
        ("sup1", True),
        ("sup2", False),
        ("manager1", True),
        ("manager2", False),
        ("finance", True),
        ("admin", True),
    ],
)
def test_customer_scope(org, customer, viewer, sees):
    assert customer_list(user=getattr(org, viewer)).filter(pk=customer.pk).exists() is sees


def test_pool_customers_are_visible_to_every_rep(org):
    pooled = make_customer(None, "Pooled")
    assert customer_get(user=org.rep3a, pk=pooled.pk) == pooled


def test_search_matches_part_of_the_name_and_a_whole_credit_code(org):
    a = make_customer(org.rep1a, "深圳华星科技有限公司")
    b = make_customer(org.rep1a, "Beta 100% Trading", credit_code=credit_code(9))
    make_customer(org.rep1a, "Gamma")
    found = customer_list(user=org.rep1a, filters=CustomerFilters(search="华星"))
    assert list(found) == [a]
    assert list(customer_list(user=org.rep1a, filters=CustomerFilters(search="100%"))) == [b]
    assert list(customer_list(user=org.rep1a, filters=CustomerFilters(search="0%"))) == [b]
    assert list(customer_list(user=org.rep1a, filters=CustomerFilters(search="_"))) == []
    by_code = customer_list(user=org.rep1a, filters=CustomerFilters(search=credit_code(9)))
    assert list(by_code) == [b]


def test_filters_by_status_tier_region_owner_and_pool(org):
    a = make_customer(org.rep1a, "A", tier="A", region="Shenzhen")
    b = make_customer(org.rep1b, "B", tier="B", region="Beijing")
    p = make_customer(None, "P", tier="B")

    def names(**kw):
        return {c.name for c in customer_list(user=org.sup1, filters=CustomerFilters(**kw))}

    assert names(tier="A") == {"A"}
    assert names(region="Beijing") == {"B"}
    assert names(owner=org.rep1b.pk) == {"B"}
    assert names(in_pool=True) == {"P"}
    assert names(in_pool=False) == {"A", "B"}
    assert names(status="prospect") == {"A", "B", "P"}
    assert names(status="active") == set()
    assert a and b and p


def test_search_uses_the_trigram_index(org):
    from django.db import connection

    # (an empty test table: plain scans are switched off so that the planner shows whether
    # the predicate can use the GIN index at all; UPPER(name) LIKE could not)
    qs = customer_list(user=org.admin, filters=CustomerFilters(search="华星科技"))
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_name_trgm" in plan


def test_new_primary_contact_replaces_the_old_one(org, customer):
    first = contact_create(customer=customer, by=org.rep1a, data={"name": "Li", "is_primary": True})
    second = contact_create(
        customer=customer, by=org.rep1a, data={"name": "Wang", "is_primary": True}
    )
    assert not Contact.objects.get(pk=first.pk).is_primary
    assert Contact.objects.get(pk=second.pk).is_primary


def test_contact_phone_is_validated(org, customer):
    with pytest.raises(ValidationError) as exc:
        contact_create(customer=customer, by=org.rep1a, data={"name": "Li", "phone": "12"})
    assert "phone" in exc.value.error_dict


def test_rep_cannot_change_another_reps_contact(org, customer):
    contact = contact_create(customer=customer, by=org.rep1a, data={"name": "Li"})
    with pytest.raises(PermissionDenied):
        contact_update(contact=contact, by=org.rep2a, data={"name": "X"})
