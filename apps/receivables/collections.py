"""Collection (催收): records of contacts with a customer about money owed, with an optional
promise to pay (承诺付款: date and amount, checked by the daily job), and the collection tasks
the daily job opens when an installment enters an aging bucket.

Writes (services) and scoped reads (selectors) of both, for the pages and the API:

- a record is written by the customer's owner, a head over the owner, or finance; the contact
  and the installment, when given, must be the customer's; a promise has both its date (today
  or later) and its amount, or neither;
- a record is visible to whoever sees its recorder (data scope of money documents) and to
  whoever sees the customer's owner, so that a rep reads the notes finance wrote about their
  customer;
- a task is visible to whoever sees its assignee; the assignee, a head over them, or finance
  marks it done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.accounts.scope import can_see_user, scope_q
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.customers.models import Contact, Customer

from .choices import CollectionMethod, CollectionTaskStatus, PromiseStatus
from .models import CollectionRecord, CollectionTask, Installment
from .services import to_money

HEAD_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})


# --- permissions -------------------------------------------------------------------------


def can_record_collection(user: User, customer: Customer) -> bool:
    """The customer's owner, a head over the owner (or an admin), or finance."""
    if not user.is_active:
        return False
    if user.role == Role.FINANCE or user.is_superuser or user.role == Role.ADMIN:
        return True
    if customer.owner_id is None:
        return False
    if customer.owner_id == user.pk:
        return True
    return user.role in HEAD_ROLES and can_see_user(user, customer.owner_id)


def can_finish_task(user: User, task: CollectionTask) -> bool:
    """The assignee, a head over them, or finance."""
    if not user.is_active:
        return False
    if task.owner_id == user.pk or user.role == Role.FINANCE:
        return True
    return (user.role in HEAD_ROLES or user.is_superuser) and can_see_user(user, task.owner_id)


# --- records: services -------------------------------------------------------------------


def _promise(promised_on: Any, promised_amount: Any, today: date) -> dict[str, list]:
    errors: dict[str, list] = {}
    given_on = promised_on not in (None, "")
    given_amount = promised_amount not in (None, "")
    if given_on != given_amount:
        field = "promised_amount" if given_on else "promised_on"
        errors[field] = [
            ValidationError(
                _("A promise to pay needs both its date and its amount."), code="promise_incomplete"
            )
        ]
        return errors
    if given_on and promised_on < today:
        errors["promised_on"] = [
            ValidationError(_("The promised date cannot be in the past."), code="past")
        ]
    return errors


def _amount(value: Any) -> Decimal | None:
    return None if value in (None, "") else to_money(value, field="promised_amount")


@transaction.atomic
def collection_record_create(
    *,
    by: User,
    customer: Customer,
    method: str,
    notes: str,
    contact: Contact | None = None,
    installment: Installment | None = None,
    promised_on: date | None = None,
    promised_amount: Any = None,
) -> CollectionRecord:
    """Record a collection contact (催收记录) with a customer: how, what was said, whom, for
    which installment, and optionally a promise to pay (date and amount) that the daily job
    will check after its date."""
    if not can_record_collection(by, customer):
        raise PermissionDenied(_("You cannot record collection for this customer."))
    notes = (notes or "").strip()
    errors: dict[str, list] = {}
    if method not in CollectionMethod.values:
        errors["method"] = [ValidationError(_("Choose how you contacted them."), code="invalid")]
    if not notes:
        errors["notes"] = [ValidationError(_("Say what was said."), code="required")]
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = [
            ValidationError(_("This contact is not one of the customer's."), code="invalid")
        ]
    if installment is not None and installment.customer_id != customer.pk:
        errors["installment"] = [
            ValidationError(_("This installment is not the customer's."), code="invalid")
        ]
    amount = None
    try:
        amount = _amount(promised_amount)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    errors.update(_promise(promised_on, amount if amount is not None else promised_amount,
                           timezone.localdate()))  # fmt: skip
    if errors:
        raise ValidationError(errors)
    with history_context(action="collection_record_create"):
        return CollectionRecord.objects.create(
            customer=customer,
            installment=installment,
            contact=contact,
            owner=by,
            method=method,
            notes=notes,
            promised_on=promised_on,
            promised_amount=amount,
            promise_status=PromiseStatus.PENDING if promised_on else PromiseStatus.NONE,
        )


# --- records: selectors ------------------------------------------------------------------


def _record_scope(user: User) -> Q:
    return scope_q(user, owner_field="owner", money=True) | scope_q(
        user, owner_field="customer__owner", money=True
    )


def collection_record_list(
    *,
    user: User,
    customer: int | None = None,
    installment: int | None = None,
    promise: str = "",
    search: str = "",
) -> QuerySet[CollectionRecord]:
    """Collection records `user` may see, newest first, with customer, installment (and its
    contract), contact and recorder joined."""
    qs = CollectionRecord.objects.filter(_record_scope(user)).select_related(
        "customer", "installment__contract", "contact", "owner"
    )
    if customer is not None:
        qs = qs.filter(customer_id=customer)
    if installment is not None:
        qs = qs.filter(installment_id=installment)
    if promise:
        qs = qs.filter(promise_status=promise)
    if search:
        qs = qs.filter(Q(customer__name__icontains=search) | Q(notes__icontains=search))
    return qs.order_by("-created_at", "-id")


def collection_record_get(*, user: User, pk: int) -> CollectionRecord:
    return get_object_or_404(collection_record_list(user=user), pk=pk)


def collection_customer_get(*, user: User, pk: int) -> Customer:
    """A customer `user` may record collection for (the form's customer), else 404."""
    return get_object_or_404(
        Customer.objects.filter(
            scope_q(user, owner_field="owner", money=True)
            | Q(pk__in=Installment.objects.visible_to(user).values("customer_id"))
        ),
        pk=pk,
    )


def collection_customer_search(*, user: User, q: str, limit: int = 10) -> list[Customer]:
    """Customers with receivables `user` may see whose name contains `q` (search-as-you-type;
    never the whole table)."""
    q = (q or "").strip()
    if len(q) < 1:
        return []
    ids = Installment.objects.visible_to(user).values("customer_id")
    return list(Customer.objects.filter(pk__in=ids, name__icontains=q).order_by("name")[:limit])


# --- tasks -------------------------------------------------------------------------------


def collection_task_list(
    *, user: User, mine: bool = True, status: str = CollectionTaskStatus.OPEN
) -> QuerySet[CollectionTask]:
    """Collection tasks: `mine` the user's own, else every task in the user's scope (a
    supervisor's team); open ones first by due date."""
    qs = CollectionTask.objects.visible_to(user).select_related(
        "customer", "installment__contract", "owner"
    )
    if mine:
        qs = qs.filter(owner=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "due_on", "id")


def collection_task_get(*, user: User, pk: int) -> CollectionTask:
    return get_object_or_404(collection_task_list(user=user, mine=False, status=""), pk=pk)


@transaction.atomic
def collection_task_done(*, task: CollectionTask, by: User) -> CollectionTask:
    """Mark a collection task done (the assignee, a head over them, or finance)."""
    task = CollectionTask.objects.select_for_update().get(pk=task.pk)
    if not can_finish_task(by, task):
        raise PermissionDenied(_("You cannot complete this collection task."))
    if task.status == CollectionTaskStatus.DONE:
        raise Conflict(_("This collection task is already done."), code="already_done")
    task.status = CollectionTaskStatus.DONE
    task.done_at = timezone.now()
    with history_context(action="collection_task_done"):
        task.save(update_fields=["status", "done_at", "updated_at"])
    return task


@dataclass(frozen=True)
class TaskCounts:
    open: int
    overdue: int


def collection_task_counts(*, user: User) -> TaskCounts:
    """The user's open tasks and how many of them are past due (for the page header)."""
    qs = CollectionTask.objects.filter(owner=user, status=CollectionTaskStatus.OPEN)
    today = timezone.localdate()
    agg = qs.aggregate(open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today)))
    return TaskCounts(open=agg["open"], overdue=agg["overdue"])
