"""The stuck-deal job (停滞商机): owner once, then the supervisor once; idempotent; run by a
real Celery worker on Redis."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.notifications.models import Notification
from apps.opportunities.choices import Stage
from apps.opportunities.models import Opportunity, StageSetting
from apps.opportunities.services import opportunity_flag_stuck, opportunity_qualify
from apps.opportunities.tasks import flag_stuck
from tests.core.test_celery_worker import queue, worker  # noqa: F401  (fixtures)

DEFAULT_STAGE_SETTINGS = importlib.import_module(
    "apps.opportunities.migrations.0002_default_stage_settings"
).DEFAULTS

# prospecting expects 14 days: stuck after 14 × 1.5 = 21 days.


@pytest.mark.django_db
def test_deal_over_expected_days_alerts_its_owner_once(org, deal):
    # given two stuck deals of rep1a, one fresh deal and one stuck deal of rep2a
    stuck1 = deal(org.rep1a, days_ago=22)
    deal(org.rep1a, Stage.QUALIFICATION, days_ago=30)
    deal(org.rep1a, days_ago=20)
    deal(org.rep2a, days_ago=25)
    # when the job runs
    result = opportunity_flag_stuck()
    # then each owner gets one notification with the count, and the deals are flagged
    assert (result.notified, result.escalated) == (3, 0)
    assert Notification.objects.filter(recipient=org.rep1a).count() == 1
    assert Notification.objects.filter(recipient=org.rep2a).count() == 1
    assert "2" in Notification.objects.get(recipient=org.rep1a).title
    assert Opportunity.objects.get(pk=stuck1.pk).stuck_notified_at is not None
    # and a second run alerts nobody again
    assert opportunity_flag_stuck().notified == 0
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_still_stuck_after_the_escalation_days_alerts_the_supervisor_once(org, deal):
    # given a stuck deal whose owner was alerted 4 days ago (escalation after 3)
    opp = deal(org.rep1a, days_ago=30)
    opportunity_flag_stuck(now=timezone.now() - timedelta(days=4))
    # when the job runs today, twice
    first, second = opportunity_flag_stuck(), opportunity_flag_stuck()
    # then the supervisor of team 1 is told once
    assert (first.escalated, second.escalated) == (1, 0)
    assert Notification.objects.filter(recipient=org.sup1).count() == 1
    assert Notification.objects.filter(recipient=org.rep1a).count() == 1
    assert Opportunity.objects.get(pk=opp.pk).stuck_escalated_at is not None


@pytest.mark.django_db
def test_moved_deal_is_alerted_again_only_after_a_new_stuck_stay(org, deal):
    opp = deal(org.rep1a, days_ago=30)
    opportunity_flag_stuck()
    opportunity_qualify(opportunity=opp, by=org.rep1a)
    assert opportunity_flag_stuck().notified == 0


@pytest.mark.django_db
def test_closed_deals_are_never_stuck(org, deal):
    deal(org.rep1a, Stage.WON, days_ago=100)
    deal(org.rep1a, Stage.LOST, days_ago=100)
    assert opportunity_flag_stuck().notified == 0


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_stuck_job_in_a_real_worker_alerts_once_then_the_supervisor(org, deal, worker, queue):  # noqa: F811
    # given the default stage settings (a transaction test may start from a flushed table),
    # a stuck deal already alerted 5 days ago, and a newly stuck one
    for stage, probability, days in DEFAULT_STAGE_SETTINGS:
        StageSetting.objects.get_or_create(
            stage=stage, defaults={"probability": probability, "expected_days": days}
        )
    old = deal(org.rep1a, days_ago=40)
    Opportunity.objects.filter(pk=old.pk).update(
        stuck_notified_at=timezone.now() - timedelta(days=5)
    )
    deal(org.rep1b, days_ago=25)
    # when beat's job reaches the worker twice through Redis
    results = [flag_stuck.apply_async(queue=queue).get(timeout=30) for _ in range(2)]
    # then the first run alerts rep1b and escalates rep1a's deal to sup1; the second nothing
    assert results == [{"notified": 1, "escalated": 1}, {"notified": 0, "escalated": 0}]
    assert Notification.objects.filter(recipient=org.rep1b).count() == 1
    assert Notification.objects.filter(recipient=org.sup1).count() == 1
    assert not Notification.objects.filter(recipient=org.rep1a).exists()


@pytest.mark.django_db
def test_alerts_of_many_owners_cost_the_queries_of_one(org, deal, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given one stuck deal: the flag, the escalation, the owners, the alert, the e-mail
    # preferences
    deal(org.rep1a, days_ago=22)
    with CaptureQueriesContext(connection) as one:
        assert opportunity_flag_stuck().notified == 1
    # when stuck deals of three more owners are flagged in one run
    for rep in (org.rep1b, org.rep2a, org.rep3a):
        deal(rep, days_ago=22)
    with django_assert_num_queries(len(one)):
        assert opportunity_flag_stuck().notified == 3
    # then each owner was told once
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "rep1a", "rep1b", "rep2a", "rep3a",
    ]  # fmt: skip


@pytest.mark.django_db
def test_escalations_of_many_owners_cost_the_queries_of_one(org, deal, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # given a deal of rep1a alerted 4 days ago (escalation after 3)
    earlier = timezone.now() - timedelta(days=4)
    deal(org.rep1a, days_ago=30)
    opportunity_flag_stuck(now=earlier)
    with CaptureQueriesContext(connection) as one:
        assert opportunity_flag_stuck().escalated == 1
    # when deals of owners in three teams are escalated in one run
    for rep in (org.rep1b, org.rep2a, org.rep3a):
        deal(rep, days_ago=30)
    opportunity_flag_stuck(now=earlier)
    with django_assert_num_queries(len(one)):
        assert opportunity_flag_stuck().escalated == 3
    # then each team's supervisor was told about their team's deals
    told = Notification.objects.filter(recipient__username__startswith="sup")
    assert sorted(told.values_list("recipient__username", flat=True)) == [
        "sup1", "sup1", "sup2", "sup3",
    ]  # fmt: skip
