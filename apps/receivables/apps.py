from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceivablesConfig(AppConfig):
    name = "apps.receivables"
    label = "receivables"
    verbose_name = _("Receivables")

    def ready(self) -> None:
        from apps.customers.credit import register_exposure_source

        from . import exposure

        register_exposure_source(exposure.open_receivables)
        register_exposure_source(exposure.approved_unsigned_contracts)
