from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "apps.visits"
    label = "visits"
    verbose_name = _("Visits")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.core.navigation import NavItem, register

        sales_roles = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
        register(
            NavItem(
                "visits",
                _("Visit calendar"),
                "visits:calendar",
                icon="calendar-week",
                order=40,
                roles=sales_roles,
                section="sales",
            )
        )
        register(
            NavItem(
                "weekly-reports",
                _("Weekly reports"),
                "visits:report_list",
                icon="journal-text",
                order=41,
                roles=sales_roles,
                section="sales",
            )
        )
        register(
            NavItem(
                "visit-figures",
                _("Visit statistics"),
                "visits:figures",
                icon="bar-chart",
                order=30,
                roles=sales_roles,
                section="analysis",
            )
        )
