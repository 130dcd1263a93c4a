"""The OpenAPI schema and its docs (API.md "Discovery and auth")."""

from __future__ import annotations

import io

from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_is_served(db):
    # given / when the schema is fetched
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # then it is OpenAPI 3 with the resources, the bearer scheme and the problem responses
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/users/", "/api/v1/org-units/", "/api/v1/tokens/"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    detail = schema["paths"]["/api/v1/users/{id}/"]["get"]["responses"]
    assert "application/problem+json" in detail["404"]["content"]
    post = schema["paths"]["/api/v1/tokens/"]["post"]
    assert {"400", "401", "403", "409", "422", "429"} <= set(post["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    listing = schema["paths"]["/api/v1/users/"]["get"]
    assert {"updated_since", "cursor", "page_size", "role", "search"} <= {
        p["name"] for p in listing["parameters"]
    }


def test_docs_page_is_served_from_local_static_files(db):
    # given / when the interactive docs are opened
    response = APIClient().get("/api/docs/")
    # then the page loads Swagger UI from our own static files, not a CDN
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_schema_generates_without_warnings(db):
    # given / when the schema is generated and validated, failing on any warning
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    # then it is produced (an error or a warning raises)
    assert out.getvalue().startswith("openapi: 3")
