from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FarmsConfig(AppConfig):
    name = "farms"
    verbose_name = _("Farms and master data")

    def ready(self) -> None:
        from . import personal_data

        personal_data.register()
