from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "apps.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.core.navigation import NavItem, register

        # The lead list itself is registered by apps.core; the SLA report is for those who
        # oversee others' leads (the page answers 404 to anyone else).
        register(
            NavItem(
                "leads_sla",
                _("Response SLA"),
                "leads:sla",
                icon="stopwatch",
                order=10,
                roles=frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}),
                section="analysis",
            )
        )
        register(
            NavItem(
                "lead_sources",
                _("Lead sources"),
                "leads:sources",
                icon="diagram-3",
                order=11,
                roles=frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}),
                section="analysis",
            )
        )
