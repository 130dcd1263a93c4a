from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from apps.accounts.choices import Role
        from apps.core.navigation import NavItem, register

        register(
            NavItem(
                "webhooks", _("Webhooks"), "webhooks:subscription_list", icon="broadcast",
                order=40, roles=frozenset({Role.ADMIN}), section="system",
            )
        )  # fmt: skip
