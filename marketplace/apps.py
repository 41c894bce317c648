from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketplaceConfig(AppConfig):
    """Listings, orders, wholesale markets, trades, the settlement ledger, price board."""

    name = "marketplace"
    verbose_name = _("Marketplace and settlement")
