"""The demo surveys (seed_demo) and the scale loader (seed_scale) write surveys the services
could have written: one per service visit or completed contract, to a contact's e-mail, the
low demo answer with its follow-up visit; loaded once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from apps.core.scale import ScaleContext
from apps.customers.models import Contact, Customer
from apps.incentives import demo_contests, demo_surveys, scale_surveys
from apps.incentives.models import SatisfactionSurvey
from apps.notifications.models import Notification
from apps.visits.models import VisitPlan, VisitRecord
from tests.goals.test_actuals import contract

pytestmark = pytest.mark.django_db


def _service_visits(org, count: int) -> list[VisitRecord]:
    customer = Customer.objects.create(name="演示服务客户", owner=org.rep1a)
    Contact.objects.create(customer=customer, name="赵总", is_primary=True)
    now = timezone.now()
    return [
        VisitRecord.objects.create(
            owner=org.rep1a,
            customer=customer,
            purpose="service",
            started_at=now - timedelta(days=3 * n + 1),
        )
        for n in range(count)
    ]


def test_demo_surveys_load_once_with_a_low_answer_followed_up(org):
    # given service visits of the demo data (their contact has no e-mail)
    visits = _service_visits(org, 5)
    # when the demo loads twice
    assert demo_surveys.load() == 5
    assert demo_surveys.load() == 0
    # then each visit has one survey, to the contact's (now given) e-mail
    surveys = SatisfactionSurvey.objects.all()
    assert sorted(s.visit_record_id for s in surveys) == sorted(v.pk for v in visits)
    assert Contact.objects.get(name="赵总").email in {s.email for s in surveys}
    # and the latest visit's survey was answered low, with its follow-up visit and alert
    low = SatisfactionSurvey.objects.get(visit_record=visits[0])
    assert (low.status, low.score) == ("answered", 2)
    assert low.follow_up_plan == VisitPlan.objects.get(purpose="problem")
    assert Notification.objects.filter(kind="satisfaction_alert", recipient=org.sup1).exists()
    # the others are answered 3–5 or not at all
    for survey in surveys.exclude(pk=low.pk):
        assert survey.status == "sent" or survey.score >= 3


def test_the_scale_loader_writes_consistent_answered_surveys(org):
    # given a completed contract and two service visits of customers with an e-mail, and a
    # service visit of a customer without any
    now = timezone.now()
    reached = Customer.objects.create(name="有邮箱客户", owner=org.rep1a, email="a@kehu.example")
    silent = Customer.objects.create(name="无邮箱客户", owner=org.rep1b)
    deal = contract(org.rep1a, reached, None, "1000.00", "completed")
    type(deal).objects.filter(pk=deal.pk).update(completed_at=now - timedelta(days=40))
    for customer, days in ((reached, 30), (reached, 20), (silent, 10)):
        VisitRecord.objects.create(
            owner=customer.owner, customer=customer, purpose="service",
            started_at=now - timedelta(days=days),
        )  # fmt: skip
    ctx = ScaleContext(seed=4, sizes={"surveys": 3}, now=now)
    # when the loader runs
    scale_surveys.load(ctx)
    # then the three reachable events have a survey each, none for the silent customer
    rows = list(SatisfactionSurvey.objects.order_by("sent_at"))
    assert len(rows) == 3
    assert {r.customer_id for r in rows} == {reached.pk}
    assert [r.trigger for r in rows].count("contract_completed") == 1
    for row in rows:
        assert row.email == "a@kehu.example" and row.owner_id == org.rep1a.pk
        assert row.expires_at - row.sent_at == timedelta(days=14)
        if row.status == "answered":
            assert 1 <= row.score <= 5 and row.sent_at < row.answered_at < now
        else:
            assert row.score is None and row.answered_at is None
    assert len({r.token_hash for r in rows}) == 3


def _demo_company() -> None:
    """What seed_demo loads before the incentives demo: the org, the logins and every other
    app's demo data (visits, contracts, receivables …), through their own loaders."""
    import importlib

    from django.apps import apps as django_apps

    from apps.accounts.management.commands.seed_demo import Command

    command = Command(stdout=StringIO())
    command._users(command._units(), "demo12345", reset=False)
    for config in django_apps.get_app_configs():
        if not config.name.startswith("apps.") or config.label == "incentives":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError:
            continue
        module.load(stdout=StringIO())


def test_the_demo_company_gets_contests_and_survey_answers_once(db):
    from apps.incentives.models import Contest

    # given the demo company (its service visits come from the visits demo)
    _demo_company()
    # when the contests and surveys demos load, twice
    demo_contests.load()
    demo_surveys.load()
    counts = (Contest.objects.count(), SatisfactionSurvey.objects.count(),
              VisitPlan.objects.count())  # fmt: skip
    assert demo_contests.load() == 0 and demo_surveys.load() == 0
    # then there are the two contests, one final with its ranking, and survey answers with a
    # low one followed up; the second run added nothing
    assert Contest.objects.count() == 2
    final = Contest.objects.get(finalized_at__isnull=False)
    assert final.standings.count() == 12  # every demo rep
    surveys = SatisfactionSurvey.objects.all()
    assert surveys.count() > 2 and surveys.filter(status="answered").count() >= 2
    low = surveys.get(score__lte=2)
    assert low.follow_up_plan is not None and low.follow_up_plan.purpose == "problem"
    assert (Contest.objects.count(), surveys.count(), VisitPlan.objects.count()) == counts
