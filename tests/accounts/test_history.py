"""History (变更记录) of tracked models: who changed which field from what to what."""

from __future__ import annotations

import pghistory
from django.utils import translation

from apps.accounts.models import OrgUnit, User
from apps.core.history import history_for


def test_update_records_actor_and_field_diff(org):
    # given a rep
    rep = User.objects.get(pk=org.rep1a.pk)
    # when the admin changes the rep's phone and role
    with pghistory.context(user=org.admin.pk, url="/admin/accounts/user/1/change/"):
        rep.phone = "13800138000"
        rep.role = "supervisor"
        rep.save()
    # then the newest entry names the admin and both changes, old → new (labels in English)
    with translation.override("en"):
        entry = history_for(rep)[0]
    assert entry.action == "update"
    assert entry.actor_id == org.admin.pk
    assert entry.actor_name == org.admin.display_name
    changes = {c.field: (c.old, c.new) for c in entry.changes}
    assert changes == {"phone": ("", "13800138000"), "role": ("rep", "supervisor")}
    role = next(c for c in entry.changes if c.field == "role")
    assert (role.old_display, role.new_display) == ("Sales rep", "Sales supervisor")


def test_secrets_and_bookkeeping_are_not_in_history(org):
    # given a user
    rep = User.objects.get(pk=org.rep1b.pk)
    before = len(history_for(rep))
    # when only the password and last login change
    rep.set_password("another-pass-123")
    rep.last_login = rep.date_joined
    rep.save()
    # then no history entry is written, and no entry ever carries the password
    entries = history_for(rep)
    assert len(entries) == before
    assert all(c.field not in {"password", "last_login"} for e in entries for c in e.changes)


def test_bulk_update_by_a_job_is_kept_with_its_context(org):
    # given reps in team1
    # when a job updates them in one statement
    with pghistory.context(job="nightly_cleanup"):
        User.objects.filter(org_unit=org.team1, role="rep").update(phone="000")
    # then each row has an entry with the job's context and no actor
    entry = history_for(User.objects.get(pk=org.rep1a.pk))[0]
    assert entry.context == {"job": "nightly_cleanup"}
    assert entry.actor_id is None
    assert [(c.field, c.new) for c in entry.changes] == [("phone", "000")]


def test_orgunit_move_is_recorded_as_parent_change(org):
    # given team2 under dept1
    # when it moves under dept2
    org.team2.parent = org.dept2
    org.team2.save()
    # then history shows parent from dept1 to dept2 (not the derived path)
    entry = history_for(OrgUnit.objects.get(pk=org.team2.pk))[0]
    assert [(c.field, c.old, c.new) for c in entry.changes] == [
        ("parent", org.dept1.pk, org.dept2.pk)
    ]
    assert (entry.changes[0].old_display, entry.changes[0].new_display) == ("Dept 1", "Dept 2")


def test_history_read_is_a_fixed_number_of_queries_whatever_the_events(
    org, django_assert_num_queries
):
    rep = User.objects.get(pk=org.rep1a.pk)
    for i in range(20):
        with pghistory.context(user=org.sup1.pk if i % 2 else org.admin.pk):
            rep.phone = f"1380000{i:04d}"
            rep.save()
    with django_assert_num_queries(3):  # events, actors, the org unit named by the insert
        entries = history_for(rep)
    assert len(entries) == 21  # the insert and 20 updates
    assert entries[-1].action == "insert"


def test_history_names_foreign_keys_in_a_fixed_number_of_queries(org, django_assert_num_queries):
    rep = User.objects.get(pk=org.rep1a.pk)
    for unit in (org.team2, org.team3, org.team1, org.team2):
        with pghistory.context(user=org.admin.pk):
            rep.org_unit = unit
            rep.save()
    with django_assert_num_queries(3):  # events, actors, org units
        entries = history_for(rep)
    assert [c.new_display for c in entries[0].changes] == ["Team 2"]
