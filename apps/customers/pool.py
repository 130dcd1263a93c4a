"""The public pool (公海): release of neglected customers, warnings, claim and release.

Rules (issue 4, DESIGN.md "customers"):

- A customer whose last follow-up (or, when it never had one, its claim or creation) is older
  than `settings.CUSTOMER_POOL_DAYS[tier]` days loses its owner to the pool. The nightly job
  does it set-based: one ``UPDATE … RETURNING`` with a CASE over the tiers, inside
  ``history_context(job="customer_pool_release")`` so that every release is in the history
  with the job named. The owner is warned `CUSTOMER_POOL_WARNING_DAYS` days before, once per
  cycle (``pool_warning_at``; a follow-up, a claim or a release starts a new cycle).
- A rep claims from the pool up to `CUSTOMER_POOL_CLAIM_CAP` claimed customers, and cannot
  re-claim a customer released from them within `CUSTOMER_POOL_COOLOFF_DAYS` days.
- The owner, or a head above the owner, releases a customer to the pool with a reason.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pgtrigger
from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pghistory.models import Context
from psycopg import sql

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.accounts.scope import can_see_user
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.notifications.services import notify

from .choices import CustomerTier
from .models import Customer

RELEASE_JOB = "customer_pool_release"
CLAIM_ROLES = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER})
HEAD_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})


def pool_days() -> dict[str, int]:
    """Days without follow-up before release, per tier (a tier the setting omits: 30)."""
    configured = settings.CUSTOMER_POOL_DAYS
    return {tier: int(configured.get(tier, 30)) for tier in CustomerTier.values}


# The clock of a customer starts at its last follow-up, else its claim, else its creation
# (as `customer_pool_due_at` below). The days per tier are one JSON parameter
# (``%s::jsonb ->> tier``), so each statement is constant SQL covering every tier.
RELEASE_SQL = """
    UPDATE customers_customer
       SET previous_owner_id = owner_id, owner_id = NULL, released_at = %s,
           claimed_at = NULL, pool_warning_at = NULL, updated_at = %s
     WHERE owner_id IS NOT NULL
       AND COALESCE(last_follow_up_at, claimed_at, created_at)
           <= %s - make_interval(days => COALESCE((%s::jsonb ->> tier)::int, 30))
 RETURNING *
"""
WARNING_SQL = """
    UPDATE customers_customer
       SET pool_warning_at = %s
     WHERE owner_id IS NOT NULL
       AND pool_warning_at IS NULL
       AND COALESCE(last_follow_up_at, claimed_at, created_at)
           <= %s - make_interval(days => COALESCE((%s::jsonb ->> tier)::int, 30) - %s::int)
 RETURNING *
"""


UPDATE_TRIGGER = "customers.Customer:update_update"

# Settings for the job's transaction only (``SET LOCAL``), measured with bench/customers_pool.py
# (issue 4: under 10 s over 200,000 customers in the worst case):
# - every released row is a new row version in every index of the table (the owner and
#   `updated_at` are indexed, so no HOT update), the trigram GIN on the name included. GIN
#   inserts go to its pending list, and the statement that fills the list past
#   `gin_pending_list_limit` (4 MB by default) merges it into the index itself, several
#   times over 100k rows; a larger list for this transaction leaves the merge to autovacuum;
# - the job is idempotent, so a crash right after its commit may lose the commit (it runs
#   again): no need to wait for the WAL flush.
JOB_SETTINGS = (
    "SET LOCAL gin_pending_list_limit = '256MB'",
    "SET LOCAL synchronous_commit = off",
)


def _save_context(context: Any) -> Any:
    """The history context row of the job (what pghistory's trigger would upsert)."""
    Context.objects.update_or_create(id=context.id, defaults={"metadata": context.metadata})
    return context.id


def _with_history(update_sql: str, returning: str) -> str:
    """`update_sql` (an ``UPDATE customers_customer … RETURNING *``) in a CTE that also
    writes one history event per changed row, as the row trigger would, in one INSERT; the
    statement answers `returning` of each changed row."""
    event_model = django_apps.get_model("customers", "CustomerEvent")
    columns = [f.column for f in event_model._meta.concrete_fields if f.column != "pgh_id"]
    computed = {
        "pgh_created_at": sql.SQL("NOW()"),
        "pgh_label": sql.Literal("update"),
        "pgh_obj_id": sql.Identifier("id"),
        "pgh_context_id": sql.SQL("%s::uuid"),  # the last parameter
    }
    query = sql.SQL(
        "WITH changed AS ({update}), "
        "events AS (INSERT INTO {table} ({columns}) SELECT {values} FROM changed) "
        "SELECT {returning} FROM changed"
    ).format(
        update=sql.SQL(update_sql.strip()),
        table=sql.Identifier(event_model._meta.db_table),
        columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        values=sql.SQL(", ").join(computed.get(c, sql.Identifier(c)) for c in columns),
        returning=sql.Identifier(returning),
    )
    return query.as_string(connection.connection)


def job_statements(*, now: datetime, days: str, context_id: str) -> list[tuple[str, str, list]]:
    """(name, SQL, parameters) of the job's two statements, in order: the releases, then the
    warnings; each writes its history events and answers the owner of each changed row.
    `days` is the JSON of `pool_days()`; `context_id` the history context of the run."""
    warning = settings.CUSTOMER_POOL_WARNING_DAYS
    return [
        ("release", _with_history(RELEASE_SQL, "previous_owner_id"),
         [now, now, now, days, context_id]),
        ("warning", _with_history(WARNING_SQL, "owner_id"),
         [now, now, days, warning, context_id]),
    ]  # fmt: skip


@dataclass(frozen=True)
class PoolRun:
    released: int
    warned: int


def _warning_body(count: int) -> str:
    return ngettext(
        "%(count)d customer of yours has had no follow-up for a long time and goes to the "
        "public pool soon unless you follow it up.",
        "%(count)d customers of yours have had no follow-up for a long time and go to the "
        "public pool soon unless you follow them up.",
        count,
    ) % {"count": count}


def _released_body(count: int) -> str:
    return ngettext(
        "%(count)d customer of yours had no follow-up in time and was released to the public pool.",
        "%(count)d customers of yours had no follow-up in time and were released to the "
        "public pool.",
        count,
    ) % {"count": count}


def _notify_counts(
    owner_counts: Counter, *, title: str, body: Callable[[int], str], url: str
) -> None:
    """One notification per owner with their count; owners with the same count share one
    `notify` call (one INSERT), so the job's cost does not grow with the number of owners."""
    if not owner_counts:
        return
    users = {u.pk: u for u in User.objects.filter(pk__in=list(owner_counts))}
    by_count: dict[int, list[User]] = {}
    for owner_id, count in owner_counts.items():
        if owner_id in users:
            by_count.setdefault(count, []).append(users[owner_id])
    for count, recipients in by_count.items():
        notify(recipients=recipients, title=title, body=body(count), url=url)


@transaction.atomic
def customer_pool_release_due(*, now: datetime | None = None) -> PoolRun:
    """The nightly job: release to the pool every owned customer whose clock ran out, then
    warn the owners of those that will run out within the warning days (once per cycle).

    Set-based, whatever the number of customers: one UPDATE for the releases, one for the
    warnings, a notification per owner. Running it twice changes nothing the second time:
    released customers have no owner, warned ones have ``pool_warning_at``.
    """
    now = now or timezone.now()
    days = json.dumps(pool_days())
    with history_context(job=RELEASE_JOB) as context:
        context_id = str(_save_context(context))
        # The row trigger of pghistory costs ~0.3 ms a row (it upserts the context for each
        # row): 100,000 releases would take half a minute. The statements write the same
        # events themselves, set-based, so the trigger is skipped for them.
        with pgtrigger.ignore(UPDATE_TRIGGER), connection.cursor() as cursor:
            for setting in JOB_SETTINGS:
                cursor.execute(setting)
            owners: dict[str, Counter] = {}
            for name, statement, params in job_statements(
                now=now, days=days, context_id=context_id
            ):
                cursor.execute(statement, params)
                owners[name] = Counter(row[0] for row in cursor.fetchall())
    released, warned = owners["release"], owners["warning"]
    _notify_counts(
        warned,
        title=_("Customers about to go to the public pool"),
        body=_warning_body,
        url=reverse("customers:list") + "?pool=no",
    )
    _notify_counts(
        released,
        title=_("Customers released to the public pool"),
        body=_released_body,
        url=reverse("customers:pool"),
    )
    return PoolRun(released=sum(released.values()), warned=sum(warned.values()))


def customer_pool_due_at(customer: Customer) -> datetime | None:
    """When an owned customer goes to the pool without a follow-up (for the pages)."""
    if customer.owner_id is None:
        return None
    start = customer.last_follow_up_at or customer.claimed_at or customer.created_at
    return start + timedelta(days=pool_days()[customer.tier])


@transaction.atomic
def customer_touch_follow_up(*, customer_ids: Iterable[int], at: datetime) -> int:
    """A follow-up (a visit, an activity) happened at `at`: restart the pool clock of these
    customers and start a new warning cycle. Set-based (one UPDATE); an older `at` than the
    recorded follow-up changes nothing. Called by the visits module."""
    ids = list(customer_ids)
    if not ids:
        return 0
    return (
        Customer.objects.filter(pk__in=ids)
        .filter(Q(last_follow_up_at__isnull=True) | Q(last_follow_up_at__lt=at))
        .update(last_follow_up_at=at, pool_warning_at=None, updated_at=timezone.now())
    )


def can_claim(user: User) -> bool:
    return user.is_active and user.role in CLAIM_ROLES


@transaction.atomic
def customer_claim(*, customer: Customer, by: User) -> Customer:
    """A rep claims (领取) a customer from the pool: it must be in the pool, the rep must be
    under the cap of claimed customers and not in the cool-off for this customer.

    The customer row is locked, so two reps claiming at once are serialised and the second
    finds it owned. The rep's user row is locked too, so that two claims by the same rep of
    two customers at once cannot both pass the cap check.
    """
    if not can_claim(by):
        raise PermissionDenied(_("Only sales staff can claim customers from the public pool."))
    User.objects.select_for_update().filter(pk=by.pk).first()
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is not None:
        raise Conflict(
            _("This customer is no longer in the public pool: someone has claimed it."),
            code="not_in_pool",
        )
    now = timezone.now()
    cooloff = settings.CUSTOMER_POOL_COOLOFF_DAYS
    if (
        customer.previous_owner_id == by.pk
        and customer.released_at is not None
        and customer.released_at > now - timedelta(days=cooloff)
    ):
        until = customer.released_at + timedelta(days=cooloff)
        raise Conflict(
            _(
                "This customer was released from you on %(released)s: you can claim it again "
                "from %(until)s (a %(days)d-day cool-off)."
            )
            % {
                "released": timezone.localdate(customer.released_at).isoformat(),
                "until": timezone.localdate(until).isoformat(),
                "days": cooloff,
            },
            code="cool_off",
        )
    cap = settings.CUSTOMER_POOL_CLAIM_CAP
    claimed = Customer.objects.filter(owner=by, claimed_at__isnull=False).count()
    if claimed >= cap:
        raise Conflict(
            _(
                "You already hold %(count)d customers claimed from the pool, the most allowed "
                "(%(cap)d). Release one before claiming another."
            )
            % {"count": claimed, "cap": cap},
            code="claim_cap",
        )
    customer.owner = by
    customer.claimed_at = now
    customer.last_follow_up_at = now
    customer.pool_warning_at = None
    with history_context(action="customer_claim"):
        customer.save(
            update_fields=["owner", "claimed_at", "last_follow_up_at", "pool_warning_at",
                           "updated_at"]
        )  # fmt: skip
    return customer


def can_release(user: User, customer: Customer) -> bool:
    """The owner, or a head above the owner (supervisor, manager, admin in scope)."""
    if customer.owner_id is None or not user.is_active:
        return False
    if customer.owner_id == user.pk:
        return True
    return (user.role in HEAD_ROLES or user.is_superuser) and can_see_user(user, customer.owner_id)


@transaction.atomic
def customer_release(*, customer: Customer, by: User, reason: str) -> Customer:
    """Release (退回公海) a customer to the pool, with the reason; the owner is told when a
    head releases it. The previous owner's cool-off starts now."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why.")]})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.owner_id is None:
        raise Conflict(_("This customer is already in the public pool."), code="in_pool")
    if not can_release(by, customer):
        raise PermissionDenied(_("You cannot release this customer to the public pool."))
    owner = customer.owner
    customer.previous_owner = owner
    customer.owner = None
    customer.released_at = timezone.now()
    customer.claimed_at = None
    customer.pool_warning_at = None
    with history_context(action="customer_release", reason=reason[:300]):
        customer.save(
            update_fields=["owner", "previous_owner", "released_at", "claimed_at",
                           "pool_warning_at", "updated_at"]
        )  # fmt: skip
    if owner.pk != by.pk:
        notify(
            recipients=[owner],
            title=_("Released to the public pool: %(customer)s") % {"customer": customer.name},
            body=reason,
            url=customer.get_absolute_url(),
            actor=by,
        )
    return customer
