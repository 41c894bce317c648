from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FARMER = "farmer", _("Farmer")
    COOPERATIVE_MANAGER = "cooperative_manager", _("Co-operative manager")
    MARKET_OPERATOR = "market_operator", _("Market operator")
    BUYER = "buyer", _("Buyer")
    WAREHOUSE_MANAGER = "warehouse_manager", _("Warehouse manager")
    COURIER = "courier", _("Courier")
    COLDCHAIN_CONTROLLER = "coldchain_controller", _("Cold-chain controller")
    CONSUMER = "consumer", _("Consumer")
    ADMIN = "admin", _("Platform admin")
