from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ColdchainConfig(AppConfig):
    """Shipments, cold stores, loggers, readings, excursions, shelf life, live screens."""

    name = "coldchain"
    verbose_name = _("Cold chain")
    # Partition upkeep of the readings (migrations 0008, 0009; coldchain/reading_keeping.py).
    owner_functions = (
        "coldchain_prepare_reading_partition(date)",
        "coldchain_drop_reading_partition(date)",
    )

    def ready(self) -> None:
        from . import personal_data

        personal_data.register()
