"""Customer use cases: create and update customers and their contacts.

Every write is one function (STYLE.md): keyword-only arguments, one transaction, the row locked
before it changes, the actor's right checked (`PermissionDenied`), bad input a field
`ValidationError` that changes nothing. History is recorded by the pghistory triggers on the
tracked models, with the request's user from the middleware.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.scope import Scope, can_see_user, scope_of

from .models import Contact, Customer
from .normalization import normalize_credit_code, validate_phone
from .selectors import customer_editable_q

CUSTOMER_FIELDS = (
    "name",
    "credit_code",
    "industry",
    "size",
    "region",
    "address",
    "phone",
    "email",
    "website",
    "tier",
)
CONTACT_FIELDS = ("name", "title", "decision_role", "phone", "email", "is_primary", "notes")


def _clean_customer_data(data: dict[str, Any], *, instance: Customer | None) -> dict[str, Any]:
    """Normalize and check the profile fields; raise one ValidationError naming every bad
    field."""
    errors: dict[str, list] = {}
    cleaned = {k: v for k, v in data.items() if k in CUSTOMER_FIELDS}
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = [ValidationError(_("Enter the company name."), code="required")]
    if "credit_code" in cleaned:
        try:
            cleaned["credit_code"] = normalize_credit_code(cleaned["credit_code"])
        except ValidationError as exc:
            errors["credit_code"] = [exc]
        else:
            code = cleaned["credit_code"]
            others = Customer.objects.filter(credit_code=code)
            if instance is not None:
                others = others.exclude(pk=instance.pk)
            if code and others.exists():
                errors["credit_code"] = [_duplicate_credit_code()]
    if cleaned.get("phone"):
        try:
            validate_phone(cleaned["phone"])
        except ValidationError as exc:
            errors["phone"] = [exc]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _duplicate_credit_code() -> ValidationError:
    return ValidationError(
        _("A customer with this unified social credit code already exists."),
        code="duplicate_credit_code",
    )


def _save_customer(customer: Customer) -> None:
    """Save, turning a credit code taken by a concurrent writer into the same field error."""
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        if "customer_unique_credit_code" in str(exc):
            raise ValidationError({"credit_code": [_duplicate_credit_code()]}) from None
        raise


def _check_owner(by: User, owner: User | None) -> User:
    """The owner of a new customer: the creator, or someone in the creator's scope."""
    if owner is None:
        return by
    if owner.pk != by.pk and not can_see_user(by, owner.pk):
        raise ValidationError(
            {"owner": [ValidationError(_("Choose an owner in your team."), code="invalid")]}
        )
    return owner


@transaction.atomic
def customer_create(*, by: User, data: dict[str, Any], owner: User | None = None) -> Customer:
    """Create a customer (a prospect) owned by `owner` (default: the creator).

    The credit code is checksum-validated and unique: a wrong or taken one is an error of the
    `credit_code` field.
    """
    if scope_of(by) is Scope.NONE:
        raise PermissionDenied(_("You cannot create customers."))
    cleaned = _clean_customer_data(data, instance=None)
    if "name" not in cleaned:
        raise ValidationError({"name": [_("Enter the company name.")]})
    customer = Customer(**cleaned, owner=_check_owner(by, owner))
    _save_customer(customer)
    return customer


def _lock_editable(customer: Customer, by: User) -> Customer:
    """The customer row, locked, if `by` may change it; PermissionDenied otherwise."""
    locked = (
        Customer.objects.select_for_update().filter(customer_editable_q(by), pk=customer.pk).first()
    )
    if locked is None:
        raise PermissionDenied(_("You cannot change this customer."))
    return locked


@transaction.atomic
def customer_update(*, customer: Customer, by: User, data: dict[str, Any]) -> Customer:
    """Change a customer's profile. Owner, status, credit and pool fields are not changed
    here: each has its own use case (claim/release, development, credit)."""
    customer = _lock_editable(customer, by)
    cleaned = _clean_customer_data(data, instance=customer)
    for name, value in cleaned.items():
        setattr(customer, name, value)
    _save_customer(customer)
    return customer


def _clean_contact_data(data: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in data.items() if k in CONTACT_FIELDS}
    errors: dict[str, list] = {}
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = [ValidationError(_("Enter the contact's name."), code="required")]
    if cleaned.get("phone"):
        try:
            validate_phone(cleaned["phone"])
        except ValidationError as exc:
            errors["phone"] = [exc]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _unset_other_primary(contact: Contact) -> None:
    if contact.is_primary:
        for other in Contact.objects.filter(
            customer_id=contact.customer_id, is_primary=True
        ).exclude(pk=contact.pk):
            other.is_primary = False
            other.save(update_fields=["is_primary", "updated_at"])


@transaction.atomic
def contact_create(*, customer: Customer, by: User, data: dict[str, Any]) -> Contact:
    """Add a contact to a customer `by` may change; a new primary contact replaces the old."""
    customer = _lock_editable(customer, by)
    cleaned = _clean_contact_data(data)
    if "name" not in cleaned:
        raise ValidationError({"name": [_("Enter the contact's name.")]})
    contact = Contact.objects.create(customer=customer, **cleaned)
    _unset_other_primary(contact)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by: User, data: dict[str, Any]) -> Contact:
    """Change a contact of a customer `by` may change."""
    _lock_editable(contact.customer, by)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    for name, value in _clean_contact_data(data).items():
        setattr(contact, name, value)
    contact.save()
    _unset_other_primary(contact)
    return contact


def can_edit_customer(user: User, customer: Customer) -> bool:
    """Whether `user` may change the customer's profile and contacts (for the buttons; the
    services check it again under the row lock)."""
    return Customer.objects.filter(customer_editable_q(user), pk=customer.pk).exists()
