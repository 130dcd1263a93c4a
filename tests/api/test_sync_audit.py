"""Every list an ERP can mirror is syncable (API.md "ERP integration": "every list accepts
`updated_since` and pages with a stable cursor"): walked over the router's registered routes,
so a resource added later without it fails here."""

from __future__ import annotations

from datetime import date

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.api.filters import _has_field, _view_model, sync_field
from apps.api.urls import router

EVERYTHING = "1970-01-01T00:00:00Z"


def _synced_lists() -> list[tuple[str, type]]:
    """(prefix, viewset) of each registered route with a paginated list of a model that has
    `updated_at` (or the view's own `sync_field`). Reports (no pagination, no model) are
    figures, not records to mirror."""
    found = []
    for prefix, viewset, _basename in router.registry:
        if not hasattr(viewset, "list") or viewset.pagination_class is None:
            continue
        view = viewset()
        view.action, view.kwargs, view.swagger_fake_view = "list", {}, True
        model = _view_model(view)
        if model is not None and _has_field(model, sync_field(view)):
            found.append((prefix, viewset))
    return found


SYNCED = _synced_lists()


def test_the_walk_finds_the_mirrored_resources():
    # given / when the routes are walked
    prefixes = {prefix for prefix, _viewset in SYNCED}
    # then the resources an ERP pulls are among them (the walk itself is not vacuous)
    assert {"customers", "contacts", "contracts", "installments", "payments", "targets",
            "webhook-deliveries", "tombstones"} <= prefixes  # fmt: skip
    assert "tokens" not in prefixes  # no updated_at: nothing to sync


def test_every_synced_list_documents_updated_since_and_cursor(db):
    # given the generated OpenAPI schema
    schema = SchemaGenerator().get_schema(request=None, public=True)
    missing = []
    for prefix, _viewset in SYNCED:
        # when each synced list's parameters are read
        operation = schema["paths"][f"/api/v1/{prefix}/"]["get"]
        names = {p["name"] for p in operation.get("parameters", [])}
        # then it documents both (the parameter says what a sync guarantees)
        missing += [f"{prefix}: {n}" for n in ("updated_since", "cursor") if n not in names]
    assert missing == []
    listing = schema["paths"]["/api/v1/customers/"]["get"]
    since = next(p for p in listing["parameters"] if p["name"] == "updated_since")
    assert "API_SYNC_SETTLE_SECONDS" in since["description"]


@pytest.mark.parametrize("prefix", [prefix for prefix, _viewset in SYNCED])
def test_every_synced_list_applies_updated_since(org, bearer, prefix):
    # given an administrator (some lists are for administrators only)
    client = bearer(org.admin)
    # when a sync of the resource starts
    response = client.get(f"/api/v1/{prefix}/", {"updated_since": EVERYTHING, "page_size": 1})
    # then the list was filtered as a sync: it answers a resume link (a list that ignored
    # updated_since would answer none, and a client would re-pull everything forever)
    assert response.status_code == 200, response.content
    assert response.json()["resume"], prefix


def test_a_sync_pages_by_change_where_the_list_orders_otherwise(org, bearer, settings):
    # given two delegations, the later-starting one made first (the list shows the latest
    # start first)
    from apps.approvals.delegations import delegation_create

    settings.API_SYNC_SETTLE_SECONDS = 0
    first = delegation_create(
        user=org.manager1, delegate=org.sup1, starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 5)
    )
    second = delegation_create(
        user=org.manager1, delegate=org.sup1, starts_on=date(2027, 1, 1), ends_on=date(2027, 1, 5)
    )
    client = bearer(org.manager1)
    plain = client.get("/api/v1/delegations/").json()["results"]
    assert [d["id"] for d in plain] == [first.pk, second.pk]
    # when the approver syncs them one a page
    page = client.get("/api/v1/delegations/", {"updated_since": EVERYTHING, "page_size": 1})
    page = page.json()
    rest = client.get(page["next"]).json()
    # then the sync comes in the order of change, so a record changed behind the cursor
    # comes again later instead of being skipped
    assert [page["results"][0]["id"], rest["results"][0]["id"]] == [first.pk, second.pk]


def test_a_plain_cursor_is_refused_in_a_sync(org, bearer):
    # given a cursor of the plain user list (a position in the list's order, not the sync's)
    client = bearer(org.admin)
    cursor = client.get("/api/v1/users/", {"page_size": 1}).json()["next"].split("cursor=")[1]
    # when it is sent with updated_since
    response = client.get("/api/v1/users/", {"updated_since": EVERYTHING, "cursor": cursor})
    # then it is a 400 naming the cursor, not a page read in the wrong order
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"
