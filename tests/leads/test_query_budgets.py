"""Query budgets of the lead lists (issue 10): the lead list, the SLA page's list of breaches
and the API cost the same number of queries with 2 leads as with 10, held by other owners in
other teams."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from django.utils import timezone

from apps.leads.models import Lead
from apps.leads.services import lead_capture
from tests.budgets import ListCase, Marker

_numbers = count(1)
REGIONS = ("上海", "北京")  # team 1 (rep1a, rep1b) and team 2 (rep2a): manager1's department


def _leads(n: int) -> list:
    """n leads captured in turn in manager1's two teams (the owners rotate)."""
    return [
        lead_capture(
            data={"company_name": f"预算线索{next(_numbers)}号公司", "region": REGIONS[i % 2]},
            source="api",
            channel="test",
            by=None,
        ).lead
        for i in range(n)
    ]


def add_page_leads(org, n: int) -> list[Marker]:
    return [lead.get_absolute_url() for lead in _leads(n)]


def add_api_leads(org, n: int) -> list[Marker]:
    return [lead.pk for lead in _leads(n)]


def add_breached_leads(org, n: int) -> list[Marker]:
    """n leads whose first response fell due just now and was missed (the SLA page's list
    of breaches, this month's), of manager1's reps in turn."""
    leads = _leads(n)
    now = timezone.now()
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        first_response_due_at=now - timedelta(seconds=1), sla_breached_at=now
    )
    return [lead.get_absolute_url() for lead in leads]


LISTS = {
    "leads:list": ListCase("/leads/", "manager1", add_page_leads, budget=6),
    "leads:sla": ListCase("/leads/sla/", "manager1", add_breached_leads, budget=9),
    "api:lead-list": ListCase("/api/v1/leads/", "manager1", add_api_leads, budget=6),
}


@pytest.mark.parametrize("name", LISTS)
def test_lead_list_queries_do_not_grow_with_rows(org, territories, name):
    # given 2 rows of the list; when 8 more are added; then the same queries, within budget
    LISTS[name].check(org, shown=LISTS[name].add(org, 2))
