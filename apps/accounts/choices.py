"""Roles and org unit kinds."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    SUPERVISOR = "supervisor", _("Sales supervisor")
    MANAGER = "manager", _("Sales manager")
    FINANCE = "finance", _("Finance")
    ADMIN = "admin", _("Administrator")
    INTEGRATION = "integration", _("Integration (API)")


class OrgUnitKind(models.TextChoices):
    COMPANY = "company", _("Company")
    DEPARTMENT = "department", _("Department / region")
    TEAM = "team", _("Team")
