import importlib
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "The load test's accounts and objects on top of the demo (idempotent), and a JSON file "
        "of their credentials for bench/load (make load)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", help="Where to write the credentials file.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Prepare even with DEBUG off (never in production).",
        )

    def handle(self, *args, output: str | None = None, force: bool = False, **options):
        # The load accounts share the demo's public password, as the demo's own do.
        if not settings.DEBUG and not force:
            raise CommandError("prepare_load creates accounts with a known password; DEBUG is off.")
        # bench/ is not an app: imported by name, as seed_demo imports the apps' demo modules.
        fixtures = importlib.import_module("bench.load.fixtures")
        path = Path(output) if output else fixtures.DEFAULT_OUTPUT
        try:
            data = fixtures.prepare(output=path)
        except RuntimeError as error:
            raise CommandError(str(error)) from error
        counts = ", ".join(
            f"{len(data[key])} {key}"
            for key in ("loggers", "couriers", "consumers", "operators", "buyer_cards", "buyers")
        )
        self.stdout.write(f"Load pool ready ({counts}); credentials in {path}")
