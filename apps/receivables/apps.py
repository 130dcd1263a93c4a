from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceivablesConfig(AppConfig):
    name = "apps.receivables"
    label = "receivables"
    verbose_name = _("Receivables")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.approvals import registry
        from apps.approvals.services import approval_return_to_draft
        from apps.core.navigation import NavItem, register
        from apps.customers.credit import register_exposure_source

        from . import exposure, services
        from .models import WriteOff

        register_exposure_source(exposure.open_receivables)
        register_exposure_source(exposure.approved_unsigned_contracts)

        registry.register(
            registry.DocumentType(
                key="receivables.writeoff",
                model=WriteOff,
                label=_("Bad-debt write-off"),
                get_amount=lambda writeoff: writeoff.amount,
                on_submitted=services.on_writeoff_submitted,
                on_approved=services.on_writeoff_approved,
                on_rejected=approval_return_to_draft,
            )
        )

        register(
            NavItem(
                "receivables_workbench",
                _("Finance workbench"),
                "receivables:workbench",
                icon="cash-coin",
                order=10,
                roles=frozenset({Role.FINANCE, Role.ADMIN, Role.MANAGER}),
                section="money",
            )
        )
        register(
            NavItem(
                "receivables_figures",
                _("Receivables figures"),
                "receivables:figures",
                icon="bar-chart-steps",
                order=15,
                roles=frozenset({Role.FINANCE, Role.ADMIN, Role.MANAGER, Role.SUPERVISOR}),
                section="money",
            )
        )
        register(
            NavItem(
                "receivables_my_overdue",
                _("My overdue"),
                "receivables:my_overdue",
                icon="alarm",
                order=20,
                roles=frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER}),
                section="money",
            )
        )
        register(
            NavItem(
                "receivables_collections",
                _("Collection tasks"),
                "receivables:collection_task_list",
                icon="telephone-outbound",
                order=25,
                roles=frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.FINANCE}),
                section="money",
            )
        )
        register(
            NavItem(
                "receivables_payments",
                _("Payments"),
                "receivables:payment_list",
                icon="wallet2",
                order=30,
                roles=frozenset(Role.values) - {Role.INTEGRATION},
                section="money",
            )
        )
        register(
            NavItem(
                "receivables_installments",
                _("Receivables"),
                "receivables:installment_list",
                icon="calendar-check",
                order=40,
                roles=frozenset(Role.values) - {Role.INTEGRATION},
                section="money",
            )
        )
