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
from django.http import Http404
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.scope import Scope, can_see_user, scope_of
from apps.core.versions import check_version

from .models import Contact, Customer
from .normalization import normalize_credit_code, validate_phone
from .selectors import customer_editable_q, customer_list

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
    "external_id",
)
CONTACT_FIELDS = (
    "name",
    "title",
    "decision_role",
    "phone",
    "email",
    "is_primary",
    "notes",
    "external_id",
)


def customer_fields_clean(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list]]:
    """Normalize and check the profile fields in `data` without the database (no uniqueness
    check): (cleaned, errors per field). Shared by the single writes and the bulk upsert
    (`bulk.customer_bulk_upsert`), which checks uniqueness for a whole batch at once."""
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
    if cleaned.get("phone"):
        try:
            validate_phone(cleaned["phone"])
        except ValidationError as exc:
            errors["phone"] = [exc]
    if "external_id" in cleaned:
        cleaned["external_id"] = (cleaned["external_id"] or "").strip()
        if len(cleaned["external_id"]) > 100:
            errors["external_id"] = [_("At most 100 characters.")]
    return cleaned, errors


def _clean_customer_data(data: dict[str, Any], *, instance: Customer | None) -> dict[str, Any]:
    """Normalize and check the profile fields; raise one ValidationError naming every bad
    field."""
    cleaned, errors = customer_fields_clean(data)
    others = Customer.objects.all()
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    code = cleaned.get("credit_code")
    if code and "credit_code" not in errors and others.filter(credit_code=code).exists():
        errors["credit_code"] = [_duplicate_credit_code()]
    key = cleaned.get("external_id")
    if key and "external_id" not in errors and others.filter(external_id=key).exists():
        errors["external_id"] = [_duplicate_external_id()]
    if errors:
        raise ValidationError({name: errors[name] for name in CUSTOMER_FIELDS if name in errors})
    return cleaned


def _duplicate_external_id() -> ValidationError:
    return ValidationError(
        _("Another record already has this external id."), code="duplicate_external_id"
    )


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
        if "customer_unique_external_id" in str(exc):
            raise ValidationError({"external_id": [_duplicate_external_id()]}) from None
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
def customer_update(
    *, customer: Customer, by: User, data: dict[str, Any], expected_version: int | None = None
) -> Customer:
    """Change a customer's profile. Owner, status, credit and pool fields are not changed
    here: each has its own use case (claim/release, development, credit). With
    `expected_version`, StaleVersion if it changed since the writer read it."""
    customer = _lock_editable(customer, by)
    check_version(customer, expected_version)
    cleaned = _clean_customer_data(data, instance=customer)
    for name, value in cleaned.items():
        setattr(customer, name, value)
    _save_customer(customer)
    return customer


def _clean_contact_data(data: dict[str, Any], *, instance: Contact | None = None) -> dict[str, Any]:
    cleaned = {k: v for k, v in data.items() if k in CONTACT_FIELDS}
    errors: dict[str, list] = {}
    if "external_id" in cleaned:
        cleaned["external_id"] = (cleaned["external_id"] or "").strip()
        others = Contact.objects.filter(external_id=cleaned["external_id"])
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        if len(cleaned["external_id"]) > 100:
            errors["external_id"] = [_("At most 100 characters.")]
        elif cleaned["external_id"] and others.exists():
            errors["external_id"] = [_duplicate_external_id()]
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
def contact_update(
    *, contact: Contact, by: User, data: dict[str, Any], expected_version: int | None = None
) -> Contact:
    """Change a contact of a customer `by` may change (StaleVersion as `customer_update`)."""
    _lock_editable(contact.customer, by)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    check_version(contact, expected_version)
    for name, value in _clean_contact_data(data, instance=contact).items():
        setattr(contact, name, value)
    contact.save()
    _unset_other_primary(contact)
    return contact


def _external_key(external_id: Any) -> str:
    key = str(external_id or "").strip()
    if not key or len(key) > 100 or "\x00" in key:  # Postgres text cannot hold NUL
        raise ValidationError({"external_id": [_("Give an external id of 1 to 100 characters.")]})
    return key


@transaction.atomic
def customer_upsert_external(
    *,
    by: User,
    external_id: str,
    data: dict[str, Any],
    owner: User | None = None,
    expected_version: int | None = None,
) -> tuple[Customer, bool]:
    """Create or update the customer the ERP knows as `external_id` (API.md "ERP
    integration"): (customer, created). An existing one outside `by`'s scope is a 404; one
    changed since the version the ERP read (`expected_version`) raises StaleVersion. Two
    concurrent first upserts of one id: the loser updates what the winner created."""
    key = _external_key(external_id)
    data = {**data, "external_id": key}
    for _attempt in range(2):
        existing = Customer.objects.select_for_update().filter(external_id=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return customer_create(by=by, data=data, owner=owner), True
            except ValidationError as exc:
                if "external_id" not in getattr(exc, "error_dict", {}):
                    raise
                continue  # created meanwhile by a concurrent upsert: update it
        if not customer_list(user=by).filter(pk=existing.pk).exists():
            raise Http404
        return customer_update(
            customer=existing, by=by, data=data, expected_version=expected_version
        ), False
    raise ValidationError({"external_id": [_duplicate_external_id()]})


@transaction.atomic
def contact_upsert_external(
    *,
    by: User,
    external_id: str,
    customer: Customer | None,
    data: dict[str, Any],
    expected_version: int | None = None,
) -> tuple[Contact, bool]:
    """Create or update the contact the ERP knows as `external_id`; `customer` is required
    to create one (and moves nothing on an update)."""
    key = _external_key(external_id)
    data = {**data, "external_id": key}
    existing = Contact.objects.select_for_update().filter(external_id=key).first()
    if existing is None:
        if customer is None:
            raise ValidationError({"customer": [_("Give the contact's customer.")]})
        return contact_create(customer=customer, by=by, data=data), True
    if not customer_list(user=by).filter(pk=existing.customer_id).exists():
        raise Http404
    return contact_update(
        contact=existing, by=by, data=data, expected_version=expected_version
    ), False


def can_edit_customer(user: User, customer: Customer) -> bool:
    """Whether `user` may change the customer's profile and contacts (for the buttons; the
    services check it again under the row lock)."""
    return Customer.objects.filter(customer_editable_q(user), pk=customer.pk).exists()
