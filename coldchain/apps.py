from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ColdchainConfig(AppConfig):
    """Shipments, cold stores, loggers, readings, excursions, shelf life, live screens."""

    name = "coldchain"
    verbose_name = _("Cold chain")

    def ready(self) -> None:
        from . import personal_data

        personal_data.register()
