"""Simultaneous captures of the same prospect (real threads, separate connections): exactly
one lead is created, the others become touches on it (the advisory lock in `lead_capture`)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.leads.choices import LeadSource
from apps.leads.models import Lead, LeadTouch
from apps.leads.services import lead_capture


def run_at_once(*actions) -> list[object]:
    """Run the actions in threads that start together; return each one's result or error."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int, action) -> None:
        try:
            barrier.wait()
            results[i] = action()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def capture(**data):
    return lambda: lead_capture(data=data, source=LeadSource.API, channel="race")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_captures_with_the_same_phone_create_one_lead(territories):
    # when four channels capture the same phone at once, under different company names
    results = run_at_once(
        *(capture(company_name=f"公司{i}", phone="13800138000", region="上海") for i in range(4))
    )
    # then one lead was created and the other three are touches on it
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.created for r in results) == [False, False, False, True]
    lead = Lead.objects.get()
    assert LeadTouch.objects.filter(lead=lead).count() == 3


@pytest.mark.django_db(transaction=True)
def test_simultaneous_captures_of_the_same_company_name_create_one_lead(territories):
    # when the same company, written differently, is captured at once
    names = ["上海甲有限公司", "上海甲股份有限公司", "上海甲有限公司", "上海甲股份有限公司"]
    results = run_at_once(*(capture(company_name=name, region="上海") for name in names))
    # then one lead, three touches
    assert not [r for r in results if isinstance(r, Exception)], results
    assert [r.created for r in results].count(True) == 1
    assert Lead.objects.count() == 1
    assert LeadTouch.objects.count() == 3
