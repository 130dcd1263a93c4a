"""Writes of accounts that users make themselves (the admin pages manage the rest)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from .models import User

PROFILE_FIELDS = ("last_name", "first_name", "email", "phone", "language")


@transaction.atomic
def user_profile_update(*, user: User, by: User, data: dict) -> User:
    """A user edits their own profile: name, e-mail, phone, preferred language. Role, org unit
    and username stay the admin's. The history keeps who changed what."""
    if by.pk != user.pk:
        raise PermissionDenied(_("You can only edit your own profile."))
    user = User.objects.select_for_update().get(pk=user.pk)
    changed = [f for f in PROFILE_FIELDS if f in data and getattr(user, f) != data[f]]
    for field in changed:
        setattr(user, field, data[field])
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user
