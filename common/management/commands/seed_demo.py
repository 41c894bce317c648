import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

# Each app that has demo data offers <app>/demo.py with seed(context) -> None; the order
# follows the apps' dependencies. Later apps read what earlier ones made from `context`.
DEMO_MODULES = (
    "accounts.demo",
    "farms.demo",
    "marketplace.markets.demo",
    "marketplace.demo",
    "coldchain.demo",
    "delivery.demo",
    "traceability.demo",
    "controltower.demo",
    "controltower.risk.demo",
)


class Command(BaseCommand):
    help = "Load the demo data (idempotent: running it again changes nothing) and print sign-ins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Seed even with DEBUG off (never in production)."
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with a known password; DEBUG is off.")
        translation.activate("en")
        context: dict = {}
        for module_name in DEMO_MODULES:
            importlib.import_module(module_name).seed(context)
        self.stdout.write("Demo data is loaded. Sign in with any of these:")
        for line in importlib.import_module("accounts.demo").sign_in_lines():
            self.stdout.write(f"  {line}")
