"""What schemathesis found the schema promising wrongly (scripts/schemathesis.sh), kept fixed in
`apps.api.schema.ProblemAutoSchema`: a client generated from the schema must accept every
answer and expect every error status."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema() -> dict:
    with translation.override("en"):
        return SchemaGenerator().get_schema(request=None, public=True)


def _responses(schema: dict, path: str, method: str) -> set[str]:
    return {str(code) for code in schema["paths"][path][method]["responses"]}


def test_error_statuses_the_views_answer_are_documented(schema):
    # a query parameter declared with @extend_schema (history's limit): 400
    assert "400" in _responses(schema, "/api/v1/users/{id}/history/", "get")
    # a body naming an object outside the caller's scope: 404, also on a collection
    assert "404" in _responses(schema, "/api/v1/contacts/", "post")
    # changing a document in a state that forbids it: 409
    assert "409" in _responses(schema, "/api/v1/quotes/{id}/", "patch")
    # a list that only some roles may see (problem_statuses)
    assert "404" in _responses(schema, "/api/v1/scoring-schemes/", "get")


def test_a_report_answers_one_object_not_an_array(schema):
    ok = schema["paths"]["/api/v1/reports/attainment/"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AttainmentReport"
    }


def test_a_time_is_a_pattern_that_django_times_match(schema):
    planned = schema["components"]["schemas"]["VisitPlan"]["properties"]["planned_time"]
    assert "format" not in planned  # JSON Schema's "time" demands a UTC offset
    pattern = re.compile(planned["pattern"])
    assert pattern.match("16:30:00") and pattern.match("16:30") and pattern.match("09:05:00.25")
    assert not pattern.match("24:00") and not pattern.match("16:30:00+08:00")


def test_read_only_fields_allow_what_the_column_holds(schema):
    components = schema["components"]["schemas"]
    # a blank e-mail and a blank choice of a model field with blank=True
    email = components["Contact"]["properties"]["email"]
    assert {"type": "string", "maxLength": 0} in email["oneOf"]
    rating = components["Customer"]["properties"]["credit_rating"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in rating["oneOf"]
    # null for a read-only field with default=None (a visit of a lead has no customer name)
    assert components["VisitRecord"]["properties"]["customer_name"]["nullable"] is True


@pytest.mark.django_db
def test_a_write_to_an_unknown_address_is_a_404_problem_not_a_csrf_page(org, bearer):
    # as a real client: CSRF enforced (the test client skips it by default)
    client = bearer(org.erp, enforce_csrf_checks=True)
    response = client.patch("/api/v1/contacts/abc/", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "since", ["2020-01-01T00:00:00-21:54", "0001-01-01T00:00:00+05:00", "9999-12-31T23:00-08:00"]
)
def test_updated_since_with_an_offset_postgres_refuses_is_not_a_500(org, bearer, since):
    response = bearer(org.erp).get("/api/v1/contacts/", {"updated_since": since})
    assert response.status_code == 200, response.content
