"""The pipeline figures' fast paths at scale (issue 10) give what the slower ones gave:

- the funnel counted by (furthest stage, current stage) equals the per-deal definition read
  from the stage history (deals without history, moved back, lost late, out of the period);
- the win rate and the forecast grouped by owner id, with the names joined afterwards, name
  every rep and team as before (a rep without a unit included);
- the forecast's weighted amount divided once per cell equals the sum of each deal's weighted
  amount, rounded half up to the cent;
- the long tables of the pages built in Python are the rows the template wrote, the numbers
  formatted as `floatformat` and `intcomma` formatted them, names escaped;
- the forecast's API body written directly is what its serializer writes.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from rest_framework.test import APIClient

from apps.accounts.choices import Role
from apps.accounts.names import person_name
from apps.leads.periods import period_bounds
from apps.opportunities import figure_tables, figures
from apps.opportunities.api_figures import ForecastSerializer, forecast_body
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity, StageChange, StageSetting

from ..factories import UserFactory
from .figures_data import at
from .figures_data import deal as history_deal

pytestmark = pytest.mark.django_db

NOV = period_bounds(date(2026, 11, 1), date(2026, 11, 30))
TODAY = date(2026, 11, 15)


def d(day: int, month: int = 11) -> object:
    return at(date(2026, month, day))


@pytest.fixture
def edge_deals(org):
    """November deals with the funnel's edge cases, and some outside November."""
    no_unit = UserFactory(username="nounit", role=Role.REP, org_unit=None,
                          first_name="Ann", last_name="<b>Bold</b>")  # fmt: skip
    deals = [
        # reached won through every stage
        history_deal(org.rep1a, [("prospecting", d(2)), ("qualification", d(3)),
                                 ("needs_analysis", d(4)), ("proposal", d(5)),
                                 ("negotiation", d(6)), ("won", d(7))],
                     amount="333.35", close=date(2026, 11, 20), name="won"),
        # moved back from proposal, then lost from qualification: reached proposal
        history_deal(org.rep1a, [("prospecting", d(2)), ("qualification", d(3)),
                                 ("needs_analysis", d(4)), ("proposal", d(5)),
                                 ("needs_analysis", d(6)), ("qualification", d(7)),
                                 ("lost", d(8))], name="back and lost"),
        # lost straight from negotiation: reached negotiation
        history_deal(org.rep1b, [("prospecting", d(3)), ("negotiation", d(4)),
                                 ("lost", d(9))], name="lost late"),
        # still open in qualification
        history_deal(org.rep2a, [("prospecting", d(4)), ("qualification", d(10))],
                     amount="333.35", close=date(2026, 11, 25), name="open"),
        history_deal(org.rep2a, [("prospecting", d(4))], amount="333.35",
                     close=date(2026, 11, 26), name="open too"),
        # a rep without a unit
        history_deal(no_unit, [("prospecting", d(5)), ("lost", d(6))], amount="10.00",
                     name="no unit"),
        history_deal(no_unit, [("prospecting", d(5))], amount="10.05",
                     close=date(2026, 12, 1), name="no unit open"),
        # created in October: not in November's funnel
        history_deal(org.rep3a, [("prospecting", d(20, 10)), ("won", d(3))], name="october"),
    ]  # fmt: skip
    # created in November without any stage history yet: created, reached nothing
    bare = history_deal(org.rep1b, [("prospecting", d(11))], name="bare")
    StageChange.objects.filter(opportunity=bare).delete()
    Opportunity.objects.filter(pk=bare.pk).update(furthest_stage="")
    return [*deals, bare]


def _funnel_from_history(user, period) -> tuple[int, int, int, list[int]]:
    """The funnel's definition, deal by deal: created in the period, the furthest stage of its
    history in the forward order, the current stage for won and lost."""
    start, end = period
    order = list(figures.FUNNEL_STAGES)
    created = won = lost = 0
    reached = [0] * len(order)
    scope = Opportunity.objects.visible_to(user).filter(created_at__gte=start, created_at__lt=end)
    for opportunity in scope:
        created += 1
        won += opportunity.stage == Stage.WON
        lost += opportunity.stage == Stage.LOST
        ranks = [order.index(c.stage) for c in opportunity.stage_history.all()
                 if c.stage in order]  # fmt: skip
        for i in range(max(ranks) + 1 if ranks else 0):
            reached[i] += 1
    return created, won, lost, reached


@pytest.mark.parametrize("who", ["admin", "sup1", "rep1a", "rep1b"])
def test_funnel_by_furthest_and_current_stage_is_the_per_deal_definition(org, edge_deals, who):
    user = getattr(org, who)
    result = figures.funnel(user=user, period=NOV)
    steps = [s.reached for s in result.steps]
    assert (result.created, result.won, result.lost, steps) == _funnel_from_history(user, NOV)


def test_funnel_counts_a_deal_without_history_as_created_only(org, edge_deals):
    result = figures.funnel(user=org.rep1b, period=NOV)
    # "lost late" reached negotiation; "bare" has no history
    assert result.created == 2
    assert [s.reached for s in result.steps] == [1, 1, 1, 1, 1, 0]
    assert (result.won, result.lost, result.open) == (0, 1, 1)


def _expected_name(user) -> str:
    return person_name(user.first_name, user.last_name) or user.username


def test_win_rate_rows_name_each_rep_and_team(org, edge_deals):
    result = figures.win_rates(user=org.admin, period=NOV)
    no_unit = edge_deals[5].owner
    # closed in November: won (rep1a), back and lost (rep1a), lost late (rep1b), no unit,
    # and the October deal won on Nov 3 (rep3a)
    closers = {u.pk: u for u in (org.rep1a, org.rep1b, org.rep3a, no_unit)}
    assert {r.id for r in result.by_rep} == set(closers)
    for row in result.by_rep:
        owner = closers[row.id]
        assert (row.name, row.unit_id) == (_expected_name(owner), owner.org_unit_id)
    teams = {r.id: r.name for r in result.by_team}
    assert teams == {None: "", org.team1.pk: org.team1.name, org.team3.pk: org.team3.name}
    assert (result.total.won, result.total.lost) == (2, 3)


def test_forecast_rows_name_each_rep_and_team_and_round_each_cell(org, edge_deals):
    result = figures.forecast(user=org.admin, today=TODAY)
    probability = {s.stage: s.probability for s in StageSetting.objects.all()}
    expected: dict[tuple[int, str], Decimal] = {}
    open_deals = Opportunity.objects.filter(
        stage__in=figures.OPEN_STAGES, expected_close_date__isnull=False
    ).select_related("owner")
    for o in open_deals:
        key = (o.owner_id, o.expected_close_date.strftime("%Y-%m"))
        expected[key] = expected.get(key, Decimal(0)) + o.amount * probability[o.stage] / 100
        rep = next(r for r in result.by_rep if r.id == o.owner_id)
        assert (rep.name, rep.unit_id) == (_expected_name(o.owner), o.owner.org_unit_id)
    cells = {(r.id, key): cell.weighted for r in result.by_rep for key, cell in r.cells.items()}
    assert cells == {k: v.quantize(Decimal("0.01"), ROUND_HALF_UP) for k, v in expected.items()}
    # rep2a's two deals in November: 66.67 + 33.335 = 100.005, rounded once per cell
    assert cells[(org.rep2a.pk, "2026-11")] == Decimal("100.01")
    assert {r.id: r.name for r in result.by_team}[None] == ""


def test_forecast_row_totals_are_the_sum_of_their_cells(org, edge_deals):
    result = figures.forecast(user=org.admin, today=TODAY)
    for row in (*result.by_rep, *result.by_team, result.totals):
        cells = list(row.cells.values())
        assert vars(row.total) == {
            "deals": sum(c.deals for c in cells),
            "amount": sum((c.amount for c in cells), Decimal("0.00")),
            "weighted": sum((c.weighted for c in cells), Decimal("0.00")),
        }
    assert result.totals.total.deals == 3  # the three open deals with a date in the months


# --- the pages' tables ---------------------------------------------------------------------

AMOUNTS = ["0", "0.00", "0.004", "0.005", "0.015", "1", "999.995", "1000", "1234.5", "33.335",
           "-0.004", "-1234.565", "12345678.9", "100000000000.01", "7"]  # fmt: skip


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_money_text_is_floatformat_2_and_intcomma(language):
    template = Template("{% load humanize %}{{ v|floatformat:2|intcomma }}")
    with translation.override(language):
        for raw in AMOUNTS:
            value = Decimal(raw)
            assert figure_tables.money_text(value) == template.render(Context({"v": value}))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_one_decimal_text_is_floatformat_1(language):
    template = Template("{{ v|floatformat:1 }}")
    with translation.override(language):
        for value in (0.0, 0.05, 0.15, 2.25, 33.3, 50.0, 66.7, 100.0, 1234.5, 18.0):
            assert figure_tables.one_decimal_text(value) == template.render(Context({"v": value}))


# The rows as forecast.html and funnel_winrates.html wrote them before they were built in Python.
OLD_FORECAST_ROWS = """{% load i18n humanize %}{% url 'opportunities:list' as list_url %}
{% for row in rows %}
  <tr data-{{ row.kind }}="{{ row.id|default:'' }}">
    <th scope="row" class="fw-normal text-nowrap">
      {% if row.kind == "team" and row.id %}<a href="?{{ team_query }}&amp;team={{ row.id }}">{{ row.name|default:_("No unit") }}</a>
      {% elif row.kind == "rep" %}<a href="?{{ team_query }}&amp;owner={{ row.id }}">{{ row.name }}</a>
      {% else %}{{ row.name|default:_("No unit") }}{% endif %}
    </th>
    {% for cell in row.ordered %}
      <td class="text-end text-nowrap" data-bucket="{{ cell.key }}">{% if cell.deals %}
        {% if row.id and list_url %}<a href="{{ list_url }}?state=open&amp;{% if row.kind == 'rep' %}owner{% else %}team{% endif %}={{ row.id }}{% if cell.month %}&amp;month={{ cell.month|date:'Y-m' }}{% endif %}" class="text-reset">{% endif %}<span class="fw-semibold">{{ cell.weighted|floatformat:2|intcomma }}</span>{% if row.id and list_url %}</a>{% endif %}
        <div class="small text-body-secondary">{{ cell.amount|floatformat:2|intcomma }} · {{ cell.deals }}</div>
      {% else %}<span class="text-body-tertiary">—</span>{% endif %}</td>
    {% endfor %}
    {% with tot=row.total %}<td class="text-end text-nowrap" data-figure="total"><span class="fw-semibold">{{ tot.weighted|floatformat:2|intcomma }}</span><div class="small text-body-secondary">{{ tot.amount|floatformat:2|intcomma }} · {{ tot.deals }}</div></td>{% endwith %}
  </tr>
{% endfor %}
{% for cell in totals.ordered %}<td class="text-end text-nowrap fw-semibold">{{ cell.weighted|floatformat:2|intcomma }}<div class="small text-body-secondary fw-normal">{{ cell.amount|floatformat:2|intcomma }} · {{ cell.deals }}</div></td>{% endfor %}
{% with tot=totals.total %}<td class="text-end text-nowrap fw-semibold">{{ tot.weighted|floatformat:2|intcomma }}<div class="small text-body-secondary fw-normal">{{ tot.amount|floatformat:2|intcomma }} · {{ tot.deals }}</div></td>{% endwith %}
"""  # noqa: E501

OLD_WIN_ROWS = """{% load i18n %}{% url 'opportunities:list' as list_url %}
{% for row in rows %}{% with x=row.figures %}
  <tr data-{{ row.kind }}="{{ row.id|default:'' }}">
    <th scope="row" class="fw-normal">
      {% if row.kind == "team" and row.id %}<a href="?{{ team_query }}&amp;team={{ row.id }}">{{ row.name|default:_("No unit") }}</a>
      {% elif row.kind == "rep" %}<a href="?{{ team_query }}&amp;owner={{ row.id }}">{{ row.name }}</a>
      {% else %}{{ row.name|default:_("No unit") }}{% endif %}
    </th>
    <td class="text-end" data-figure="won">{% if list_url and row.id %}<a href="{{ list_url }}?{% if row.kind == 'rep' %}owner{% else %}team{% endif %}={{ row.id }}&amp;stage=won">{{ x.won }}</a>{% else %}{{ x.won }}{% endif %}</td>
    <td class="text-end" data-figure="lost">{% if list_url and row.id %}<a href="{{ list_url }}?{% if row.kind == 'rep' %}owner{% else %}team{% endif %}={{ row.id }}&amp;stage=lost">{{ x.lost }}</a>{% else %}{{ x.lost }}{% endif %}</td>
    <td class="text-end fw-semibold" data-figure="win_rate">{% if x.win_pct is None %}—{% else %}{{ x.win_pct|floatformat:1 }}%{% endif %}</td>
    <td class="text-end" data-figure="cycle_days">{% if x.cycle_days is None %}—{% else %}{{ x.cycle_days|floatformat:1 }}{% endif %}</td>
    <td class="d-none d-md-table-cell"><div class="bg-body-tertiary rounded" style="height:.8rem"><div class="bg-success rounded h-100" style="width:{{ x.win_pct|default:0|stringformat:'.1f' }}%"></div></div></td>
  </tr>
{% endwith %}{% endfor %}
"""  # noqa: E501


def _squeeze(html: str) -> str:
    return re.sub(r"\s*\n\s*", "", html).strip()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_forecast_rows_are_the_rows_the_template_wrote(org, edge_deals, language):
    result = figures.forecast(user=org.admin, today=TODAY)
    for row in (*result.by_rep, *result.by_team, result.totals):  # what the template read
        row.ordered = [{"key": b.key, "month": b.month, **vars(row.cell(b.key))}
                       for b in result.buckets]  # fmt: skip
    team_query = "period=custom&start=2026-11-01&end=2026-11-30"
    with translation.override(language):
        for rows in (result.by_rep, result.by_team):
            old = Template(OLD_FORECAST_ROWS).render(Context(
                {"rows": rows, "totals": result.totals, "team_query": team_query}))  # fmt: skip
            new = figure_tables.forecast_rows(
                rows, result.buckets, team_query=team_query, list_url="/opportunities/"
            ) + figure_tables.forecast_total_cells(result.totals, result.buckets)
            assert _squeeze(new) == _squeeze(old)
    rep = figure_tables.forecast_rows(result.by_rep, result.buckets, team_query=team_query,
                                      list_url="/opportunities/")  # fmt: skip
    assert "Ann &lt;b&gt;Bold&lt;/b&gt;" in rep and "<b>Bold" not in rep  # names escaped
    assert "?period=custom&amp;start=2026-11-01" in rep


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_win_rate_rows_are_the_rows_the_template_wrote(org, edge_deals, language):
    result = figures.win_rates(user=org.admin, period=NOV)
    with translation.override(language):
        for rows in (result.by_rep, result.by_team):
            old = Template(OLD_WIN_ROWS).render(
                Context({"rows": rows, "team_query": "period=this_month"})
            )
            new = figure_tables.win_rate_rows(
                rows, team_query="period=this_month", list_url="/opportunities/"
            )
            assert _squeeze(new) == _squeeze(old)


def test_forecast_page_escapes_names_and_links_each_cell(client, org, edge_deals):
    client.force_login(org.admin)
    body = client.get("/opportunities/forecast/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ann &lt;b&gt;Bold&lt;/b&gt;" in body and "<b>Bold</b>" not in body
    assert 'id="forecast-by-rep"' in body and 'id="forecast-by-team"' in body


# --- the forecast's API body ---------------------------------------------------------------


def test_forecast_api_body_is_what_its_serializer_writes(org, edge_deals):
    result = figures.forecast(user=org.admin, today=TODAY)
    result.totals.target = Decimal("1234.5")  # a target, as the goals issue may set one

    def row(r):
        cell = lambda key, c: {"bucket": key, "deals": c.deals, "amount": c.amount,  # noqa: E731
                               "weighted": c.weighted}  # fmt: skip
        return {"id": r.id, "name": r.name, "total": cell("total", r.total), "target": r.target,
                "cells": [cell(b.key, r.cell(b.key)) for b in result.buckets]}  # fmt: skip

    serialized = ForecastSerializer({
        "buckets": [b.key for b in result.buckets],
        "by_rep": [row(r) for r in result.by_rep], "by_team": [row(r) for r in result.by_team],
        "totals": row(result.totals),
    }).data  # fmt: skip
    assert json.dumps(forecast_body(result)) == json.dumps(serialized)


def test_forecast_api_answers_the_body(org, edge_deals):
    client = APIClient()
    client.force_authenticate(org.admin)
    body = client.get("/api/v1/pipeline-figures/forecast/").json()
    assert list(body) == ["buckets", "by_rep", "by_team", "totals"]
    assert list(body["totals"]) == ["id", "name", "cells", "total", "target"]
    assert list(body["totals"]["total"]) == ["bucket", "deals", "amount", "weighted"]


# --- the deals' stage label in the API -----------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_api_stage_display_is_the_deals_stage_label(org, edge_deals, language):
    client = APIClient()
    client.force_authenticate(org.admin)
    board = client.get("/api/v1/opportunities/board/", HTTP_ACCEPT_LANGUAGE=language).json()
    listed = client.get("/api/v1/opportunities/", HTTP_ACCEPT_LANGUAGE=language).json()
    rows = [card for column in board["columns"] for card in column["cards"]]
    rows += listed["results"]
    assert {r["stage"] for r in rows} >= {"prospecting", "qualification", "won", "lost"}
    deals = {o.pk: o for o in Opportunity.objects.filter(pk__in=[r["id"] for r in rows])}
    with translation.override(language):
        for r in rows:
            assert r["stage_display"] == deals[r["id"]].get_stage_display()
