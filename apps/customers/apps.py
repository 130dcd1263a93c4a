from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "apps.customers"
    label = "customers"
    verbose_name = _("Customers and credit")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.approvals import registry
        from apps.approvals.services import approval_return_to_draft
        from apps.core import lookups  # noqa: F401  (registers `ilike_contains`)
        from apps.core.navigation import NavItem, register

        from . import credit, development
        from .models import CreditLimitRequest, DevelopmentApplication

        registry.register(
            registry.DocumentType(
                key="customers.developmentapplication",
                model=DevelopmentApplication,
                label=_("New-customer development application"),
                on_submitted=development.on_development_submitted,
                on_approved=development.on_development_approved,
                on_rejected=approval_return_to_draft,
            )
        )
        registry.register(
            registry.DocumentType(
                key="customers.creditlimitrequest",
                model=CreditLimitRequest,
                label=_("Credit limit request"),
                # The policy's step conditions (finance above 200,000) read the new limit.
                get_amount=lambda limit_request: limit_request.requested_limit,
                on_submitted=credit.on_limit_request_submitted,
                on_approved=credit.on_limit_request_approved,
                on_rejected=approval_return_to_draft,
            )
        )

        # Everyone who works with customers in the UI; an integration account uses the API.
        customer_roles = frozenset(Role.values) - {Role.INTEGRATION}
        register(
            NavItem(
                "customers",
                _("Customers"),
                "customers:list",
                icon="building",
                order=20,
                roles=customer_roles,
                section="sales",
            )
        )
