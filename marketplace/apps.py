from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    """Listings, orders, wholesale markets, trades, price board (money moves in settlement)."""

    name = "marketplace"
    verbose_name = _("Marketplace")

    def ready(self) -> None:
        from . import personal_data

        personal_data.register()
