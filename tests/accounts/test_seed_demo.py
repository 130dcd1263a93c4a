"""`manage.py seed_demo`: the demo org and logins, idempotent."""

from __future__ import annotations

from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command

from apps.accounts.models import OrgUnit, User


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_builds_the_demo_org(db):
    # when
    output = _seed()
    # then: 2 departments, 4 teams, and every login of the issue
    assert OrgUnit.objects.filter(kind="department").count() == 2
    assert OrgUnit.objects.filter(kind="team").count() == 4
    expected = {"admin", "erp", "finance1", "finance2", "manager1", "manager2"}
    expected |= {f"supervisor{i}" for i in range(1, 5)} | {f"rep{i}" for i in range(1, 13)}
    assert set(User.objects.values_list("username", flat=True)) == expected
    assert "demo12345" in output and "rep1" in output
    # rep1–rep3 in team 1 headed by supervisor1; teams 1–2 under manager1's department
    team1 = OrgUnit.objects.get(code="team1")
    assert set(team1.members.filter(role="rep").values_list("username", flat=True)) == {
        "rep1", "rep2", "rep3",
    }  # fmt: skip
    assert team1.head.username == "supervisor1"
    assert team1.parent.head.username == "manager1"
    assert OrgUnit.objects.get(code="team2").parent == team1.parent
    assert authenticate(username="rep7", password="demo12345") is not None


def test_seed_demo_twice_changes_nothing(db):
    # given a first run
    _seed()
    counts = (User.objects.count(), OrgUnit.objects.count())
    from apps.accounts.models import OrgUnit as Unit

    events = Unit.pgh_event_model.objects.count() + User.pgh_event_model.objects.count()
    from apps.customers.models import Customer
    from apps.leads.models import Lead, LeadTouch

    demo = (Customer.objects.count(), Lead.objects.count(), LeadTouch.objects.count())
    assert demo[0] > 40 and demo[1] > 40  # the apps' demo data came with it
    # when it runs again
    _seed()
    # then no row and no history entry is added, and no lead is captured twice
    assert (User.objects.count(), OrgUnit.objects.count()) == counts
    assert (Customer.objects.count(), Lead.objects.count(), LeadTouch.objects.count()) == demo
    assert Unit.pgh_event_model.objects.count() + User.pgh_event_model.objects.count() == events


def test_seed_demo_password_option(db):
    _seed()
    _seed("--password", "another-secret-9")
    assert authenticate(username="manager2", password="another-secret-9") is not None
    assert authenticate(username="manager2", password="demo12345") is None
