from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraceabilityConfig(AppConfig):
    """Certificates, market entry checks, a lot's journey, public trace pages and recalls.

    It sits above every other app and reads them through their selectors; none of them imports
    it. What it decides about a lot (held, admitted at a market) it writes into farms' lot
    holds and admissions, which the selling apps read.
    """

    name = "traceability"
    verbose_name = _("Traceability")

    def ready(self) -> None:
        from . import personal_data

        personal_data.register()
