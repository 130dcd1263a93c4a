"""Every error under /api/ is an RFC 9457 problem (API.md "Errors")."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.api.exceptions import flatten_errors
from apps.api.models import ApiToken, IdempotencyKey

from .conftest import assert_problem


def test_unknown_object_is_404(org, bearer):
    # given an admin
    client = bearer(org.admin)
    # when it asks for a user id that does not exist
    response = client.get("/api/v1/users/999999/")
    # then 404 problem, without naming the model
    body = assert_problem(response, 404, "not-found")
    assert "User" not in body["detail"]


def test_unknown_url_under_api_is_404_problem(org, bearer):
    # given an authenticated client
    # when it calls an address that does not exist
    response = bearer(org.admin).get("/api/v1/no-such-resource/")
    # then 404 problem+json, not the HTML page
    assert_problem(response, 404, "not-found")


def test_non_numeric_id_is_404_problem(org, bearer):
    # given / when an id that is not a number is asked for
    response = bearer(org.admin).get("/api/v1/users/abc/")
    # then 404 problem, never a 500
    assert_problem(response, 404, "not-found")


def test_method_not_allowed_is_405(org, bearer):
    # given the read-only users resource
    # when a client tries to delete a user
    response = bearer(org.admin).delete(f"/api/v1/users/{org.rep1a.pk}/")
    # then 405 problem
    assert_problem(response, 405, "method-not-allowed")
    assert org.rep1a.__class__.objects.filter(pk=org.rep1a.pk).exists()


def test_supervisor_issuing_a_token_for_a_rep_is_403(org, bearer):
    # given a supervisor, who sees rep1a but is not an administrator
    # when they issue a token acting as rep1a
    response = bearer(org.sup1).post(
        "/api/v1/tokens/", {"name": "x", "user": org.rep1a.pk}, format="json"
    )
    # then 403 problem with the service's reason, and nothing is issued
    body = assert_problem(response, 403, "permission-denied")
    assert body["detail"] == "Only an administrator can issue a token for another user."
    assert not ApiToken.objects.filter(user=org.rep1a).exists()


def test_malformed_json_is_400_naming_the_parse_error(org, bearer):
    # given / when a client posts a body that is not JSON
    response = bearer(org.rep1a).post(
        "/api/v1/tokens/", data='{"name": ', content_type="application/json"
    )
    # then 400 problem saying what is wrong with it
    body = assert_problem(response, 400, "parse-error")
    assert "JSON parse error" in body["detail"]


def test_non_json_body_is_415(org, bearer):
    # given / when a client posts a form instead of JSON
    response = bearer(org.rep1a).post(
        "/api/v1/tokens/", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    # then 415 problem
    assert_problem(response, 415, "unsupported-media-type")


def test_unacceptable_accept_header_is_406_problem(org, bearer):
    # given / when a client accepts only XML
    response = bearer(org.rep1a).get("/api/v1/users/me/", HTTP_ACCEPT="application/xml")
    # then 406 problem (in JSON: the only format the API speaks)
    assert_problem(response, 406, "not-acceptable")


def test_invalid_fields_are_listed_in_errors(org, bearer):
    # given / when a token is asked for without a name and with a negative validity
    response = bearer(org.rep1a).post("/api/v1/tokens/", {"days": -1}, format="json")
    # then 400 with one entry per invalid field
    body = assert_problem(response, 400, "validation-error")
    fields = {e["field"]: e["code"] for e in body["errors"]}
    assert fields == {"name": "required", "days": "min_value"}
    assert all(e["message"] for e in body["errors"])


def test_service_validation_error_is_400_with_the_field(org, bearer):
    # given an inactive user
    org.rep3a.is_active = False
    org.rep3a.save()
    # when an admin issues a token for them (the service refuses)
    response = bearer(org.admin).post(
        "/api/v1/tokens/", {"name": "x", "user": org.rep3a.pk}, format="json"
    )
    # then 400 naming the field, from the service's Django ValidationError
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"] == [
        {"field": "user", "code": "inactive", "message": "This user is inactive."}
    ]


def test_bad_updated_since_is_400_naming_the_parameter(org, bearer):
    # given / when a list is filtered with a date that is not ISO 8601
    response = bearer(org.admin).get("/api/v1/users/", {"updated_since": "yesterday"})
    # then 400 naming updated_since
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "updated_since"


def test_bad_filter_value_is_400_naming_the_filter(org, bearer):
    # given / when users are filtered by a role that does not exist
    response = bearer(org.admin).get("/api/v1/users/", {"role": "pope"})
    # then 400 naming the filter
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "role"


def test_rate_limit_is_429_with_retry_after(org, bearer, throttle_rate):
    # given a rate of 2 requests a minute per token
    throttle_rate("2/min")
    client = bearer(org.erp)
    assert client.get("/api/v1/users/me/").status_code == 200
    assert client.get("/api/v1/users/me/").status_code == 200
    # when the token makes a third request within the minute
    response = client.get("/api/v1/users/me/")
    # then 429 problem telling when to retry
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_rate_limit_is_per_token(org, bearer, throttle_rate):
    # given a token that used up its budget
    throttle_rate("1/min")
    first = bearer(org.erp)
    first.get("/api/v1/users/me/")
    assert first.get("/api/v1/users/me/").status_code == 429
    # when another token of the same user calls
    response = bearer(org.erp).get("/api/v1/users/me/")
    # then it has its own budget
    assert response.status_code == 200


def test_messages_follow_accept_language(org, bearer):
    # given a client reading Simplified Chinese
    client = bearer(org.admin)
    # when it asks for a missing object
    response = client.get("/api/v1/users/999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    # then the detail is in Chinese
    body = assert_problem(response, 404, "not-found")
    assert body["detail"] == "未找到。"
    assert response["Content-Language"] == "zh-hans"


# --- failures no real endpoint should have, through a test-only URLconf ------------------


@pytest.mark.urls("tests.api.urls")
def test_unhandled_exception_is_500_problem(org, bearer):
    # given a view with a bug
    client = bearer(org.admin, raise_request_exception=False)
    # when it is called
    response = client.get("/api/v1/test/boom/")
    # then 500 problem+json that leaks nothing of the bug
    body = assert_problem(response, 500, "server-error")
    assert "bug" not in body["detail"]


@pytest.mark.urls("tests.api.urls")
def test_500_after_work_rolls_back_and_keeps_no_idempotency_key(org, bearer):
    # given a POST view that issues a token and then fails
    client = bearer(org.admin, raise_request_exception=False)
    before = ApiToken.objects.count()
    # when it is called with an Idempotency-Key
    response = client.post("/api/v1/test/boom/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    # then 500, the half-done work is rolled back, and the key is free for a retry
    assert_problem(response, 500, "server-error")
    assert ApiToken.objects.count() == before
    assert not IdempotencyKey.objects.filter(key="k-500").exists()


@pytest.mark.urls("tests.api.urls")
@pytest.mark.parametrize(
    ("raised", "status", "kind"),
    [
        ("validation", 400, "validation-error"),
        ("permission", 403, "permission-denied"),
        ("transition", 409, "conflict"),
    ],
)
def test_service_exceptions_map_to_problems(org, bearer, raised, status, kind):
    # given a view calling a service that raises
    # when it is called
    response = bearer(org.admin).get("/api/v1/test/service-errors/", {"raise": raised})
    # then the matching problem
    assert_problem(response, status, kind)


# --- the error list ---------------------------------------------------------------------


def test_nested_errors_are_flattened_with_dotted_paths():
    # given DRF's error detail of a document with lines
    detail = {
        "non_field_errors": ["Totals do not match."],
        "lines": [{}, {"amount": ["Too much."], "non_field_errors": ["Bad line."]}],
    }
    # when it is flattened
    flat = flatten_errors(detail)
    # then each error names its path, null for the whole document
    assert [(e["field"], str(e["message"])) for e in flat] == [
        (None, "Totals do not match."),
        ("lines.1.amount", "Too much."),
        ("lines.1", "Bad line."),
    ]


def test_unknown_page_outside_the_api_stays_html(db):
    # given the browser UI
    # when an unknown page outside /api/ is asked for
    response = APIClient().get("/no-such-page/")
    # then it is the HTML error page, not problem+json
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_unknown_api_url_is_problem_json_even_with_debug_on(client, settings):
    # given DEBUG on, as under `make run` (Django would answer its HTML debug 404 page)
    settings.DEBUG = True
    # when an unknown address under /api/ is requested
    response = client.get("/api/v1/no-such-resource/")
    # then it is a problem+json 404
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
