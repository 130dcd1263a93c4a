"""factory_boy factories shared by every test package."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from apps.accounts.choices import OrgUnitKind, Role
from apps.accounts.models import OrgUnit, User

PASSWORD = "demo12345"
# Hashing once keeps factories fast; every factory user logs in with PASSWORD.
_PASSWORD_HASH = make_password(PASSWORD)  # with the test hasher


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"Unit {n}")
    kind = OrgUnitKind.TEAM


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.REP
    password = _PASSWORD_HASH
    is_active = True
