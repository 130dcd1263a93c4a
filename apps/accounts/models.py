"""Users, the org tree and roles (DESIGN.md "accounts").

A user's data scope is derived from the role and the org units they head; see `scope.py`.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.history import track

from .choices import OrgUnitKind, Role
from .names import person_name
from .scope import ScopedQuerySet

PATH_STEP = 10  # digits per level in OrgUnit.path: "0000000001.0000000004."


@track(exclude=["path"])  # the path follows `parent`, which is tracked
class OrgUnit(models.Model):
    """A node of the org tree (组织): company → department/region → team, each with a head.

    `path` is a materialized path of zero-padded ids ("0000000001.0000000004.") kept by `save()`,
    so that "this unit and everything below it" is one indexed prefix match instead of a
    recursive query per request.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgUnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    head = models.ForeignKey(
        "accounts.User",
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_units",
    )
    path = models.CharField(_("tree path"), max_length=255, editable=False, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["path"], name="orgunit_path_like", opclasses=["varchar_pattern_ops"]
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="orgunit_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count(".") - 1 if self.path else 0

    def _own_path(self) -> str:
        prefix = self.parent.path if self.parent_id else ""
        return f"{prefix}{self.pk:0{PATH_STEP}d}."

    def clean(self) -> None:
        super().clean()
        if self.pk and self.parent_id:
            parent = OrgUnit.objects.only("path").get(pk=self.parent_id)
            if self.parent_id == self.pk or (self.path and parent.path.startswith(self.path)):
                raise ValidationError(
                    {"parent": _("A unit cannot be placed under itself or one of its own units.")}
                )

    def save(self, *args, **kwargs) -> None:
        if self.pk is None:
            # The path embeds the id, which exists only after the insert.
            super().save(*args, **kwargs)
            self.path = self._own_path()
            super().save(update_fields=["path"])
            return
        old_path = self.path
        self.path = self._own_path()
        if old_path and self.path != old_path and self.path.startswith(old_path):
            raise ValidationError(
                {"parent": _("A unit cannot be placed under itself or one of its own units.")}
            )
        super().save(*args, **kwargs)
        if old_path and self.path != old_path:
            # Re-root the subtree in one statement (a move of a unit in the tree).
            OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                path=models.functions.Concat(
                    models.Value(self.path),
                    models.functions.Substr("path", len(old_path) + 1),
                    output_field=models.CharField(),
                )
            )

    def is_descendant_of(self, other: OrgUnit) -> bool:
        return self.path.startswith(other.path)


class SalesUserManager(UserManager.from_queryset(ScopedQuerySet)):
    """User manager whose querysets know `visible_to(user)`."""


@track()
class User(AbstractUser):
    """A person (or an ERP integration) using salesctl.

    `role` says what they do; `org_unit` says where they sit in the tree. The units they *head*
    (OrgUnit.head) define whose records they see besides their own.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.REP)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        blank=True,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    objects = SalesUserManager()

    # Data scope: a user "owns" their own row (see scope.py).
    scope_owner_field = "pk"

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        indexes = [models.Index(fields=["org_unit", "role"], name="user_unit_role")]

    def __str__(self) -> str:
        return self.display_name

    def get_full_name(self) -> str:
        return person_name(self.first_name, self.last_name)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_finance(self) -> bool:
        return self.role == Role.FINANCE

    @property
    def is_admin_role(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser
