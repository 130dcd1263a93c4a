"""The lead search on the company name through the n-gram index (`ngram_contains`): one and
two characters — the usual search in Chinese, which a trigram index cannot answer — as well as
longer ones, upper/lower case, and characters LIKE would treat as wildcards."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.leads.selectors import lead_list

NAMES = ["深圳华盛科技", "广州鑫泰贸易", "科华电子", "ACME Trading", "百分之100%材料", "技科五金"]


@pytest.fixture
def named(org, territories, capture) -> None:
    for name in NAMES:
        capture(company_name=name, region="上海")


def found(user, search: str) -> set[str]:
    return set(lead_list(user=user, search=search).values_list("company_name", flat=True))


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("科", {"深圳华盛科技", "科华电子", "技科五金"}),  # one character
        ("科技", {"深圳华盛科技"}),  # two, in this order only (not 技科)
        ("技科", {"技科五金"}),
        ("华盛科", {"深圳华盛科技"}),  # three and more
        ("深圳科技", set()),  # every pair present is not enough: one run of characters
        ("acme", {"ACME Trading"}),  # case does not matter
        ("Me tr", {"ACME Trading"}),
        ("0%", {"百分之100%材料"}),  # % is itself, not "anything"
        ("0_", set()),  # _ is itself, not "one character"
        ("不存在", set()),
    ],
)
def test_search_matches_the_name_as_one_run_of_characters(org, named, search, expected):
    assert found(org.admin, search) == expected


def test_search_stays_in_scope(org, named, capture):
    capture(company_name="北京华盛科技", region="北京")
    assert found(org.admin, "华盛") == {"深圳华盛科技", "北京华盛科技"}
    assert found(org.rep2a, "华盛") == {"北京华盛科技"}


def test_the_ngram_index_answers_a_two_character_search(org, named):
    """The n-gram condition the lookup writes is the expression of the GIN index: with the
    scans that need no index condition switched off, the plan still finds rows through it."""
    assert found(org.admin, "科技") == {"深圳华盛科技"}
    with connection.cursor() as cursor:
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute(
            "EXPLAIN SELECT id FROM leads_lead "
            "WHERE salesctl_ngrams(company_name) @> salesctl_search_ngrams(%s)",
            ["科技"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on lead_company_ngrams" in plan


def test_a_lead_waiting_in_a_team_is_seen_by_that_teams_heads_only(org, territories, capture):
    """`holder` is minus the team while no rep owns the lead: the team's supervisor and the
    manager above see it in the list; another team's supervisor and the reps do not."""
    org.rep1a.is_active = org.rep1b.is_active = False
    org.rep1a.save()
    org.rep1b.save()
    lead = capture(company_name="上海待分配科技", region="上海").lead
    assert lead.owner_id is None and lead.team_id == org.team1.pk
    assert found(org.sup1, "待分配") == {"上海待分配科技"}
    assert found(org.manager1, "待分配") == {"上海待分配科技"}
    assert found(org.sup2, "待分配") == set()
    assert found(org.rep2a, "待分配") == set()
