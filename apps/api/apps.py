from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from . import tombstones

        tombstones.connect()  # a tombstone for each deleted record an ERP mirrors
