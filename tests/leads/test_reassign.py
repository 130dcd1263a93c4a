"""Reassignment (改派) of one or several leads: the bulk service, the page with its people
search, the API's errors, and the reassignments shown on the lead's page."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.errors import Conflict
from apps.leads import services
from apps.leads.models import Lead
from apps.notifications.models import Notification
from tests.api.conftest import assert_problem

API = "/api/v1/leads/"
PAGE = "/leads/reassign/"


def owners(*leads: Lead) -> list[str]:
    return [Lead.objects.get(pk=lead.pk).owner.username for lead in leads]


# --- the bulk service ----------------------------------------------------------------------


def test_bulk_reassignment_gives_every_lead_to_the_new_owner(capture, territories, org):
    # given two leads of team 1 (rep1a, then rep1b by load)
    leads = [capture(region="上海").lead for _ in range(2)]
    Notification.objects.all().delete()
    # when sup1 gives both to rep1b
    services.lead_reassign_bulk(leads=leads, to=org.rep1b, by=org.sup1, reason="Holiday")
    # then both are rep1b's and rep1b is told once
    assert owners(*leads) == ["rep1b", "rep1b"]
    assert Notification.objects.filter(recipient=org.rep1b).count() == 1


def test_bulk_reassignment_with_a_lead_outside_scope_changes_nothing(capture, territories, org):
    # given a team-1 lead and a team-2 lead
    mine = capture(region="上海").lead
    other = capture(region="北京").lead
    # when sup1 tries to reassign both
    with pytest.raises(PermissionDenied):
        services.lead_reassign_bulk(leads=[mine, other], to=org.rep1b, by=org.sup1, reason="x")
    # then neither changed
    assert owners(mine, other) == ["rep1a", "rep2a"]


def test_bulk_reassignment_with_a_closed_lead_changes_nothing(capture, territories, org):
    # given an open lead and a disqualified one
    open_lead = capture(region="上海").lead
    closed = capture(region="上海").lead
    services.lead_disqualify(lead=closed, by=org.sup1, reason="Fake")
    # when both are reassigned
    with pytest.raises(Conflict):
        services.lead_reassign_bulk(leads=[open_lead, closed], to=org.sup1, by=org.sup1, reason="x")
    # then the open one kept its owner
    assert owners(open_lead) == ["rep1a"]


def test_bulk_reassignment_by_a_rep_is_refused(capture, territories, org):
    lead = capture(region="上海").lead
    with pytest.raises(PermissionDenied):
        services.lead_reassign_bulk(leads=[lead], to=org.rep1b, by=org.rep1a, reason="x")


def test_bulk_reassignment_needs_a_reason(capture, territories, org):
    lead = capture(region="上海").lead
    with pytest.raises(ValidationError) as error:
        services.lead_reassign_bulk(leads=[lead], to=org.rep1b, by=org.sup1, reason="  ")
    assert list(error.value.message_dict) == ["reason"]


def test_bulk_reassignment_to_someone_outside_scope_is_an_error_of_the_new_owner(
    capture, territories, org
):
    lead = capture(region="上海").lead
    with pytest.raises(ValidationError) as error:
        services.lead_reassign_bulk(leads=[lead], to=org.rep3a, by=org.sup1, reason="x")
    assert list(error.value.message_dict) == ["to"]


def test_bulk_reassignment_records_the_reason_in_each_leads_history(capture, territories, org):
    # given
    leads = [capture(region="上海").lead for _ in range(2)]
    # when
    services.lead_reassign_bulk(leads=leads, to=org.sup1, by=org.manager1, reason="Reorg")
    # then
    from apps.leads.selectors import lead_reassignments

    for lead in leads:
        [entry] = lead_reassignments(lead=lead)
        assert (entry.reason, entry.to_owner, entry.by) == ("Reorg", org.sup1, org.manager1)


# --- the page ------------------------------------------------------------------------------


def test_page_reassigns_one_lead_and_returns_to_it(client, capture, territories, org):
    # given
    lead = capture(region="上海").lead
    client.force_login(org.sup1)
    # when
    response = client.post(PAGE, {"lead": [lead.pk], "to": org.rep1b.pk, "reason": "Dialect"})
    # then
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    assert owners(lead) == ["rep1b"]


def test_page_reassigns_the_leads_selected_in_the_list(client, capture, territories, org):
    # given two leads selected in the list
    leads = [capture(region="上海").lead for _ in range(2)]
    client.force_login(org.manager1)
    assert client.get(PAGE, {"lead": [lead.pk for lead in leads]}).status_code == 200
    # when
    response = client.post(
        PAGE, {"lead": [lead.pk for lead in leads], "to": org.rep2a.pk, "reason": "Load"}
    )
    # then
    assert response.status_code == 302
    assert owners(*leads) == ["rep2a", "rep2a"]


def test_page_without_a_reason_shows_the_reason_error(client, capture, territories, org):
    lead = capture(region="上海").lead
    client.force_login(org.sup1)
    response = client.post(
        PAGE, {"lead": [lead.pk], "to": org.rep1b.pk, "reason": ""}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["Say why the leads are reassigned."]
    assert owners(lead) == ["rep1a"]


def test_page_with_a_new_owner_outside_scope_shows_the_owner_error(
    client, capture, territories, org
):
    lead = capture(region="上海").lead
    client.force_login(org.sup1)
    response = client.post(
        PAGE, {"lead": [lead.pk], "to": org.rep2a.pk, "reason": "x"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.context["form"].errors["to"] == ["Choose an active person in your team."]
    assert owners(lead) == ["rep1a"]


def test_page_with_a_lead_outside_scope_is_404(client, capture, territories, org):
    lead = capture(region="北京").lead
    client.force_login(org.sup1)
    assert client.get(PAGE, {"lead": [lead.pk]}).status_code == 404
    response = client.post(PAGE, {"lead": [lead.pk], "to": org.rep1b.pk, "reason": "x"})
    assert response.status_code == 404
    assert owners(lead) == ["rep2a"]


def test_rep_cannot_open_the_reassignment_page(client, capture, territories, org):
    lead = capture(region="上海").lead
    client.force_login(org.rep1a)
    assert client.get(PAGE, {"lead": [lead.pk]}).status_code == 403
    response = client.post(PAGE, {"lead": [lead.pk], "to": org.rep1b.pk, "reason": "x"})
    assert response.status_code == 403
    assert owners(lead) == ["rep1a"]


def test_people_search_offers_only_people_in_scope(client, org):
    # given sup1 (team 1) searching for "rep"
    client.force_login(org.sup1)
    # when
    response = client.get("/leads/reassign/people/", {"q": "rep"})
    # then only team 1's reps are offered
    assert response.status_code == 200
    assert [p.username for p in response.context["people"]] == ["rep1a", "rep1b"]


def test_people_search_is_refused_to_a_rep(client, org):
    client.force_login(org.rep1a)
    assert client.get("/leads/reassign/people/", {"q": "rep"}).status_code == 403


def test_list_offers_selection_for_reassignment_to_a_supervisor_only(
    client, capture, territories, org
):
    capture(region="上海")
    client.force_login(org.sup1)
    assert 'data-testid="bulk-reassign"' in client.get("/leads/").content.decode()
    client.force_login(org.rep1a)
    assert 'data-testid="bulk-reassign"' not in client.get("/leads/").content.decode()


def test_detail_shows_the_reassignment_with_its_reason(client, capture, territories, org):
    # given a lead reassigned by sup1
    lead = capture(region="上海").lead
    services.lead_reassign(lead=lead, to=org.rep1b, by=org.sup1, reason="Speaks the dialect")
    client.force_login(org.sup1)
    # when
    response = client.get(f"/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    # then the reassignment names both owners, the actor and the reason
    [entry] = response.context["reassignments"]
    assert (entry.from_owner, entry.to_owner, entry.by) == (org.rep1a, org.rep1b, org.sup1)
    assert "Speaks the dialect" in response.content.decode()


# --- the API -------------------------------------------------------------------------------


def test_api_reassign_without_reason_names_the_field(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.sup1).post(
        f"{API}{lead.pk}/reassign/", {"owner": org.rep1b.pk}, format="json"
    )
    body = assert_problem(response, 400, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["reason"]


def test_api_reassign_to_someone_outside_scope_names_the_field(bearer, org, territories, capture):
    lead = capture(region="上海").lead
    response = bearer(org.sup1).post(
        f"{API}{lead.pk}/reassign/", {"owner": org.rep3a.pk, "reason": "x"}, format="json"
    )
    body = assert_problem(response, 400, "validation-error")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("owner", "out_of_scope")]
    assert owners(lead) == ["rep1a"]


def test_api_reassign_of_a_lead_outside_scope_is_404(bearer, org, territories, capture):
    lead = capture(region="北京").lead
    response = bearer(org.sup1).post(
        f"{API}{lead.pk}/reassign/", {"owner": org.rep1b.pk, "reason": "x"}, format="json"
    )
    assert_problem(response, 404, "not-found")
    assert owners(lead) == ["rep2a"]
