from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "apps.contracts"
    label = "contracts"
    verbose_name = _("Contracts")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.approvals import registry
        from apps.approvals.services import approval_return_to_draft
        from apps.core import lookups  # noqa: F401  (registers `ilike_contains`)
        from apps.core.navigation import NavItem, register

        from . import services
        from .models import Contract, ContractAmendment

        registry.register(
            registry.DocumentType(
                key="contracts.contract",
                model=Contract,
                label=_("Contract"),
                get_amount=lambda contract: contract.amount,
                get_flags=services.contract_flags,
                on_submitted=services.on_contract_submitted,
                on_approved=services.on_contract_approved,
                on_rejected=approval_return_to_draft,
            )
        )
        # An amendment goes through the same chain as a contract, on its new amount
        # (its policy is a copy of the contract's: migration 0002_amendment_policy).
        registry.register(
            registry.DocumentType(
                key="contracts.contractamendment",
                model=ContractAmendment,
                label=_("Contract amendment"),
                get_amount=lambda amendment: amendment.amount,
                on_submitted=services.on_amendment_submitted,
                on_approved=services.on_amendment_approved,
                on_rejected=approval_return_to_draft,
            )
        )
        register(
            NavItem(
                "contracts",
                _("Contracts"),
                "contracts:list",
                icon="file-earmark-text",
                order=40,
                roles=frozenset(Role.values) - {Role.INTEGRATION},
                section="sales",
            )
        )
