"""Scoring rules → score 0–100 → grade (issue 4 "Scoring")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.leads import services
from apps.leads.models import Lead, ScoringRule
from apps.leads.scoring import grade_for


def rule(field, points, *, operator="equals", value="", values=(), lo=None, hi=None):
    return ScoringRule.objects.create(
        name=f"{field} {points}", field=field, operator=operator, value=value,
        values=list(values), min_value=lo, max_value=hi, points=points,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (80, "A"), (79, "B"), (60, "B"), (59, "C"), (40, "C"), (39, "D"), (0, "D")],
)
def test_grade_thresholds(score, grade):
    assert grade_for(score) == grade


def test_grade_thresholds_come_from_settings(settings):
    settings.LEAD_GRADE_THRESHOLDS = {"A": 90, "B": 70, "C": 50}
    assert grade_for(85) == "B"


def test_equals_in_and_range_rules_add_up(no_rules, capture):
    # given
    rule("intent", 30, value="HIGH")
    rule("industry", 20, operator="in", values=["制造业", "Manufacturing"])
    rule("budget", 25, operator="range", lo=Decimal("100000"), hi=Decimal("500000"))
    rule("budget", 99, operator="range", lo=Decimal("500000"))
    # when
    lead = capture(intent="high", industry="manufacturing", budget="100000").lead
    # then
    assert (lead.score, lead.grade) == (75, "B")


def test_score_is_clamped_to_0_and_100(no_rules, capture):
    rule("intent", 150, value="high")
    rule("intent", -50, value="low")
    assert capture(intent="high").lead.score == 100
    assert capture(intent="low").lead.score == 0


def test_inactive_rule_is_ignored(no_rules, capture):
    rule("intent", 50, value="high").__class__.objects.update(is_active=False)
    assert capture(intent="high").lead.score == 0


def test_update_rescores_the_lead(no_rules, capture, territories, org):
    # given
    rule("intent", 85, value="high")
    lead = capture(region="上海", intent="low").lead
    # when
    lead = services.lead_update(lead=lead, by=lead.owner, data={"intent": "high"})
    # then
    saved = Lead.objects.get(pk=lead.pk)
    assert (saved.score, saved.grade, saved.region) == (85, "A", "上海")


def test_rescore_all_applies_changed_rules_in_batches(no_rules, capture):
    # given five leads scored under no rules
    ids = [capture(intent="high").lead.pk for _ in range(5)]
    rule("intent", 65, value="high")
    # when
    changed = services.lead_rescore_all(batch_size=2)
    # then
    assert changed == 5
    assert set(Lead.objects.filter(pk__in=ids).values_list("grade", flat=True)) == {"B"}
    assert services.lead_rescore_all(batch_size=2) == 0  # idempotent


def test_rule_change_in_admin_schedules_a_rescore_after_commit(
    no_rules, org, client, django_capture_on_commit_callbacks, monkeypatch
):
    # given an admin (the broker is not what this test is about: record the call)
    from apps.leads import tasks

    calls = []
    monkeypatch.setattr(tasks.rescore_all, "delay", lambda: calls.append(1))
    org.admin.is_staff = org.admin.is_superuser = True
    org.admin.save()
    client.force_login(org.admin)
    # when a rule is added in the admin
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/leads/scoringrule/add/",
            {"name": "Hot", "field": "intent", "operator": "equals", "value": "high",
             "values": "[]", "points": "40", "is_active": "on"},
        )  # fmt: skip
    # then
    assert response.status_code == 302, response.content[:2000]
    assert calls == [1]
