from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    """Front warehouses, stock, consumer orders, couriers, dispatch, tasks."""

    name = "delivery"
    verbose_name = _("Front warehouses and delivery")

    def ready(self) -> None:
        from . import personal_data

        personal_data.register()
