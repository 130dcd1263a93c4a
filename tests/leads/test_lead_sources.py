"""Lead source effectiveness (apps.leads.source_figures and /leads/sources/) on hand-made
leads with known answers: per source and per channel, scope and narrowing, the drill-down to
the lead list, the chart, the Excel file cell by cell, the query budget."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.utils import timezone, translation
from openpyxl import load_workbook

from apps.customers.models import Customer
from apps.leads.choices import LeadSource, LeadStatus
from apps.leads.models import Lead, LeadTouch
from apps.leads.source_figures import source_figures
from apps.opportunities.models import Opportunity
from tests.factories import UserFactory

PAGE = "/leads/sources/"
MARCH = {"period": "custom", "start": "2025-03-01", "end": "2025-03-31"}
START, END = date(2025, 3, 1), date(2025, 3, 31)


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return timezone.make_aware(datetime(2025, month, day, hour), timezone.get_current_timezone())


def lead(capture, owner, source: str, channel: str, created: datetime, *,
         responded_hours: float | None = None, breached: bool = False, due: bool = True,
         status: str = LeadStatus.ASSIGNED) -> Lead:  # fmt: skip
    """A lead of `owner` captured at `created` from `source`/`channel`, answered after
    `responded_hours` (None: not answered), its response due a day after capture."""
    made = capture(source=source, region="上海").lead
    Lead.objects.filter(pk=made.pk).update(
        owner=owner, team=owner.org_unit, channel=channel, created_at=created, status=status,
        first_response_due_at=created + timedelta(days=1) if due else None,
        first_responded_at=None if responded_hours is None
        else created + timedelta(hours=responded_hours),
        sla_breached_at=created + timedelta(days=1, minutes=1) if breached else None,
    )  # fmt: skip
    return Lead.objects.get(pk=made.pk)


def touch(created: datetime, source: str, channel: str = "", **target) -> LeadTouch:
    made = LeadTouch.objects.create(source=source, channel=channel, **target)
    LeadTouch.objects.filter(pk=made.pk).update(created_at=created)
    return made


def opportunity(lead: Lead, stage: str, amount: str) -> Opportunity:
    customer = Customer.objects.create(name=f"客户 {lead.company_name}", owner=lead.owner)
    return Opportunity.objects.create(
        name=lead.company_name, customer=customer, owner=lead.owner, amount=Decimal(amount),
        stage=stage, stage_entered_at=timezone.now(), lead=lead,
    )  # fmt: skip


@pytest.fixture
def march(capture, territories, org) -> dict[str, Lead]:
    """Team 1 in March — website form, channel 官网: L1 (rep1a) answered in 2 h, converted,
    its deal won for 5,000; L2 (rep1b) answered in 4 h, qualified, breached, its deal open;
    L3 (rep1a) unanswered, breached. Exhibition, channel 工博会: L4 (rep1a) answered in 1 h,
    disqualified, and a duplicate touch on L1. Outside team 1: L5 (rep2a, exhibition, no
    channel) and a touch on a team-3 customer; outside March: an April lead of rep1a."""
    web, fair = LeadSource.WEB_FORM, LeadSource.EXHIBITION
    l1 = lead(capture, org.rep1a, web, "官网", at(2), responded_hours=2,
              status=LeadStatus.CONVERTED)  # fmt: skip
    l2 = lead(capture, org.rep1b, web, "官网", at(3), responded_hours=4, breached=True,
              status=LeadStatus.QUALIFIED)  # fmt: skip
    l3 = lead(capture, org.rep1a, web, "官网", at(5), breached=True)
    l4 = lead(capture, org.rep1a, fair, "工博会", at(10), responded_hours=1,
              status=LeadStatus.DISQUALIFIED)  # fmt: skip
    l5 = lead(capture, org.rep2a, fair, "", at(11), responded_hours=10)
    april = lead(capture, org.rep1a, web, "官网", at(2, month=4), responded_hours=1)
    opportunity(l1, "won", "5000.00")
    opportunity(l2, "proposal", "7000.00")
    touch(at(12), fair, "工博会", lead=l1)
    touch(at(12), web, "", customer=Customer.objects.create(name="华南客户", owner=org.rep3a))
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4, "l5": l5, "april": april}


def _row(result, key: str):
    return next(r for r in result.rows if (r.channel if result.source else r.source) == key)


def test_figures_per_source_have_the_known_answers(org, march):
    # when sup1 (team 1) asks for March
    result = source_figures(user=org.sup1, start=START, end=END)
    # then the website form: 3 captured, 2 answered (2 h and 4 h), 2 qualified, 1 converted
    web = _row(result, LeadSource.WEB_FORM)
    assert (web.captured, web.duplicates, web.contacted, web.qualified, web.converted) == (
        3, 0, 2, 2, 1,
    )  # fmt: skip
    assert web.conversion_rate == pytest.approx(1 / 3, abs=1e-4)
    assert web.response_hours == 3.0  # the median of 2 h and 4 h
    assert (web.sla_due, web.breached) == (3, 2)
    assert (web.won_deals, web.won_amount) == (1, Decimal("5000.00"))  # the open deal is not
    # and the exhibition: L4 and the duplicate touch on L1
    fair = _row(result, LeadSource.EXHIBITION)
    assert (fair.captured, fair.duplicates, fair.contacted, fair.converted) == (1, 1, 1, 0)
    assert (fair.response_hours, fair.breach_rate, fair.won_amount) == (1.0, 0.0, Decimal("0"))
    # and the total (its own median: of 1, 2 and 4 hours)
    t = result.total
    assert (t.captured, t.duplicates, t.contacted, t.qualified, t.converted) == (4, 1, 3, 2, 1)
    assert (t.response_hours, t.sla_due, t.breached, t.won_amount) == (
        2.0, 4, 2, Decimal("5000.00"),
    )  # fmt: skip
    # the most captured first
    assert [r.source for r in result.rows] == [LeadSource.WEB_FORM, LeadSource.EXHIBITION]


def test_admin_sees_every_team_and_the_touches_on_customers(org, march):
    result = source_figures(user=org.admin, start=START, end=END)
    assert _row(result, LeadSource.EXHIBITION).captured == 2  # L4 and L5
    assert _row(result, LeadSource.WEB_FORM).duplicates == 1  # the team-3 customer's touch
    assert result.total.captured == 5


def test_rep_sees_only_own_leads(org, march):
    result = source_figures(user=org.rep1a, start=START, end=END)
    assert _row(result, LeadSource.WEB_FORM).captured == 2  # L1 and L3, not rep1b's L2
    assert result.total.captured == 3


def test_team_and_owner_narrowing(org, march):
    by_team = source_figures(user=org.admin, start=START, end=END, team=org.team1)
    assert by_team.total.captured == 4 and by_team.total.duplicates == 1
    by_owner = source_figures(user=org.admin, start=START, end=END, owner=org.rep1b)
    assert [(r.source, r.captured, r.breached) for r in by_owner.rows] == [
        (LeadSource.WEB_FORM, 1, 1),
    ]  # fmt: skip


def test_won_deals_count_those_of_the_leads_of_the_period_scope_and_narrowing(capture, org, march):
    # given a won deal of team 2's March lead (L5), one of rep1a's April lead, and a won deal
    # of team 1 opened without a lead
    opportunity(march["l5"], "won", "800.00")
    opportunity(march["april"], "won", "300.00")
    Opportunity.objects.create(
        name="No lead", customer=Customer.objects.create(name="直客", owner=org.rep1a),
        owner=org.rep1a, amount=Decimal("900.00"), stage="won", stage_entered_at=at(20),
    )  # fmt: skip
    # then sup1 (team 1) counts only L1's deal; the admin L5's as well, under its source
    won = {r.source: (r.won_deals, r.won_amount)
           for r in source_figures(user=org.sup1, start=START, end=END).rows}  # fmt: skip
    assert won == {LeadSource.WEB_FORM: (1, Decimal("5000.00")),
                   LeadSource.EXHIBITION: (0, Decimal("0.00"))}  # fmt: skip
    result = source_figures(user=org.admin, start=START, end=END)
    assert (_row(result, LeadSource.EXHIBITION).won_deals, result.total.won_amount) == (
        1, Decimal("5800.00"),
    )  # fmt: skip
    # narrowed to team 2, to rep1b, and per channel
    by_team = source_figures(user=org.admin, start=START, end=END, team=org.team2)
    assert (by_team.total.won_deals, by_team.total.won_amount) == (1, Decimal("800.00"))
    by_owner = source_figures(user=org.admin, start=START, end=END, owner=org.rep1b)
    assert by_owner.total.won_deals == 0
    channels = source_figures(user=org.admin, start=START, end=END, source=LeadSource.EXHIBITION)
    assert [(r.channel, r.won_deals) for r in channels.rows] == [("工博会", 0), ("", 1)]


def test_the_total_median_is_of_all_the_leads_not_of_the_rows(org, march):
    # the medians per source are 3 h (2 h, 4 h) and 1 h; the total's is of 1, 2 and 4 h —
    # and for the admin, of 1, 2, 4 and 10 h
    rows = source_figures(user=org.sup1, start=START, end=END)
    assert [r.response_hours for r in rows.rows] == [3.0, 1.0]
    assert rows.total.response_hours == 2.0
    assert source_figures(user=org.admin, start=START, end=END).total.response_hours == 3.0
    assert source_figures(user=org.rep1b, start=START, end=END).total.response_hours == 4.0
    # a period without a lead has none
    empty = source_figures(user=org.admin, start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert (empty.rows, empty.total.captured, empty.total.response_hours) == ([], 0, None)


def test_one_source_is_broken_down_by_channel(org, march):
    with translation.override("en"):
        result = source_figures(user=org.admin, start=START, end=END, source=LeadSource.EXHIBITION)
        labels = [(str(r.label), r.captured, r.duplicates) for r in result.rows]
    assert labels == [("工博会", 1, 1), ("(no channel)", 1, 0)]
    assert result.total.captured == 2


# --- the page ------------------------------------------------------------------------------


def test_page_shows_the_chart_and_drills_down(client, org, march):
    client.force_login(org.sup1)
    response = client.get(PAGE, MARCH)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-figure="captured">4<' in body  # the total card
    assert "<svg" in body  # a bar per source
    assert "/leads/?source=web_form" in body  # the documents behind the row
    assert "source=web_form" in body and 'id="sources-export"' in body
    channels = client.get(PAGE, {**MARCH, "source": "web_form"})
    assert [r.channel for r in channels.context["result"].rows] == ["官网"]


@pytest.mark.parametrize(("params", "user"), [
    ({"team": "team3"}, "sup1"), ({"owner": "rep2a"}, "sup1"), ({"team": "team1"}, "rep1a"),
])  # fmt: skip
def test_narrowing_outside_the_scope_is_404(client, org, march, params, user):
    client.force_login(getattr(org, user))
    query = {key: getattr(org, value).pk for key, value in params.items()}
    assert client.get(PAGE, {**MARCH, **query}).status_code == 404
    assert client.get(PAGE, {**MARCH, **query, "format": "xlsx"}).status_code == 404


@pytest.mark.parametrize(("params", "field"), [
    ({"period": "custom", "start": "2025-03-31", "end": "2025-03-01"}, "end"),
    ({"period": "custom"}, "start"),
    ({**MARCH, "source": "pigeon"}, "source"),
    ({**MARCH, "team": "abc"}, "team"),
])  # fmt: skip
def test_bad_filter_is_a_400_naming_the_field(client, org, params, field):
    client.force_login(org.sup1)
    response = client.get(PAGE, params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f'data-field="{field}"' in response.content.decode()


def test_excel_has_a_row_per_source_and_the_total(client, org, march):
    # given sup1 / when they export March
    client.force_login(org.sup1)
    response = client.get(PAGE, {**MARCH, "format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en")
    # then
    assert response.status_code == 200
    assert "lead-sources-20250301-20250331" in response["Content-Disposition"]
    ws = load_workbook(BytesIO(response.content)).active
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert rows[0] == (
        "Source", "Leads captured", "Duplicates", "Contacted", "Qualified", "Converted",
        "Conversion rate (%)", "Median first response (hours)", "SLA breaches (%)",
        "Won deals", "Won amount",
    )  # fmt: skip
    assert ws["A3"].font.b
    assert rows[1] == ("Website form", 3, 0, 2, 2, 1, 33.3, 3, 66.7, 1, 5000)
    assert rows[2] == ("Exhibition", 1, 1, 1, 0, 0, 0, 1, 0, 0, 0)
    assert rows[3] == ("Total", 4, 1, 3, 2, 1, 25, 2, 50, 1, 5000)
    assert ws.cell(row=ws.max_row, column=1).font.b
    assert ws["K4"].number_format == "#,##0.00" and ws["G4"].number_format == "0.0"


def test_page_costs_the_same_queries_for_more_leads_and_people(
    client, capture, territories, org, march, django_assert_max_num_queries
):
    client.force_login(org.manager1)
    client.get(PAGE, MARCH)
    for i in range(8):
        rep = UserFactory(username=f"extra{i}", role="rep", org_unit=org.team2)
        for source in (LeadSource.REFERRAL, LeadSource.COLD_CALL, LeadSource.API):
            lead(capture, rep, source, f"渠道{i}", at(3 + i), responded_hours=i + 1)
    with django_assert_max_num_queries(12):
        response = client.get(PAGE, MARCH)
    assert response.status_code == 200
    assert response.context["result"].total.captured == 4 + 1 + 24
