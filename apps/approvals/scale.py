"""Scale data of the approval engine (`manage.py seed_scale`): the approval requests, tasks and
decisions of the scale contracts that went through approval and of the scale quotes (the
quote-discount approval, 折扣审批), as `services.approval_submit` / `approval_approve` /
`approval_reject` would have left them.

Consistent with the engine, as far as generated data can be:

- one request per document (a contract that was approved — signed, executing, completed,
  terminated after approval — or is pending approval now; every approved quote), submitted
  by the document's owner, with the policy of its type; its title, link, amount, percentage
  and flags ("credit_override" for a contract that needed it) are what the registry gives;
- the steps of a round are the policy's steps that apply to the document
  (`ApprovalStep.applies`), in order; each step's approvers are `resolution.resolve_step`'s
  (the submitter never approves, an approver who already approved in the round is not asked
  again: a step left with nobody is passed). In an "any one" step one approver decides and the
  others' tasks are "not needed" (superseded, never decided); in an "all" step every approver
  decides. A document no step applies to is approved at its submission (a request with its
  submission and no task), as the engine does;
- an approved request: every step of its last round approved, the last decision at the
  document's `approved_at` (the request's `decided_at`), no current step. About one in twelve
  was returned (退回) once at some step before: that round's earlier steps approved, the
  returning task rejected with a comment, the other waiting tasks cancelled, then the revised
  document resubmitted (round 2) after a while;
- a pending request (the contracts pending now): the steps before the current one approved,
  the current step's tasks waiting since the previous decision, `current_step` set, nothing
  decided;
- waiting times differ by step, log-normal around a median per approver: the direct
  supervisor decides within hours, a sales manager within a day, finance over days (the
  bottleneck the process diagnostics should show), a credit override slower still; a chain
  that would start before its document was created is compressed into the time available;
- a task waiting longer than its policy's reminder (or escalation) limit carries the stamp
  of the hourly job that reminded its approver (or told the approver's head), as
  `services.approval_send_reminders` leaves it.

The documents come from the database (the contracts' and the opportunities' loaders, or an
earlier full load: ``seed_scale --add approvals``); a document that already has a request is
left alone, so the loader can run over a database that has some. Requests, tasks and decisions
are numbered in the order they were made, as a live database numbers them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.scale import ScaleContext

from . import registry
from .choices import (
    ApprovalMode,
    ApproverKind,
    ConditionMetric,
    Decision,
    RequestStatus,
    TaskStatus,
)
from .models import ApprovalDecision, ApprovalPolicy, ApprovalRequest, ApprovalStep, ApprovalTask
from .resolution import resolve_step

REQUIRES = ("contracts", "opportunities")

CONTRACT = "contracts.contract"
QUOTE = "opportunities.quote"
REQUEST_COLUMNS = [
    "id", "document_type", "content_type_id", "object_id", "policy_id", "submitter_id", "title",
    "url", "amount", "percentage", "flags", "round", "status", "current_step",
    "current_step_name", "submitted_at", "decided_at", "created_at", "updated_at",
]  # fmt: skip
TASK_COLUMNS = [
    "id", "request_id", "round", "step_order", "step_name", "mode", "approver_id",
    "delegated_from_id", "status", "created_at", "decided_at", "reminded_at", "escalated_at",
]  # fmt: skip
DECISION_COLUMNS = [
    "request_id", "round", "task_id", "step_name", "actor_id", "on_behalf_of_id", "decision",
    "comment", "created_at",
]  # fmt: skip

# Median hours an approver takes, by who approves (a credit override takes longer), and the
# spread (σ of the log-normal).
MEDIAN_HOURS = {"supervisor": 3.0, "manager": 14.0, "finance": 40.0, "other": 8.0}
OVERRIDE_FACTOR = 1.6
SIGMA = 0.9
RETURN_SHARE = 0.08  # requests returned once before their last round
REVISION_HOURS = (2.0, 72.0)  # from a return to the resubmission
RETURN_COMMENTS = [
    "付款条件需调整，预付款比例过低", "合同金额与报价不一致，请核对", "请补充客户信用调查资料",
    "交货期承诺过短，请与生产确认", "违约条款需按公司模板修改", "折扣超出权限，请重新报价",
]  # fmt: skip
COMMENTS = ["", "", "", "同意", "同意，请尽快签署", "已核实，同意", "OK"]
HOUR = 3600.0
MIN_GAP = 60.0  # seconds between a document's creation and its first submission, at least


@dataclass(eq=False)
class _Task:
    request: _Request
    round: int
    step: ApprovalStep
    approver: int
    status: str
    created: datetime
    decided: datetime | None = None
    id: int = 0


@dataclass(eq=False)
class _Request:
    document_type: str
    content_type: int
    object_id: int
    policy: ApprovalPolicy
    submitter: int
    title: str
    url: str
    amount: Decimal | None
    percentage: Decimal | None
    flags: list[str]
    first_at: datetime
    round: int = 1
    status: str = RequestStatus.PENDING
    current: ApprovalStep | None = None
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    updated_at: datetime | None = None
    tasks: list[_Task] = field(default_factory=list)
    # (round, task or None, step name, actor, decision, comment, at)
    decisions: list[tuple] = field(default_factory=list)
    id: int = 0


def _who(step: ApprovalStep) -> str:
    if step.approver_kind in (ApproverKind.DIRECT_SUPERVISOR, ApproverKind.UNIT_ABOVE_HEAD):
        return "supervisor"
    if step.approver_kind == ApproverKind.ROLE and step.role in ("manager", "finance"):
        return step.role
    return "other"


def _hours(step: ApprovalStep, rng: random.Random) -> float:
    """How long an approver of `step` takes, in hours (log-normal around the step's median)."""
    median = MEDIAN_HOURS[_who(step)]
    if step.condition_metric == ConditionMetric.FLAG:
        median *= OVERRIDE_FACTOR
    return max(0.05, median * rng.lognormvariate(0, SIGMA))


class _Approvers:
    """`resolve_step` for (step, submitter), asked once per pair."""

    def __init__(self, users: dict[int, User]) -> None:
        self.users = users
        self.cache: dict[tuple[int, int], list[int]] = {}

    def of(self, step: ApprovalStep, submitter: int) -> list[int]:
        key = (step.pk, submitter)
        if key not in self.cache:
            self.cache[key] = [u.pk for u in resolve_step(step, self.users[submitter])]
        return self.cache[key]


def _stamp(created: datetime, limit_hours: int, until: datetime) -> datetime | None:
    """The hourly job's run that found the task past `limit_hours`, if it ran before
    `until` (the task's end, or now)."""
    due = created + timedelta(hours=limit_hours)
    run = due.replace(minute=0, second=0, microsecond=0)
    if run < due:
        run += timedelta(hours=1)
    return run if run < until else None


@dataclass
class _Step:
    """A step of a round as it went: who was asked, who decided, how long each took."""

    step: ApprovalStep
    asked: list[int]
    deciders: list[int]
    hours: list[float]

    @property
    def seconds(self) -> float:
        return max(self.hours) * HOUR


class _Builder:
    """Lays out the rounds of one request over time."""

    def __init__(self, approvers: _Approvers, rng: random.Random) -> None:
        self.approvers = approvers
        self.rng = rng

    def plan(self, request: _Request, steps: list[ApprovalStep]) -> list[_Step] | None:
        """The steps of one round, in order, with their approvers: those `resolve_step` names
        but who have not approved earlier in the round (a step left with nobody is passed);
        in an "any one" step one of them decides. None when a step has nobody at all (the
        engine would refuse the submission)."""
        planned: list[_Step] = []
        approved: set[int] = set()
        for step in steps:
            approvers = self.approvers.of(step, request.submitter)
            if not approvers:
                return None
            asked = [a for a in approvers if a not in approved]
            if not asked:
                continue
            deciders = [self.rng.choice(asked)] if step.mode == ApprovalMode.ANY else asked
            hours = [_hours(step, self.rng) for _d in deciders]
            planned.append(_Step(step, asked, deciders, hours))
            approved.update(deciders)
        return planned

    def run_round(
        self,
        request: _Request,
        number: int,
        planned: list[_Step],
        start: datetime,
        *,
        stop: int | None = None,
        outcome: str = "approved",
        scale: float = 1.0,
    ) -> datetime:
        """Submit at `start`, then decide the planned steps in order. `outcome` "approved":
        every step approves; "returned": the steps before `stop` approve and step `stop`
        returns (its first decider); "pending": the steps before `stop` approve and step
        `stop` waits. Returns when the round's last decision was taken (or the current step
        opened)."""
        request.decisions.append((number, None, "", request.submitter, Decision.SUBMIT, "", start))
        at = start
        for index, planned_step in enumerate(planned):
            step = planned_step.step
            tasks = {
                a: _Task(request, number, step, a, TaskStatus.WAITING, at)
                for a in planned_step.asked
            }
            request.tasks.extend(tasks.values())
            if index == stop and outcome == "pending":
                request.current = step
                return at
            if index == stop and outcome == "returned":
                returning = tasks[planned_step.deciders[0]]
                returning.status = TaskStatus.REJECTED
                returning.decided = at + timedelta(seconds=planned_step.hours[0] * HOUR * scale)
                for task in tasks.values():
                    if task is not returning:
                        task.status = TaskStatus.CANCELLED
                request.decisions.append((
                    number, returning, step.name, returning.approver, Decision.REJECT,
                    self.rng.choice(RETURN_COMMENTS), None,
                ))  # fmt: skip
                request.current = step
                return returning.decided
            for approver, hours in zip(planned_step.deciders, planned_step.hours, strict=True):
                task = tasks[approver]
                task.status = TaskStatus.APPROVED
                task.decided = at + timedelta(seconds=hours * HOUR * scale)
                request.decisions.append((
                    number, task, step.name, approver, Decision.APPROVE,
                    self.rng.choice(COMMENTS), None,
                ))  # fmt: skip
            for task in tasks.values():
                if task.status == TaskStatus.WAITING:
                    task.status = TaskStatus.SUPERSEDED
            at += timedelta(seconds=planned_step.seconds * scale)
        return at


def _lay_out(
    builder: _Builder,
    request: _Request,
    steps: list[ApprovalStep],
    created: datetime,
    end: datetime,
    *,
    pending: bool,
    now: datetime,
) -> bool:
    """Fill `request` with its rounds between the document's creation and `end` (its
    approval for an approved document; now for a pending one). False when nobody can approve
    a step."""
    rng = builder.rng
    planned = builder.plan(request, steps)
    if planned is None:
        return False
    if not planned:  # no step applies: approved at its submission
        request.decisions.append((1, None, "", request.submitter, Decision.SUBMIT, "", end))
        request.status, request.submitted_at = RequestStatus.APPROVED, end
        request.decided_at = request.updated_at = request.first_at = end
        return True
    current = rng.randrange(len(planned)) if pending else None
    # The current step of a pending request has waited part of a usual wait so far.
    waited = planned[current].seconds * rng.random() if pending else 0.0
    needed = sum(p.seconds for p in planned[:current]) + waited
    first = builder.plan(request, steps) if rng.random() < RETURN_SHARE else None
    stop = revision = 0.0
    if first:
        stop = rng.randrange(len(first))
        revision = rng.uniform(*REVISION_HOURS) * HOUR
        needed += sum(p.seconds for p in first[:stop]) + first[stop].hours[0] * HOUR + revision
    available = (end - created).total_seconds() - MIN_GAP
    scale = 1.0 if needed <= available else max(available, MIN_GAP) / needed
    at = request.first_at = end - timedelta(seconds=needed * scale)
    number = 1
    if first:
        at = builder.run_round(request, 1, first, at, stop=stop, outcome="returned",
                               scale=scale)  # fmt: skip
        at += timedelta(seconds=revision * scale)
        number = 2
    request.round, request.submitted_at = number, at
    if pending:
        opened = builder.run_round(request, number, planned, at, stop=current,
                                   outcome="pending", scale=scale)  # fmt: skip
        request.status = RequestStatus.PENDING
        request.updated_at = min(now, opened)
        return True
    builder.run_round(request, number, planned, at, scale=scale)
    # The round's last decision is the document's approval, to the microsecond (the sum of
    # the scaled waits may differ by rounding).
    last_round = [t for t in request.tasks if t.round == number and t.decided is not None]
    for task in last_round:
        task.decided = min(task.decided, end)
    max(last_round, key=lambda t: t.decided).decided = end
    request.status, request.current = RequestStatus.APPROVED, None
    request.decided_at = request.updated_at = end
    return True


def _documents(ctx: ScaleContext) -> list[tuple]:
    """(document type, id, owner, created, end, pending, title, url, amount, percentage,
    flags) of the documents that went through approval, by id within each type."""
    # The engine knows no domain app: the documents' models come from the registry.
    Contract = registry.get(CONTRACT).model
    Quote = registry.get(QUOTE).model
    with translation.override(settings.LANGUAGE_CODE):
        quote_title = _("Quote %(number)s v%(version)s")
    contract_url = reverse("contracts:detail", args=[987654321]).replace("987654321", "{}")
    quote_url = reverse("opportunities:quote_detail", args=[987654321]).replace("987654321", "{}")
    docs: list[tuple] = []
    contracts = (
        Contract.objects.filter(approved_at__isnull=False)
        | Contract.objects.filter(status="pending")
    ).order_by("id")
    for pk, number, title, owner, amount, status, override, created, approved in (
        contracts.values_list("id", "number", "title", "owner_id", "amount", "status",
                              "needs_credit_override", "created_at", "approved_at")
        .iterator(chunk_size=20_000)
    ):  # fmt: skip
        pending = status == "pending" and approved is None
        docs.append((
            CONTRACT, pk, owner, created, ctx.now if pending else approved, pending,
            f"{number} {title}"[:300], contract_url.format(pk), amount, None,
            ["credit_override"] if override else [],
        ))  # fmt: skip
    quotes = Quote.objects.filter(status__in=["approved", "pending"]).order_by("id")
    for pk, opportunity, version, owner, total, discount, created, approved, status in (
        quotes.values_list("id", "opportunity_id", "version", "owner_id", "total",
                           "max_discount_pct", "created_at", "approved_at", "status")
        .iterator(chunk_size=20_000)
    ):  # fmt: skip
        pending = status == "pending"
        if approved is None and not pending:
            continue
        title = quote_title % {"number": f"BJ-{opportunity:06d}", "version": version}
        docs.append((
            QUOTE, pk, owner, created, ctx.now if pending else approved, pending, title[:300],
            quote_url.format(pk), total, discount, [],
        ))  # fmt: skip
    return docs


def load(ctx: ScaleContext) -> None:
    """Copy the requests, tasks and decisions; see the module docstring."""
    rng = ctx.rng("approvals")
    policies = {
        p.document_type: p
        for p in ApprovalPolicy.objects.filter(document_type__in=[CONTRACT, QUOTE], is_active=True)
        .prefetch_related("steps__user")
    }  # fmt: skip
    if not policies:
        return
    users = {u.pk: u for u in User.objects.select_related("org_unit")}
    builder = _Builder(_Approvers(users), rng)
    types = {
        CONTRACT: ContentType.objects.get_by_natural_key("contracts", "contract").pk,
        QUOTE: ContentType.objects.get_by_natural_key("opportunities", "quote").pk,
    }
    existing = set(ApprovalRequest.objects.values_list("content_type_id", "object_id"))
    requests: list[_Request] = []
    skipped = 0
    for (doctype, pk, owner, created, end, pending, title, url, amount, percentage,
         flags) in _documents(ctx):  # fmt: skip
        policy = policies.get(doctype)
        if policy is None or (types[doctype], pk) in existing or owner not in users:
            continue
        request = _Request(
            document_type=doctype, content_type=types[doctype], object_id=pk, policy=policy,
            submitter=owner, title=title, url=url, amount=amount, percentage=percentage,
            flags=sorted(flags), first_at=end,
        )  # fmt: skip
        steps = [
            s for s in policy.steps.all()
            if s.applies(amount=amount, percentage=percentage, flags=flags)
        ]  # fmt: skip
        if not _lay_out(builder, request, steps, created, end, pending=pending, now=ctx.now):
            skipped += 1
            continue
        requests.append(request)
    _copy(ctx, requests)
    pending = sum(1 for r in requests if r.status == RequestStatus.PENDING)
    ctx.log(
        f"  {len(requests):,} approval requests ({pending:,} pending), "
        f"{skipped:,} documents without an approver left out"
    )


def _copy(ctx: ScaleContext, requests: list[_Request]) -> None:
    requests.sort(key=lambda r: (r.first_at, r.document_type, r.object_id))
    for pk, request in zip(ctx.reserve_ids(ApprovalRequest, len(requests)), requests, strict=True):
        request.id = pk
    tasks = [t for r in requests for t in r.tasks]
    tasks.sort(key=lambda t: (t.created, t.request.id, t.step.order, t.approver))
    for pk, task in zip(ctx.reserve_ids(ApprovalTask, len(tasks)), tasks, strict=True):
        task.id = pk

    def request_rows():
        for r in requests:
            yield (
                r.id, r.document_type, r.content_type, r.object_id, r.policy.pk, r.submitter,
                r.title, r.url, r.amount, r.percentage, json.dumps(r.flags), r.round, r.status,
                r.current.order if r.current else None, r.current.name if r.current else "",
                r.submitted_at, r.decided_at, r.first_at, r.updated_at or r.first_at,
            )  # fmt: skip

    def task_rows():
        for t in tasks:
            end = t.decided or _step_end(t) or ctx.now
            policy = t.request.policy
            reminded = _stamp(t.created, policy.remind_after_hours, min(end, ctx.now))
            escalated = _stamp(t.created, policy.escalate_after_hours, min(end, ctx.now))
            yield (
                t.id, t.request.id, t.round, t.step.order, t.step.name, t.step.mode, t.approver,
                None, t.status, t.created, t.decided, reminded, escalated,
            )  # fmt: skip

    def decision_rows():
        # A decision on a task is taken when the task is decided.
        decisions = [(d[6] or d[1].decided, r.id, d) for r in requests for d in r.decisions]
        decisions.sort(key=lambda x: (x[0], x[1]))
        for at, request_id, (number, task, step_name, actor, kind, comment, _at) in decisions:
            yield (request_id, number, task.id if task else None, step_name, actor, None, kind,
                   comment, at)  # fmt: skip

    ctx.copy(ApprovalRequest, REQUEST_COLUMNS, request_rows(), expected=len(requests))
    ctx.copy(ApprovalTask, TASK_COLUMNS, task_rows(), expected=len(tasks))
    count = sum(len(r.decisions) for r in requests)
    ctx.copy(ApprovalDecision, DECISION_COLUMNS, decision_rows(), expected=count)


def _step_end(task: _Task) -> datetime | None:
    """When a task that was never decided stopped waiting: its sibling's decision (superseded
    or cancelled), or None while it waits."""
    if task.status == TaskStatus.WAITING:
        return None
    ends = [
        t.decided for t in task.request.tasks
        if t.round == task.round and t.step.pk == task.step.pk and t.decided is not None
    ]  # fmt: skip
    return max(ends) if ends else None
