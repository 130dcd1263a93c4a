"""Assignment by territory and load, grade A first, manual reassignment (issue 4)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.accounts.choices import Role
from apps.leads import services
from apps.leads.choices import LeadStatus
from apps.leads.models import Lead, ScoringRule
from apps.notifications.models import Notification
from tests.factories import UserFactory


@pytest.fixture
def team1_three_reps(org):
    """Team 1 with rep1a, rep1b and rep1c."""
    return UserFactory(username="rep1c", role=Role.REP, org_unit=org.team1)


def test_leads_are_spread_by_open_load(capture, territories, team1_three_reps, org):
    # when five leads of team 1's region arrive
    for _ in range(5):
        capture(region="上海")
    # then the three reps get 2 / 2 / 1
    load = Counter(Lead.objects.values_list("owner__username", flat=True))
    assert load == {"rep1a": 2, "rep1b": 2, "rep1c": 1}


def test_closed_leads_do_not_count_as_load(capture, territories, org):
    # given rep1a has a disqualified lead
    lead = capture(region="上海").lead
    services.lead_disqualify(lead=lead, by=lead.owner, reason="Spam")
    # when
    second = capture(region="上海").lead
    # then rep1a (fewest open, first by username) gets it again
    assert second.owner == org.rep1a


def test_inactive_rep_gets_nothing(capture, territories, org):
    org.rep1a.is_active = False
    org.rep1a.save()
    assert capture(region="上海").lead.owner == org.rep1b


def test_grade_a_is_assigned_before_others_in_a_batch(no_rules, territories, org):
    # given a B lead older than an A lead, both new and unassigned
    ScoringRule.objects.create(name="hot", field="intent", value="high", points=90)
    ScoringRule.objects.create(name="warm", field="intent", value="medium", points=65)
    b = Lead.objects.create(company_name="乙", region="上海", source="api", grade="B")
    a = Lead.objects.create(company_name="甲", region="上海", source="api", grade="A")
    # when
    services.lead_assign_batch(leads=[b, a])
    # then the A lead got the first (least-loaded, by username) rep
    assert Lead.objects.get(pk=a.pk).owner == org.rep1a
    assert Lead.objects.get(pk=b.pk).owner == org.rep1b


def test_assignment_starts_the_response_clock(capture, territories, settings):
    settings.LEAD_SLA_HOURS = {"A": 1, "B": 4, "C": 24, "D": 72}
    lead = capture(region="上海").lead
    assert lead.grade == "D"
    assert (lead.first_response_due_at - lead.created_at).total_seconds() == pytest.approx(
        72 * 3600, abs=5
    )


def test_no_territory_leaves_the_lead_new_and_unassigned(capture, territories):
    # when
    lead = capture(region="火星").lead
    # then
    saved = Lead.objects.get(pk=lead.pk)
    assert (saved.status, saved.owner_id, saved.first_response_due_at) == ("new", None, None)


def test_team_without_reps_keeps_the_lead_and_tells_the_head(capture, territories, org):
    # given team 3's only rep left
    org.rep3a.is_active = False
    org.rep3a.save()
    # when
    lead = capture(region="广州").lead
    # then
    saved = Lead.objects.get(pk=lead.pk)
    assert (saved.status, saved.owner_id, saved.team_id) == ("new", None, org.team3.pk)
    assert Notification.objects.filter(recipient=org.sup3).count() == 1


def test_supervisor_reassigns_within_scope_with_reason(capture, territories, org):
    # given
    lead = capture(region="上海").lead
    # when
    services.lead_reassign(lead=lead, to=org.rep1b, by=org.sup1, reason="Speaks the dialect")
    # then
    saved = Lead.objects.get(pk=lead.pk)
    assert saved.owner == org.rep1b
    from apps.core.history import history_for

    assert history_for(saved)[0].context["reason"] == "Speaks the dialect"


def test_supervisor_assigns_a_waiting_lead(capture, territories, org):
    org.rep1a.is_active = org.rep1b.is_active = False
    org.rep1a.save()
    org.rep1b.save()
    lead = capture(region="上海").lead
    lead = services.lead_reassign(lead=lead, to=org.sup1, by=org.sup1, reason="I take it")
    assert (lead.status, lead.owner) == (LeadStatus.ASSIGNED, org.sup1)
    assert lead.first_response_due_at is not None


def test_reassignment_to_someone_outside_scope_is_an_error_of_the_new_owner(
    capture, territories, org
):
    lead = capture(region="上海").lead
    with pytest.raises(ValidationError) as error:
        services.lead_reassign(lead=lead, to=org.rep2a, by=org.sup1, reason="x")
    assert list(error.value.message_dict) == ["to"]
    assert Lead.objects.get(pk=lead.pk).owner == org.rep1a


def test_reassignment_of_a_lead_outside_scope_is_refused(capture, territories, org):
    lead = capture(region="北京").lead
    with pytest.raises(PermissionDenied):
        services.lead_reassign(lead=lead, to=org.rep1a, by=org.sup1, reason="x")


def test_manager_reassigns_across_their_teams(capture, territories, org):
    lead = capture(region="北京").lead
    lead = services.lead_reassign(lead=lead, to=org.rep1a, by=org.manager1, reason="Load")
    assert (lead.owner, lead.team) == (org.rep1a, org.team1)


def test_rep_cannot_reassign(capture, territories, org):
    lead = capture(region="上海").lead
    with pytest.raises(PermissionDenied):
        services.lead_reassign(lead=lead, to=org.rep1b, by=lead.owner, reason="x")


def test_reassignment_needs_a_reason(capture, territories, org):
    lead = capture(region="上海").lead
    with pytest.raises(ValidationError) as error:
        services.lead_reassign(lead=lead, to=org.rep1b, by=org.sup1, reason=" ")
    assert "reason" in error.value.message_dict
