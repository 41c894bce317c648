from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ControlTowerConfig(AppConfig):
    """The whole chain at once, for the platform admin and the regulator: a live map and
    counters, risk warnings raised by rules kept in the database, 30-day trends and a daily
    digest. It sits above every other app and only reads them, through their selectors."""

    name = "controltower"
    verbose_name = _("Control tower")

    def ready(self) -> None:
        # The risk warnings' tasks (not in controltower/tasks.py, so Celery's autodiscovery
        # does not find them by itself) and the trade receiver that feeds the price rules.
        from .risk import receivers, tasks  # noqa: F401
