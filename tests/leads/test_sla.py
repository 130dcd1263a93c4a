"""First-response SLA: breach flagged once, owner and supervisor told once, compliance."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.leads import services
from apps.leads.models import Lead
from apps.leads.selectors import lead_sla_compliance
from apps.notifications.models import Notification


def test_breach_is_flagged_and_alerted_once(capture, territories, org):
    # given a lead assigned to rep1a whose response is overdue
    lead = capture(region="上海").lead
    Notification.objects.all().delete()
    later = lead.first_response_due_at + timedelta(minutes=1)
    # when the job runs twice
    first = services.lead_sla_flag_breaches(now=later)
    second = services.lead_sla_flag_breaches(now=later + timedelta(hours=1))
    # then it is flagged once, and the owner and the supervisor are told once
    assert (first, second) == (1, 0)
    assert Lead.objects.get(pk=lead.pk).sla_breached_at == later
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "rep1a", "sup1",
    ]  # fmt: skip


def test_lead_not_yet_due_is_not_flagged(capture, territories):
    lead = capture(region="上海").lead
    assert (
        services.lead_sla_flag_breaches(now=lead.first_response_due_at - timedelta(seconds=1)) == 0
    )


def test_contacted_lead_is_not_flagged(capture, territories):
    # given
    lead = capture(region="上海").lead
    services.lead_contact(lead=lead, by=lead.owner)
    # when
    flagged = services.lead_sla_flag_breaches(now=lead.first_response_due_at + timedelta(days=1))
    # then
    assert flagged == 0
    assert Lead.objects.get(pk=lead.pk).first_responded_at is not None


def test_sla_hours_follow_the_grade(no_rules, capture, territories, settings):
    from apps.leads.models import ScoringRule

    ScoringRule.objects.create(name="hot", field="intent", value="high", points=90)
    lead = capture(region="上海", intent="high").lead
    assert lead.grade == "A"
    assert lead.first_response_due_at - lead.created_at < timedelta(hours=1, seconds=5)


def test_compliance_counts_in_time_late_and_breached(capture, territories, org):
    # given three leads of rep1a/rep1b due now-ish
    leads = [capture(region="上海").lead for _ in range(3)]
    now = timezone.now()
    Lead.objects.filter(pk=leads[0].pk).update(first_responded_at=now)  # in time
    Lead.objects.filter(pk=leads[1].pk).update(
        first_responded_at=leads[1].first_response_due_at + timedelta(hours=1)
    )  # late
    services.lead_sla_flag_breaches(now=leads[2].first_response_due_at + timedelta(minutes=1))
    period = (now - timedelta(days=1), now + timedelta(days=10))
    # when
    figures = lead_sla_compliance(user=org.sup1, period=period)
    # then
    assert (figures.due, figures.responded_in_time, figures.responded_late) == (3, 1, 1)
    assert figures.breached == 1
    assert abs(figures.rate - 1 / 3) < 1e-9


def test_compliance_is_scoped(capture, territories, org):
    capture(region="上海")
    now = timezone.now()
    figures = lead_sla_compliance(user=org.rep2a, period=(now - timedelta(days=1),
                                                          now + timedelta(days=10)))  # fmt: skip
    assert figures.due == 0
    assert figures.rate is None
