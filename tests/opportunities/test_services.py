"""Stage moves: allowed path, wrong state (409 naming the stage), wrong role (403), the stage
history and its durations, stuck alerts reset, the owner told when someone else moves a deal,
and editing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.notifications.models import Notification
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity, StageChange
from apps.opportunities.selectors import stage_history
from apps.opportunities.services import (
    TRANSITION_SERVICES,
    opportunity_analyse_needs,
    opportunity_lose,
    opportunity_move_back,
    opportunity_negotiate,
    opportunity_propose,
    opportunity_qualify,
    opportunity_update,
    opportunity_win,
)

from .conftest import approve_quote


def signed_contract(opportunity: Opportunity) -> None:
    """A signed contract for the deal, written directly (won needs one since issue 6)."""
    from apps.contracts.models import Contract

    contract = Contract.objects.create(
        number=f"HT-TEST-{opportunity.pk}", title=opportunity.name,
        customer=opportunity.customer, opportunity=opportunity, owner=opportunity.owner,
    )  # fmt: skip
    Contract.objects.filter(pk=contract.pk).update(status="signed")


pytestmark = pytest.mark.django_db


def test_deal_goes_from_prospecting_to_won_through_every_stage(org, deal):
    # given a new deal whose customer has a decision maker and a visit
    opp = deal(org.rep1a)
    # when the owner moves it through every stage
    opp = opportunity_qualify(opportunity=opp, by=org.rep1a)
    opp = opportunity_analyse_needs(opportunity=opp, by=org.rep1a)
    opp = opportunity_propose(opportunity=opp, by=org.rep1a, needs_analysis="十台数控机床")
    approve_quote(opp)
    opp = opportunity_negotiate(opportunity=opp, by=org.rep1a)
    signed_contract(opp)
    opp = opportunity_win(opportunity=opp, by=org.rep1a)
    # then it is won, closed, and its history has one stay per stage, only the last open
    opp = Opportunity.objects.get(pk=opp.pk)
    assert opp.stage == Stage.WON and opp.closed_at is not None
    assert opp.needs_analysis == "十台数控机床"
    stays = list(StageChange.objects.filter(opportunity=opp).order_by("entered_at", "id"))
    assert [s.stage for s in stays] == ["prospecting", "qualification", "needs_analysis",
                                        "proposal", "negotiation", "won"]  # fmt: skip
    assert [s.from_stage for s in stays][1:] == [
        "prospecting", "qualification", "needs_analysis", "proposal", "negotiation"]  # fmt: skip
    assert all(s.left_at is not None for s in stays[:-1]) and stays[-1].left_at is None
    assert all(s.entered_by == org.rep1a for s in stays)


def test_winning_leaves_a_prospect_customer_as_it_is(org, deal):
    opp = deal(org.rep1a, Stage.NEGOTIATION)
    signed_contract(opp)
    opportunity_win(opportunity=opp, by=org.rep1a)
    assert Customer.objects.get(pk=opp.customer_id).status == "prospect"


@pytest.mark.parametrize(
    ("name", "stage"),
    [("qualify", Stage.NEEDS_ANALYSIS), ("analyse_needs", Stage.PROSPECTING),
     ("propose", Stage.QUALIFICATION), ("negotiate", Stage.NEEDS_ANALYSIS),
     ("win", Stage.PROPOSAL), ("move_back", Stage.PROSPECTING), ("lose", Stage.WON)],
)  # fmt: skip
def test_move_from_the_wrong_stage_is_a_conflict_naming_the_stage(org, deal, name, stage):
    opp = deal(org.rep1a, stage)
    extra = {"lose": {"lost_reason": "r", "lost_competitor": "c"},
             "move_back": {"reason": "r"}}.get(name, {})  # fmt: skip
    with translation.override("en"):
        with pytest.raises(Conflict) as exc:
            TRANSITION_SERVICES[name](opportunity=opp, by=org.rep1a, **extra)
        assert str(Stage(stage).label) in str(exc.value)
    assert Opportunity.objects.get(pk=opp.pk).stage == stage


@pytest.mark.parametrize("who", ["rep1b", "rep2a", "sup2", "manager2", "finance"])
def test_someone_outside_the_owners_line_cannot_move_the_deal(org, deal, who):
    opp = deal(org.rep1a)
    with pytest.raises(PermissionDenied):
        opportunity_qualify(opportunity=opp, by=getattr(org, who))


@pytest.mark.parametrize("who", ["sup1", "manager1", "admin"])
def test_a_head_over_the_owner_moves_the_deal_and_the_owner_is_told(org, deal, who):
    opp = deal(org.rep1a)
    opportunity_qualify(opportunity=opp, by=getattr(org, who))
    assert Opportunity.objects.get(pk=opp.pk).stage == Stage.QUALIFICATION
    note = Notification.objects.get(recipient=org.rep1a)
    assert note.url == opp.get_absolute_url()


def test_owner_moving_own_deal_notifies_nobody(org, deal):
    opp = deal(org.rep1a)
    opportunity_qualify(opportunity=opp, by=org.rep1a)
    assert not Notification.objects.exists()


def test_move_back_keeps_the_reason_in_the_history(org, deal):
    opp = deal(org.rep1a, Stage.PROPOSAL)
    opp = opportunity_move_back(opportunity=opp, by=org.rep1a, reason="客户需求变了")
    assert opp.stage == Stage.NEEDS_ANALYSIS
    current = StageChange.objects.get(opportunity=opp, left_at__isnull=True)
    assert (current.stage, current.from_stage, current.reason) == (
        "needs_analysis", "proposal", "客户需求变了")  # fmt: skip


def test_lost_keeps_reason_competitor_and_closes(org, deal):
    opp = deal(org.rep1a, Stage.QUALIFICATION)
    opp = opportunity_lose(opportunity=opp, by=org.rep1a, lost_reason="价格高",
                           lost_competitor="海天精工")  # fmt: skip
    opp = Opportunity.objects.get(pk=opp.pk)
    assert (opp.stage, opp.lost_reason, opp.lost_competitor) == ("lost", "价格高", "海天精工")
    assert opp.closed_at is not None
    assert StageChange.objects.get(opportunity=opp, left_at__isnull=True).reason == "价格高"


def test_a_move_clears_the_stuck_alerts(org, deal):
    opp = deal(org.rep1a)
    Opportunity.objects.filter(pk=opp.pk).update(stuck_notified_at=timezone.now(),
                                                 stuck_escalated_at=timezone.now())  # fmt: skip
    opp = opportunity_qualify(opportunity=opp, by=org.rep1a)
    opp = Opportunity.objects.get(pk=opp.pk)
    assert opp.stuck_notified_at is None and opp.stuck_escalated_at is None


def test_stage_history_durations(org, deal):
    # given a deal that entered prospecting 10 days ago and qualification 4 days ago
    opp = deal(org.rep1a)
    now = timezone.now()
    StageChange.objects.filter(opportunity=opp).update(entered_at=now - timedelta(days=10),
                                                       left_at=now - timedelta(days=4))  # fmt: skip
    StageChange.objects.create(opportunity=opp, stage="qualification", from_stage="prospecting",
                               entered_at=now - timedelta(days=4))  # fmt: skip
    # when the history is read
    stays = stage_history(opportunity=opp, now=now)
    # then each stay has its duration, the current one to now
    assert [(s.change.stage, s.days, s.current) for s in stays] == [
        ("prospecting", 6.0, False), ("qualification", 4.0, True)]  # fmt: skip


def test_update_changes_the_data(org, deal):
    opp = deal(org.rep1a)
    opp = opportunity_update(opportunity=opp, by=org.rep1a,
                             data={"amount": Decimal("1234.565"), "name": "新名字"})  # fmt: skip
    assert (opp.amount, opp.name) == (Decimal("1234.57"), "新名字")


def test_update_of_a_closed_deal_is_a_conflict(org, deal):
    opp = deal(org.rep1a, Stage.WON)
    with pytest.raises(Conflict):
        opportunity_update(opportunity=opp, by=org.rep1a, data={"name": "x"})


def test_update_by_a_peer_is_refused(org, deal):
    opp = deal(org.rep1a)
    with pytest.raises(PermissionDenied):
        opportunity_update(opportunity=opp, by=org.rep1b, data={"name": "x"})


def test_update_with_a_negative_amount_names_the_field(org, deal):
    opp = deal(org.rep1a)
    with pytest.raises(ValidationError) as exc:
        opportunity_update(opportunity=opp, by=org.rep1a, data={"amount": "-1"})
    assert "amount" in exc.value.message_dict


def test_update_with_another_customers_contact_names_the_field(org, deal):
    opp, other = deal(org.rep1a), deal(org.rep1a)
    contact = other.customer.contacts.first()
    with pytest.raises(ValidationError) as exc:
        opportunity_update(opportunity=opp, by=org.rep1a, data={"contact": contact})
    assert "contact" in exc.value.message_dict
