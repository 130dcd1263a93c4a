"""Competitor analysis (apps.incentives.competitors) on hand-made lost deals and visit records:
matching by name and alias whatever the case, unmatched names grouped as written, shares,
month on month, mentions, the drill-downs, scope and the team of the day; the registry's rules
(who keeps it, clashing names, a race) and its demo loader.

The period is October–November 2026. Registry: 德马吉森精机 (aliases DMG MORI, 德马吉), 牧野
(Makino), and 大隈 (inactive). Deals lost (owner, competitor as written, amount, day):
- L1 rep1a " dmg mori " 100.00, 5 November;  L2 rep1b "德马吉森精机" 300.00, 20 October;
- L3 rep2a "MAKINO" 200.00, 10 November;      L4 rep3a "Rival Co" 50.00, 11 November;
- L5 rep1a "rival co " 150.00, 12 November;    L6 rep3a "大隈" 70.00, 13 November (inactive:
  grouped as written);
- L7 rep1a "牧野" 999.00, 30 September (before the period: not counted).
Visit records (owner, competitor information, day):
- V1 rep1a "DMG MORI 报价低 5%", 3 November;  V2 rep1b "德马吉和makino都在跟进", 4 November;
- V3 rep2a "德马吉森精机（德马吉）提供试用", 15 October;  V4 rep3a "牧野交期两周", 6 November;
- V5 rep1a "大隈降价", 7 November (inactive: not looked for); V6 rep1a "", 8 November;
- V7 rep1a "Makino", 30 September (before the period).
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections
from django.utils import timezone
from rest_framework.test import APIClient

from apps.customers.models import Customer
from apps.incentives import competitors
from apps.incentives.competitors import competitor_analysis, competitor_create, competitor_update
from apps.incentives.models import Competitor
from apps.visits.models import VisitRecord

from ..opportunities.figures_data import deal
from .test_diagnostics import move

pytestmark = pytest.mark.django_db

START, END = date(2026, 10, 1), date(2026, 11, 30)


def local(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def lost(owner, competitor: str, amount: str, day: date, name: str):
    opportunity = deal(owner, [("prospecting", local(day, 8)), ("lost", local(day))],
                       amount=amount, name=name)  # fmt: skip
    opportunity.lost_competitor = competitor
    opportunity.save(update_fields=["lost_competitor"])
    return opportunity


def visit(owner, info: str, day: date) -> VisitRecord:
    customer = Customer.objects.create(owner=owner, name=f"Visited by {owner.username} {day}")
    return VisitRecord.objects.create(
        owner=owner, customer=customer, purpose="other", started_at=local(day),
        competitor_info=info,
    )  # fmt: skip


@pytest.fixture
def registry(org):
    return {
        "dmg": competitor_create(by=org.admin, name="德马吉森精机", aliases=["DMG MORI", "德马吉"]),
        "makino": competitor_create(by=org.admin, name="牧野", aliases=["Makino"]),
        "okuma": competitor_create(by=org.admin, name="大隈", is_active=False),
    }


@pytest.fixture
def deals(org):
    n, o = date(2026, 11, 1), date(2026, 10, 1)
    return {
        "L1": lost(org.rep1a, " dmg mori ", "100.00", n.replace(day=5), "L1"),
        "L2": lost(org.rep1b, "德马吉森精机", "300.00", o.replace(day=20), "L2"),
        "L3": lost(org.rep2a, "MAKINO", "200.00", n.replace(day=10), "L3"),
        "L4": lost(org.rep3a, "Rival Co", "50.00", n.replace(day=11), "L4"),
        "L5": lost(org.rep1a, "rival co ", "150.00", n.replace(day=12), "L5"),
        "L6": lost(org.rep3a, "大隈", "70.00", n.replace(day=13), "L6"),
        "L7": lost(org.rep1a, "牧野", "999.00", date(2026, 9, 30), "L7"),
    }


@pytest.fixture
def visits(org):
    n = date(2026, 11, 1)
    return {
        "V1": visit(org.rep1a, "DMG MORI 报价低 5%", n.replace(day=3)),
        "V2": visit(org.rep1b, "德马吉和makino都在跟进", n.replace(day=4)),
        "V3": visit(org.rep2a, "德马吉森精机（德马吉）提供试用", date(2026, 10, 15)),
        "V4": visit(org.rep3a, "牧野交期两周", n.replace(day=6)),
        "V5": visit(org.rep1a, "大隈降价", n.replace(day=7)),
        "V6": visit(org.rep1a, "", n.replace(day=8)),
        "V7": visit(org.rep1a, "Makino", date(2026, 9, 30)),
    }


def analysis(user, team=None):
    return competitor_analysis(user=user, start=START, end=END, team=team)


def row(result, name):
    return next(r for r in result.rows if r.name.lower() == name.lower())


# --- lost deals ------------------------------------------------------------------------------


def test_lost_deals_match_names_and_aliases_whatever_the_case(org, registry, deals):
    result = analysis(org.admin)
    dmg, makino = row(result, "德马吉森精机"), row(result, "牧野")
    assert (dmg.kind, dmg.lost, dmg.amount) == ("competitor", 2, Decimal("400.00"))  # L1, L2
    assert (makino.lost, makino.amount) == (1, Decimal("200.00"))  # L3; L7 is September's


def test_unmatched_names_are_grouped_as_written_trimmed_and_case_folded(org, registry, deals):
    result = analysis(org.admin)
    rival = row(result, "rival co")
    assert (rival.kind, rival.key, rival.lost, rival.amount) == (
        "unmatched",
        "rival co",
        2,
        Decimal("200.00"),
    )
    # an inactive competitor is not looked for: its name is grouped as written
    assert row(result, "大隈").kind == "unmatched"
    assert {r.name.lower() for r in result.unmatched} == {"rival co", "大隈"}


def test_shares_of_all_the_deals_lost(org, registry, deals):
    result = analysis(org.admin)
    assert (result.lost, result.amount) == (6, Decimal("870.00"))
    dmg = row(result, "德马吉森精机")
    assert (dmg.lost_share, dmg.amount_share) == (33.3, 46.0)  # 2 / 6, 400 / 870


def test_lost_deals_month_on_month(org, registry, deals):
    result = analysis(org.admin)
    assert result.months == [date(2026, 10, 1), date(2026, 11, 1)]
    dmg = row(result, "德马吉森精机")
    assert [(dmg.month(m).lost, dmg.month(m).amount) for m in result.months] == [
        (1, Decimal("300.00")), (1, Decimal("100.00"))
    ]  # fmt: skip
    assert [c.lost for c in result.month_totals()] == [1, 5]


def test_registry_competitors_without_a_loss_are_listed_with_zero(org, registry):
    result = analysis(org.admin)
    assert [(r.name, r.lost, r.mentions) for r in result.rows] == [
        ("德马吉森精机", 0, 0), ("牧野", 0, 0)
    ]  # fmt: skip


# --- mentions --------------------------------------------------------------------------------


def test_mentions_count_visit_records_naming_a_competitor_once_each(org, registry, visits):
    result = analysis(org.admin)
    dmg, makino = row(result, "德马吉森精机"), row(result, "牧野")
    # V1 (alias), V2 (alias), V3 (name and alias: once); V2 names both competitors
    assert dmg.mentions == 3
    assert makino.mentions == 2  # V2 ("makino"), V4; V7 is September's
    assert [dmg.month(m).mentions for m in result.months] == [1, 2]
    # V1–V4: the records naming any competitor (V5 names an inactive one)
    assert result.mentioning_records == 4


def test_mention_drill_down_lists_the_records(org, registry, visits):
    found = competitors.mentions(user=org.admin, start=START, end=END, competitor=registry["dmg"])
    assert [r.pk for r in found] == [visits[k].pk for k in ("V2", "V1", "V3")]


def test_lost_deal_drill_down_for_a_competitor_and_for_a_name(org, registry, deals):
    found = competitors.lost_deals(user=org.admin, start=START, end=END,
                                   competitor=registry["dmg"])  # fmt: skip
    assert [s.opportunity_id for s in found] == [deals["L1"].pk, deals["L2"].pk]
    found = competitors.lost_deals(user=org.admin, start=START, end=END, name=" RIVAL co")
    assert {s.opportunity_id for s in found} == {deals["L4"].pk, deals["L5"].pk}


# --- scope and teams -------------------------------------------------------------------------


def test_supervisor_sees_their_teams_deals_and_visits(org, registry, deals, visits):
    result = analysis(org.sup1)  # team1: rep1a, rep1b
    assert (result.lost, row(result, "德马吉森精机").lost) == (3, 2)  # L1, L2, L5
    assert row(result, "德马吉森精机").mentions == 2  # V1, V2
    assert row(result, "牧野").mentions == 1  # V2
    found = competitors.lost_deals(user=org.sup1, start=START, end=END,
                                   competitor=registry["makino"])  # fmt: skip
    assert list(found) == []  # L3 is team2's


def test_team_filter_counts_the_team_of_the_day(org, registry):
    # rep1a lost a deal in team1 on 5 November, moved to team2 on 8 November, lost another
    lost(org.rep1a, "DMG MORI", "100.00", date(2026, 11, 5), "before")
    lost(org.rep1a, "DMG MORI", "40.00", date(2026, 11, 9), "after")
    move(org.rep1a, org.team1, org.team2, date(2026, 11, 8))
    team1 = analysis(org.manager1, team=org.team1)
    team2 = analysis(org.manager1, team=org.team2)
    assert (row(team1, "德马吉森精机").lost, row(team1, "德马吉森精机").amount) == (
        1, Decimal("100.00")
    )  # fmt: skip
    assert (row(team2, "德马吉森精机").lost, row(team2, "德马吉森精机").amount) == (
        1, Decimal("40.00")
    )  # fmt: skip
    found = competitors.lost_deals(
        user=org.manager1,
        start=START,
        end=END,
        team=org.team2,
        competitor=Competitor.objects.get(name="德马吉森精机"),
    )
    assert [s.opportunity.name for s in found] == ["after"]


# --- pages and API ---------------------------------------------------------------------------

URL = "/incentives/competitors/"
API = "/api/v1/reports/competitors/"
PERIOD = {"start": "2026-10-01", "end": "2026-11-30"}


def page(client, user, url=URL, params=None):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(user)
    return client.get(url, params or {})


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_page_shows_the_figures_and_links_to_the_documents(client, org, registry, deals, visits):
    response = page(client, org.admin, params=PERIOD)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-figure="lost">6<' in body
    dmg = registry["dmg"].pk
    assert (
        f"/incentives/competitors/lost-deals/?start=2026-10-01&amp;end=2026-11-30&amp;competitor={dmg}"
        in body
    )
    assert "name=rival+co" in body
    assert "<polyline" in body  # the month-on-month chart


def test_lost_deals_page_lists_the_deals(client, org, registry, deals):
    response = page(client, org.admin, "/incentives/competitors/lost-deals/",
                    {**PERIOD, "competitor": registry["dmg"].pk})  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-opportunity="{deals["L1"].pk}"' in body
    assert f'data-opportunity="{deals["L3"].pk}"' not in body


def test_mentions_page_needs_a_competitor(client, org, registry):
    response = page(client, org.admin, "/incentives/competitors/mentions/", PERIOD)
    assert response.status_code == 400
    assert 'data-field="competitor"' in response.content.decode()


@pytest.mark.parametrize("who", ["rep1a", "finance"])
def test_rep_and_finance_get_404_everywhere(client, org, registry, who):
    user = getattr(org, who)
    for url in (URL, "/incentives/competitors/registry/",
                f"/incentives/competitors/lost-deals/?competitor={registry['dmg'].pk}",
                f"/incentives/competitors/registry/{registry['dmg'].pk}/edit/"):  # fmt: skip
        assert page(client, user, url).status_code == 404, url
    assert api(user).get(API).status_code == 404
    assert api(user).get(f"/api/v1/competitors/{registry['dmg'].pk}/").status_code == 404


def test_a_team_outside_the_scope_is_404(client, org, registry):
    assert page(client, org.sup1, params={"team": org.team2.pk}).status_code == 404
    assert api(org.manager2).get(API, {"team": org.team1.pk}).status_code == 404


def test_api_gives_the_same_figures(org, registry, deals, visits):
    # manager1 heads dept1 (rep1a, rep1b, rep2a): L1, L2; V1, V2, V3
    body = api(org.manager1).get(API, PERIOD).json()
    dmg = next(r for r in body["results"] if r["name"] == "德马吉森精机")
    assert (dmg["lost"], dmg["amount"], dmg["mentions"]) == (2, "400.00", 3)
    assert dmg["months"][1] == {"month": "2026-11-01", "lost": 1, "amount": "100.00",
                                "mentions": 2}  # fmt: skip
    pages = api(org.admin).get(f"{API}lost-deals/", {**PERIOD, "name": "rival co"}).json()
    assert {d["opportunity"] for d in pages["results"]} == {deals["L4"].pk, deals["L5"].pk}
    mentions = api(org.admin).get(
        f"{API}mentions/", {**PERIOD, "competitor": registry["makino"].pk}
    )
    assert [m["visit_record"] for m in mentions.json()["results"]] == [
        visits["V4"].pk, visits["V2"].pk
    ]  # fmt: skip


def test_api_pages_the_rows_in_the_order_of_the_analysis(org, registry, deals, visits):
    # given the analysis's rows: 2 competitors of the registry and 2 names written on lost
    # deals (rival co, 大隈), and two more names lost to once each, tied on every figure but
    # the name
    lost(org.rep1a, "Zeta Tools", "50.00", date(2026, 11, 14), "L8")
    lost(org.rep1b, "Alpha Tools", "50.00", date(2026, 11, 15), "L9")
    expected = [r.name for r in analysis(org.admin).rows]
    assert len(expected) == 6
    client = api(org.admin)
    # when it is walked two rows at a time, by the `next` links
    first = client.get(API, {**PERIOD, "page_size": 2}).json()
    pages, url = [first], first["next"]
    while url:
        pages.append(client.get(url).json())
        url = pages[-1]["next"]
    # then every row comes once, in the analysis's order, with the period's totals each time
    assert [[r["name"] for r in p["results"]] for p in pages] == [
        expected[0:2], expected[2:4], expected[4:6]
    ]  # fmt: skip
    assert {(p["lost"], p["amount"], p["mentioning_records"]) for p in pages} == {(8, "970.00", 4)}
    assert first["previous"] is None and pages[-1]["next"] is None
    assert all(p["resume"] is None for p in pages)
    # and the `previous` links walk back the same pages
    back = client.get(pages[-1]["previous"]).json()
    assert [r["name"] for r in back["results"]] == expected[2:4]
    assert [r["name"] for r in client.get(back["previous"]).json()["results"]] == expected[0:2]
    # and the default page holds them all (50 a page)
    assert [r["name"] for r in client.get(API, PERIOD).json()["results"]] == expected


def test_schema_describes_the_paged_report_and_drill_downs(org, registry, deals):
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schema.json()

    def component(ref: str) -> dict:
        return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    def ok(path: str) -> dict:
        operation = schema["paths"][path]["get"]
        assert {"cursor", "page_size"} <= {p["name"] for p in operation["parameters"]}, path
        return component(operation["responses"]["200"]["content"]["application/json"]["schema"]
                         ["$ref"])  # fmt: skip

    # the report: its totals and the standard links and results, as answered
    page = ok(API)
    body = api(org.admin).get(API, {**PERIOD, "page_size": 1}).json()
    assert set(page["required"]) == set(body) == {
        "start", "end", "team", "lost", "amount", "mentioning_records", "next", "previous",
        "resume", "results",
    }  # fmt: skip
    assert page["properties"]["next"]["nullable"] and body["next"]
    row = component(page["properties"]["results"]["items"]["$ref"])
    assert set(row["properties"]) == set(body["results"][0])
    # the drill-downs: the standard cursor pages
    for path in (f"{API}lost-deals/", f"{API}mentions/"):
        assert set(ok(path)["required"]) == {"next", "previous", "resume", "results"}, path


@pytest.mark.parametrize(
    "cursor", ["not-a-cursor", "eyJwIjpbMSwyXX0", "eyJwIjpbW10sW10sW10sW10sW10sW10sW11dfQ"]
)
def test_api_with_a_cursor_not_made_here_is_a_400(org, registry, deals, cursor):
    response = api(org.admin).get(API, {**PERIOD, "cursor": cursor})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"end": "2026-02-30"}, "end"), ({"start": "2026-12-01", "end": "2026-11-01"}, "end"),
     ({"team": "x"}, "team")],
)  # fmt: skip
def test_bad_parameters_are_a_400_naming_the_field(org, params, field):
    response = api(org.admin).get(API, params)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_lost_deals_api_needs_a_competitor_or_a_name(org):
    response = api(org.admin).get(f"{API}lost-deals/")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "competitor"


def test_excel_file(client, org, registry, deals, visits):
    from io import BytesIO

    from openpyxl import load_workbook

    response = page(client, org.admin, params={**PERIOD, "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).worksheets[0]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["德马吉森精机"][2:5] == (2, 33.3, 400.0)
    assert rows["Total"][2] == 6


def test_page_queries_do_not_grow_with_deals(client, org, registry, deals, visits,
                                             django_assert_max_num_queries):  # fmt: skip
    for i in range(5):
        lost(org.rep1b, f"Other {i}", "10.00", date(2026, 11, 20), f"more{i}")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(org.manager1)
    with django_assert_max_num_queries(12):
        assert client.get(URL, PERIOD).status_code == 200
    with django_assert_max_num_queries(12):
        assert (
            client.get(
                "/incentives/competitors/lost-deals/", {**PERIOD, "competitor": registry["dmg"].pk}
            ).status_code
            == 200
        )


# --- the registry ----------------------------------------------------------------------------


def test_a_name_or_alias_of_another_competitor_is_refused(org, registry):
    with pytest.raises(ValidationError) as caught:
        competitor_create(by=org.manager1, name="DMG Mori", aliases=["MAKINO"])
    assert set(caught.value.error_dict) == {"name", "aliases"}
    # its own name and aliases may be kept when it is edited
    competitor_update(competitor=registry["dmg"], by=org.admin, name="德马吉森精机",
                      aliases=["dmg mori", "DMG"])  # fmt: skip
    assert Competitor.objects.get(pk=registry["dmg"].pk).aliases == ["dmg mori", "DMG"]


def test_empty_name_is_refused_and_aliases_are_cleaned(org):
    with pytest.raises(ValidationError) as caught:
        competitor_create(by=org.admin, name="  ")
    assert "name" in caught.value.error_dict
    made = competitor_create(by=org.admin, name="通快", aliases=[" TRUMPF ", "trumpf", "", "通快"])
    assert made.aliases == ["TRUMPF"]


@pytest.mark.parametrize("who", ["sup1", "rep1a", "finance"])
def test_only_admins_and_managers_keep_the_registry(org, who):
    with pytest.raises(PermissionDenied):
        competitor_create(by=getattr(org, who), name="X")


def test_registry_pages(client, org, registry):
    response = page(client, org.manager1, "/incentives/competitors/registry/", {"q": "makino"})
    assert response.status_code == 200
    assert f'data-competitor="{registry["makino"].pk}"' in response.content.decode()
    client.force_login(org.manager1)
    response = client.post(
        "/incentives/competitors/registry/new/",
        {"name": "通快", "aliases": "TRUMPF, 通快激光", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Competitor.objects.get(name="通快").aliases == ["TRUMPF", "通快激光"]
    response = client.post("/incentives/competitors/registry/new/", {"name": "trumpf"})
    assert response.status_code == 400
    assert "already a name or alias of 通快" in response.content.decode()
    client.force_login(org.sup1)
    assert client.get("/incentives/competitors/registry/new/").status_code == 403
    assert client.get("/incentives/competitors/registry/").status_code == 200


def test_registry_api(org, registry):
    made = api(org.admin).post("/api/v1/competitors/", {"name": "大族激光", "aliases": ["大族"]},
                               format="json")  # fmt: skip
    assert made.status_code == 201 and made.json()["aliases"] == ["大族"]
    clash = api(org.manager1).post("/api/v1/competitors/", {"name": "大族"}, format="json")
    assert clash.status_code == 400 and clash.json()["errors"][0]["field"] == "name"
    assert (
        api(org.sup1).post("/api/v1/competitors/", {"name": "Y"}, format="json").status_code == 403
    )
    changed = api(org.manager1).patch(f"/api/v1/competitors/{made.json()['id']}/",
                                      {"is_active": False}, format="json")  # fmt: skip
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert changed.json()["aliases"] == ["大族"]


@pytest.mark.django_db(transaction=True)
def test_two_people_adding_the_same_alias_at_once_only_one_succeeds(org):
    results: list[str] = []
    barrier = threading.Barrier(2)

    def add(name: str) -> None:
        try:
            barrier.wait()
            competitor_create(by=org.admin, name=name, aliases=["Shared Alias"])
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=add, args=(n,)) for n in ("甲公司", "乙公司")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    assert Competitor.objects.filter(aliases__contains=["Shared Alias"]).count() == 1


def test_demo_competitors_are_added_once(org):
    from apps.incentives import demo_diagnostics

    assert demo_diagnostics.load() == len(demo_diagnostics.COMPETITORS)
    assert demo_diagnostics.load() == 0
    # the demo's lost deals name them
    from apps.opportunities.demo import COMPETITORS as DEMO_LOST

    names = {c.name for c in Competitor.objects.all()}
    assert set(DEMO_LOST) <= names
