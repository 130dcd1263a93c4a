from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "apps.opportunities"
    label = "opportunities"
    verbose_name = _("Pipeline")

    def ready(self) -> None:
        from apps.approvals import registry

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
                on_rejected=quotes.on_quote_returned,
            )
        )
