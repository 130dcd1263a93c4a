from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "apps.opportunities"
    label = "opportunities"
    verbose_name = _("Pipeline")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.approvals import registry
        from apps.approvals.services import approval_return_to_draft
        from apps.core.navigation import NavItem, register

        from . import quotes
        from .models import Quote

        registry.register(
            registry.DocumentType(
                key="opportunities.quote",
                model=Quote,
                label=_("Quote discount"),
                # The policy's steps apply above a discount percentage (supervisor, manager).
                get_amount=lambda quote: quote.total,
                get_percentage=lambda quote: quote.max_discount_pct,
                on_submitted=quotes.on_quote_submitted,
                on_approved=quotes.on_quote_approved,
                on_rejected=approval_return_to_draft,
            )
        )

        sales_roles = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
        register(
            NavItem(
                "opportunities",
                _("Opportunities"),
                "opportunities:list",
                icon="briefcase",
                order=30,
                roles=sales_roles,
                section="sales",
            )
        )
        register(
            NavItem(
                "pipeline-board",
                _("Pipeline board"),
                "opportunities:board",
                icon="kanban",
                order=31,
                roles=sales_roles,
                section="sales",
            )
        )
        register(
            NavItem(
                "products",
                _("Products"),
                "opportunities:product_list",
                icon="box-seam",
                order=60,
                section="company",
            )
        )
        register(
            NavItem(
                "forecast",
                _("Forecast and funnel"),
                "opportunities:forecast",
                icon="graph-up-arrow",
                order=20,
                roles=sales_roles,
                section="analysis",
            )
        )
