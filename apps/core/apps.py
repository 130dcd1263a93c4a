from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from apps.accounts.choices import Role

        from .navigation import NavItem, register

        people_roles = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN, Role.FINANCE})
        # Everyone who signs in to the UI approves or submits; an integration account does not.
        approval_roles = frozenset(Role.values) - {Role.INTEGRATION}
        for item in (
            NavItem(
                "home", _("Home"), "core:home", icon="house-door", order=0, section="workspace"
            ),
            NavItem(
                "approvals",
                _("Approvals"),
                "approvals:inbox",
                icon="check2-square",
                order=10,
                roles=approval_roles,
                section="workspace",
                badge_url="approvals:waiting_badge",
            ),
            NavItem(
                "leads",
                _("Leads"),
                "leads:list",
                icon="funnel",
                order=10,
                roles=approval_roles,
                section="sales",
            ),
            NavItem(
                "org",
                _("Organisation"),
                "accounts:org",
                icon="diagram-3",
                order=10,
                roles=people_roles,
                section="company",
            ),
            NavItem(
                "users",
                _("Users"),
                "accounts:user_list",
                icon="people",
                order=20,
                roles=people_roles,
                section="company",
            ),
            # Lands with the REST API (API.md: interactive docs at /api/docs/); skipped until
            # a URL named "api:docs" exists.
            NavItem(
                "api_docs",
                _("API docs"),
                "api:docs",
                icon="braces",
                order=10,
                roles=frozenset({Role.ADMIN, Role.INTEGRATION}),
                section="system",
            ),
            NavItem(
                "admin",
                _("Admin"),
                "admin:index",
                icon="gear",
                order=20,
                staff_only=True,
                section="system",
            ),
        ):
            register(item)
