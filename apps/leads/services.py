"""Lead use cases: capture with dedupe, update, scoring, assignment, the response SLA and the
status transitions up to conversion into a customer (DESIGN.md "leads", seed 003).

Every write locks the lead row it changes; notifications are in-app rows written in the same
transaction (their e-mails leave after commit, see `apps.notifications.services.notify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_fsm import can_proceed

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.selectors import supervisor_of
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.customers.models import Contact, Customer
from apps.customers.normalization import normalize_company_name, normalize_email, normalize_phone
from apps.notifications.services import notify
from apps.opportunities.services import opportunity_create

from . import scoring
from .choices import OPEN_STATUSES, LeadSource, LeadStatus
from .forms import LEAD_DATA_FIELDS, LeadDataForm
from .models import Lead, LeadTouch, Territory
from .permissions import can_receive_lead, can_work, may_reassign
from .selectors import REASSIGN_ACTION, lead_list

# --- helpers ------------------------------------------------------------------------------


def _lock(lead: Lead) -> Lead:
    return (
        Lead.objects.select_for_update(of=("self",)).select_related("owner", "team").get(pk=lead.pk)
    )


def _form_errors(form: LeadDataForm) -> ValidationError:
    return ValidationError(form.errors.as_data())


def _json_safe(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif not isinstance(value, str | int | float | bool | list | dict | type(None)):
            value = str(value)
        out[str(key)] = value
    return out


def _identity_q(
    *, name_key: str, phone_key: str, email_key: str, credit_code: str, name_field: str = "name_key"
) -> Q | None:
    q = Q()
    for field, value in ((name_field, name_key), ("phone_key", phone_key),
                         ("email_key", email_key), ("credit_code", credit_code)):  # fmt: skip
        if value:
            q |= Q(**{field: value})
    return q or None


def _strongest_first(credit_code: str) -> Case:
    # A credit code identifies a company; a shared name or switchboard number less so.
    if not credit_code:
        return Value(1, output_field=IntegerField())
    return Case(When(credit_code=credit_code, then=0), default=1, output_field=IntegerField())


# --- dedupe and capture ------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureResult:
    """What a capture did: created `lead`, or added `touch` to `duplicate_of` (a lead or a
    customer)."""

    created: bool
    lead: Lead | None = None
    duplicate_of: Lead | Customer | None = None
    touch: LeadTouch | None = None


def find_duplicate(
    *, name_key: str, phone_key: str, email_key: str, credit_code: str
) -> Lead | Customer | None:
    """The existing customer (first), the customer of a contact, or the open lead with any of
    these identity keys.

    One statement finds it — the three indexed lookups (customers, their contacts, leads) as a
    UNION ALL, each at most one row, the first kind that matches winning — and a second reads
    the record found; a new prospect (the usual capture) costs one round trip. With 1M leads
    and 200k customers a capture stays in milliseconds.
    """
    q = _identity_q(
        name_key=name_key, phone_key=phone_key, email_key=email_key, credit_code=credit_code
    )
    if q is None:
        return None
    strongest = _strongest_first(credit_code)

    def kind(number: int) -> Value:
        return Value(number, output_field=IntegerField())

    lookups = [
        Customer.objects.filter(q)
        .annotate(kind=kind(0), strength=strongest)
        .order_by("strength", "id")
        .values_list("kind", "id")[:1]
    ]
    contact_q = Q()
    if phone_key:
        contact_q |= Q(phone_key=phone_key)
    if email_key:
        contact_q |= Q(email_key=email_key)
    if contact_q:
        lookups.append(
            Contact.objects.filter(contact_q)
            .annotate(kind=kind(1))
            .order_by("id")
            .values_list("kind", "customer_id")[:1]
        )
    # A converted lead lives on as its customer, found above.
    lookups.append(
        Lead.objects.filter(q)
        .exclude(status=LeadStatus.CONVERTED)
        .annotate(kind=kind(2), strength=strongest)
        .order_by("strength", "id")
        .values_list("kind", "id")[:1]
    )
    found = sorted(lookups[0].union(*lookups[1:], all=True))
    if not found:
        return None
    found_kind, pk = found[0]
    if found_kind == 2:
        return Lead.objects.select_related("owner").get(pk=pk)
    return Customer.objects.select_related("owner").get(pk=pk)


def _lock_identity(keys: Iterable[str]) -> None:
    """Serialise captures of the same prospect (two channels at once must not both create):
    a transaction-scoped advisory lock per identity key, taken in a fixed order. The import's
    lock is taken in shared mode first: a capture waits while a file is being written (the
    import holds it exclusively), and captures never wait for each other on it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(hashtext(%s))", ["lead-import"])
        for key in sorted(set(keys)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"lead-identity:{key}"])


@transaction.atomic
def lead_capture(
    *, data: Mapping[str, Any], source: str, channel: str = "", by: User | None = None
) -> CaptureResult:
    """Capture a prospect from any channel (线索采集).

    Validates the data (a wrong credit code or phone is an error of its field; nothing is
    written), then dedupes against customers and leads by the normalized phone, e-mail, company
    name and credit code: a duplicate adds a touch to the existing record and notifies its
    owner, and nothing else is created. Otherwise the lead is created, scored and assigned (a
    rep entering a lead by hand keeps it; everything else goes to the territory's team).
    """
    if source not in LeadSource.values:
        raise ValidationError({"source": _("Unknown lead source.")})
    form = LeadDataForm(data=dict(data))
    if not form.is_valid():
        raise _form_errors(form)
    lead: Lead = form.save(commit=False)
    lead.source, lead.channel = source, (channel or "")[:100]
    lead.name_key = normalize_company_name(lead.company_name)
    lead.phone_key = normalize_phone(lead.phone)
    lead.email_key = normalize_email(lead.email)
    _lock_identity(
        f"{kind}:{value}"
        for kind, value in (
            ("name", lead.name_key),
            ("phone", lead.phone_key),
            ("email", lead.email_key),
            ("uscc", lead.credit_code),
        )
        if value
    )
    existing = find_duplicate(
        name_key=lead.name_key, phone_key=lead.phone_key, email_key=lead.email_key,
        credit_code=lead.credit_code,
    )  # fmt: skip
    if existing is not None:
        touch = LeadTouch.objects.create(
            lead=existing if isinstance(existing, Lead) else None,
            customer=existing if isinstance(existing, Customer) else None,
            source=source,
            channel=lead.channel,
            payload=_json_safe(form.cleaned_data),
        )
        if existing.owner is not None:
            notify(
                recipients=[existing.owner],
                title=_("%(name)s got in touch again (%(source)s)")
                % {"name": str(existing), "source": lead.get_source_display()},
                url=existing.get_absolute_url() if isinstance(existing, Lead) else "",
                actor=by,
            )
        return CaptureResult(created=False, duplicate_of=existing, touch=touch)

    lead.score, lead.grade = scoring.score_of(lead, scoring.active_rules())
    lead.save()
    if source == LeadSource.MANUAL and by is not None and by.role == Role.REP:
        lead = _give(_lock(lead), to=by, now=timezone.now())
        lead.save()
    else:
        lead = lead_assign_auto(lead=lead)
    return CaptureResult(created=True, lead=lead)


@transaction.atomic
def lead_update(*, lead: Lead, by: User, data: Mapping[str, Any]) -> Lead:
    """Change a lead's data (only the fields given) and recompute its score and grade."""
    lead = _lock(lead)
    if not can_work(by, lead):
        raise PermissionDenied(_("You cannot change this lead."))
    if lead.status in (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED):
        raise Conflict(_("A converted or disqualified lead cannot be changed."), code="closed")
    merged = {name: getattr(lead, name) for name in LEAD_DATA_FIELDS}
    merged.update({k: v for k, v in data.items() if k in LEAD_DATA_FIELDS})
    merged = {k: ("" if v is None and k != "budget" else v) for k, v in merged.items()}
    form = LeadDataForm(data=merged, instance=lead)
    if not form.is_valid():
        raise _form_errors(form)
    lead = form.save(commit=False)
    lead.score, lead.grade = scoring.score_of(lead, scoring.active_rules())
    lead.save()
    return lead


# --- scoring -----------------------------------------------------------------------------


def scoring_rules_changed() -> None:
    """Rescore every lead after the rules change, once the change is committed."""
    from .tasks import rescore_all

    transaction.on_commit(lambda: rescore_all.delay())


def lead_rescore_all(*, batch_size: int | None = None) -> int:
    """Recompute score and grade of every lead under the active rules; returns how many
    changed. Keyset batches (by id) with one bulk UPDATE each, so memory stays flat and a
    crash loses at most a batch; safe to run again."""
    size = batch_size or settings.LEAD_RESCORE_BATCH_SIZE
    rules = scoring.active_rules()
    last_id, changed = 0, 0
    fields = ["id", "score", "grade", *scoring.SCORED_FIELDS]
    with history_context(job="lead_rescore_all"):
        while True:
            batch = list(Lead.objects.filter(pk__gt=last_id).order_by("pk").only(*fields)[:size])
            if not batch:
                return changed
            last_id = batch[-1].pk
            now = timezone.now()
            dirty = []
            for lead in batch:
                score, grade = scoring.score_of(lead, rules)
                if (score, grade) != (lead.score, lead.grade):
                    lead.score, lead.grade, lead.updated_at = score, grade, now
                    dirty.append(lead)
            if dirty:
                with transaction.atomic():
                    Lead.objects.bulk_update(dirty, ["score", "grade", "updated_at"])
                changed += len(dirty)


# --- assignment and SLA ------------------------------------------------------------------


def _sla_due(lead: Lead, now: datetime) -> datetime:
    hours = settings.LEAD_SLA_HOURS.get(lead.grade, settings.LEAD_SLA_HOURS["D"])
    return now + timedelta(hours=float(hours))


def _give(lead: Lead, *, to: User, now: datetime, team: OrgUnit | None = None) -> Lead:
    """Make `to` the owner; a new lead becomes assigned and its response clock starts."""
    lead.owner = to
    lead.team = team or to.org_unit
    if lead.status == LeadStatus.NEW:
        lead.assign()
    if lead.first_response_due_at is None and lead.first_responded_at is None:
        lead.first_response_due_at = _sla_due(lead, now)
    return lead


def least_loaded_rep(team: OrgUnit) -> User | None:
    """The active rep of `team` with the fewest open leads (ties: by username), in one
    aggregate query."""
    return (
        User.objects.filter(org_unit=team, role=Role.REP, is_active=True)
        .annotate(open_leads=Count("leads", filter=Q(leads__status__in=OPEN_STATUSES)))
        .order_by("open_leads", "username")
        .first()
    )


def _assigned_title(lead: Lead) -> str:
    return _("New lead for you: %(name)s (grade %(grade)s)") % {
        "name": lead.company_name, "grade": lead.grade,
    }  # fmt: skip


@transaction.atomic
def lead_assign_auto(*, lead: Lead) -> Lead:
    """Assign a new lead: its region's territory gives the team, the team's least-loaded rep
    gets it and the response clock starts. Without a territory it stays new and unassigned
    (its team's head is told when the team is known); without an active rep it waits in the
    team for its head to assign it."""
    lead = _lock(lead)
    if lead.status != LeadStatus.NEW or lead.owner_id is not None:
        raise Conflict(_("This lead is already assigned."), code="already_assigned")
    territory = (
        Territory.objects.filter(region=lead.region, is_active=True).select_related("team").first()
        if lead.region
        else None
    )
    if territory is None:
        if lead.team is not None and lead.team.head_id:
            notify(
                recipients=[lead.team.head],
                title=_("Lead waiting for assignment: %(name)s") % {"name": lead.company_name},
                url=lead.get_absolute_url(),
            )
        return lead
    # One assignment at a time per team, so two captures at once do not both pick the same
    # least-loaded rep.
    team = (
        OrgUnit.objects.select_for_update(of=("self",))
        .select_related("head")
        .get(pk=territory.team_id)
    )
    rep = least_loaded_rep(team)
    if rep is None:
        lead.team = team
        lead.save(update_fields=["team"])
        if team.head is not None:
            notify(
                recipients=[team.head],
                title=_("Lead waiting for assignment: %(name)s") % {"name": lead.company_name},
                url=lead.get_absolute_url(),
            )
        return lead
    _give(lead, to=rep, team=team, now=timezone.now())
    lead.save()
    notify(recipients=[rep], title=_assigned_title(lead), url=lead.get_absolute_url())
    return lead


def lead_assign_batch(*, leads: Iterable[Lead]) -> list[Lead]:
    """Assign several new leads: grade A first (then B, C, D), oldest first within a grade,
    so the best leads get the least-loaded reps."""
    ordered = sorted(leads, key=lambda lead: (lead.grade, lead.created_at, lead.pk))
    return [lead_assign_auto(lead=lead) for lead in ordered]


def _reassign_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the lead is reassigned.")})
    return reason[:300]


def _check_reassigner(by: User, to: User) -> None:
    """The actor's role (403), then the new owner (an error of the `to` field: a person the
    actor cannot give leads to is a wrong choice, not a missing right)."""
    if not may_reassign(by):
        raise PermissionDenied(_("Only supervisors, managers and administrators reassign leads."))
    if not can_receive_lead(by, to):
        raise ValidationError(
            {"to": ValidationError(_("Choose an active person in your team."), code="out_of_scope")}
        )


def _check_open(lead: Lead) -> None:
    if lead.status in (LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED):
        raise Conflict(
            _("%(name)s is converted or disqualified and cannot be reassigned.")
            % {"name": lead.company_name},
            code="closed",
        )


@transaction.atomic
def lead_reassign(*, lead: Lead, to: User, by: User, reason: str) -> Lead:
    """Give a lead to another owner (改派), by a supervisor, manager or admin whose scope
    covers the lead and the new owner. The reason (and who did it) is kept in the lead's
    history, where the lead's page reads its reassignments from."""
    reason = _reassign_reason(reason)
    _check_reassigner(by, to)
    lead = _lock(lead)
    if not can_work(by, lead):
        raise PermissionDenied(_("You cannot reassign this lead."))
    _check_open(lead)
    if lead.owner_id == to.pk:
        raise Conflict(_("This lead already belongs to this person."), code="same_owner")
    with history_context(reason=reason, action=REASSIGN_ACTION, user=by.pk):
        _give(lead, to=to, now=timezone.now())
        lead.save()
    notify(recipients=[to], title=_assigned_title(lead), url=lead.get_absolute_url(), actor=by)
    return lead


MAX_BULK_REASSIGN = 500


@transaction.atomic
def lead_reassign_bulk(*, leads: Iterable[Lead], to: User, by: User, reason: str) -> list[Lead]:
    """Give several leads to one new owner (批量改派), all or nothing: every lead must be in
    the actor's scope and still open, else nothing changes. Leads that already belong to `to`
    are left as they are. The rows are locked in id order, so two overlapping bulk
    reassignments wait for each other instead of deadlocking; the scope of all the leads is
    checked in one query. The new owner gets one notification. Returns the chosen leads."""
    reason = _reassign_reason(reason)
    _check_reassigner(by, to)
    ids = sorted({lead.pk for lead in leads})
    if not ids:
        raise ValidationError({"leads": _("Choose at least one lead.")})
    if len(ids) > MAX_BULK_REASSIGN:
        raise ValidationError(
            {"leads": _("Choose at most %(max)d leads at a time.") % {"max": MAX_BULK_REASSIGN}}
        )
    locked = list(
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner", "team")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    workable = set(lead_list(user=by).filter(pk__in=ids).values_list("pk", flat=True))
    if len(locked) != len(ids) or not workable.issuperset(ids):
        raise PermissionDenied(_("Some of the chosen leads are not yours to reassign."))
    for lead in locked:
        _check_open(lead)
    changed = [lead for lead in locked if lead.owner_id != to.pk]
    now = timezone.now()
    with history_context(reason=reason, action=REASSIGN_ACTION, user=by.pk):
        for lead in changed:
            _give(lead, to=to, now=now)
            lead.save()
    if len(changed) == 1:
        lead = changed[0]
        notify(recipients=[to], title=_assigned_title(lead), url=lead.get_absolute_url(), actor=by)
    elif changed:
        notify(
            recipients=[to],
            title=ngettext(
                "%(count)d lead was given to you.", "%(count)d leads were given to you.",
                len(changed),
            ) % {"count": len(changed)},
            url=reverse("leads:list"),
            actor=by,
        )  # fmt: skip
    return locked


_FLAG_BREACHES_SQL = """
UPDATE leads_lead SET sla_breached_at = %s, updated_at = %s
WHERE status = %s AND first_responded_at IS NULL AND sla_breached_at IS NULL
  AND first_response_due_at < %s
RETURNING id, owner_id
"""


@transaction.atomic
def lead_sla_flag_breaches(*, now: datetime | None = None) -> int:
    """Flag every assigned lead whose first response is overdue, in one UPDATE, and tell its
    owner and the owner's supervisor, once: a flagged lead is never picked again, so a second
    run (or a second worker) alerts nobody twice. Returns how many were flagged."""
    now = now or timezone.now()
    with history_context(job="lead_sla_flag_breaches"), connection.cursor() as cursor:
        cursor.execute(_FLAG_BREACHES_SQL, [now, now, LeadStatus.ASSIGNED, now])
        rows = cursor.fetchall()
    if not rows:
        return 0
    by_owner: dict[int, int] = {}
    for _lead_id, owner_id in rows:
        by_owner[owner_id] = by_owner.get(owner_id, 0) + 1
    owners = User.objects.filter(pk__in=by_owner).select_related(
        "org_unit__head", "org_unit__parent__head"
    )
    counts: dict[int, tuple[User, int, bool]] = {}
    for owner in owners:
        n = by_owner[owner.pk]
        _count(counts, owner, n, own=True)
        supervisor = supervisor_of(owner)
        if supervisor is not None:
            _count(counts, supervisor, n, own=False)
    url = _breached_url()
    for user, n, own in counts.values():
        title = (
            _("%(count)d of your leads missed the first-response time.")
            if own
            else _("%(count)d leads in your team missed the first-response time.")
        ) % {"count": n}
        notify(recipients=[user], title=title, url=url)
    return len(rows)


def _count(counts: dict, user: User, n: int, *, own: bool) -> None:
    _user, total, was_own = counts.get(user.pk, (user, 0, own))
    counts[user.pk] = (user, total + n, was_own and own)


def _breached_url() -> str:
    return f"{reverse('leads:list')}?sla=breached"


# --- transitions -------------------------------------------------------------------------


def _prepare(lead: Lead, by: User, name: str, done: str) -> Lead:
    """Lock, check the actor's right and the state (409 with the reason otherwise)."""
    lead = _lock(lead)
    if not can_work(by, lead):
        raise PermissionDenied(_("You cannot work on this lead."))
    method = getattr(lead, name)
    if not can_proceed(method, check_conditions=False):
        raise Conflict(
            _("A lead that is %(status)s cannot be %(done)s.")
            % {"status": lead.get_status_display().lower(), "done": done},
            code="invalid_state",
        )
    return lead


def _need_owner(lead: Lead) -> None:
    if lead.owner_id is None:
        raise Conflict(_("Assign the lead to someone first."), code="no_owner")


@transaction.atomic
def lead_contact(*, lead: Lead, by: User) -> Lead:
    """The owner reached the prospect; the first time is the SLA's first response."""
    lead = _prepare(lead, by, "contact", _("contacted"))
    _need_owner(lead)
    lead.contact()
    if lead.first_responded_at is None:
        lead.first_responded_at = timezone.now()
    lead.save()
    return lead


@transaction.atomic
def lead_qualify(*, lead: Lead, by: User) -> Lead:
    """The prospect has a need, a budget and a time frame; it needs an owner and a way to
    reach it (a phone or an e-mail)."""
    lead = _prepare(lead, by, "qualify", _("qualified"))
    _need_owner(lead)
    if not (lead.phone_key or lead.email_key):
        raise Conflict(
            _("Add a phone number or an e-mail address before qualifying the lead."),
            code="no_contact_channel",
        )
    lead.qualify()
    lead.save()
    return lead


@transaction.atomic
def lead_disqualify(*, lead: Lead, by: User, reason: str) -> Lead:
    """Not a prospect (无效线索); the reason is required and kept."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the lead is disqualified.")})
    lead = _prepare(lead, by, "disqualify", _("disqualified"))
    lead.disqualify_reason = reason[:300]
    lead.disqualify()
    lead.save()
    return lead


@transaction.atomic
def lead_nurture(*, lead: Lead, by: User) -> Lead:
    """Not ready to buy now: kept warm for later (培育)."""
    lead = _prepare(lead, by, "nurture", _("put into nurturing"))
    lead.nurture()
    if lead.first_responded_at is None:
        lead.first_responded_at = timezone.now()
    lead.save()
    return lead


@transaction.atomic
def lead_convert(*, lead: Lead, by: User) -> Lead:
    """Convert a qualified lead (线索转化): link the customer that has the same identity keys
    (credit code first), or create one owned by the lead's owner; add the contact unless the
    customer has them already; record the customer on the lead. Converting twice is a 409.
    Opens an opportunity (prospecting) for the owner: the start of the pipeline."""
    lead = _lock(lead)
    if not can_work(by, lead):
        raise PermissionDenied(_("You cannot work on this lead."))
    if lead.status == LeadStatus.CONVERTED:
        raise Conflict(_("This lead is already converted."), code="already_converted")
    if not can_proceed(lead.convert, check_conditions=False):
        raise Conflict(_("Only a qualified lead can be converted."), code="invalid_state")
    _need_owner(lead)
    q = _identity_q(
        name_key=lead.name_key, phone_key=lead.phone_key, email_key=lead.email_key,
        credit_code=lead.credit_code,
    )  # fmt: skip
    customer = (
        Customer.objects.select_for_update()
        .filter(q)
        .order_by(_strongest_first(lead.credit_code), "id")
        .first()
    )
    if customer is None:
        customer = Customer.objects.create(
            name=lead.company_name, credit_code=lead.credit_code, industry=lead.industry,
            size=lead.company_size, region=lead.region, phone=lead.phone, email=lead.email,
            owner=lead.owner,
        )  # fmt: skip
    contact = _add_contact(customer, lead)
    lead.converted_customer = customer
    lead.converted_at = timezone.now()
    lead.convert()
    lead.save()
    # The pipeline starts here: an opportunity in its first stage for the lead's owner.
    opportunity_create(
        customer=customer, owner=lead.owner, by=None, name=lead.company_name, lead=lead,
        contact=contact, amount=lead.budget or Decimal("0.00"), description=lead.notes,
    )  # fmt: skip
    return lead


def _add_contact(customer: Customer, lead: Lead) -> Contact | None:
    """The lead's contact person on the customer: the existing one with the same phone or
    e-mail, else a new contact (none when the lead names nobody)."""
    if not lead.contact_name:
        return None
    same = Q()
    if lead.phone_key:
        same |= Q(phone_key=lead.phone_key)
    if lead.email_key:
        same |= Q(email_key=lead.email_key)
    existing = customer.contacts.filter(same).first() if same else None
    if existing is not None:
        return existing
    return Contact.objects.create(
        customer=customer, name=lead.contact_name, phone=lead.phone, email=lead.email,
        is_primary=not customer.contacts.exists(),
    )  # fmt: skip
