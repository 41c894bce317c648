from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from farms.catalogue import CATALOGUE_FILE, read_catalogue
from farms.exceptions import FarmsError
from farms.services.catalogue import load_product_catalogue


class Command(BaseCommand):
    help = (
        "Create or update the product catalogue and storage profiles from "
        "farms/fixtures/catalogue.json, by product code. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", type=Path, default=CATALOGUE_FILE, help="Catalogue JSON file to load."
        )

    def handle(self, *args, file: Path, **options):
        try:
            result = load_product_catalogue(entries=read_catalogue(file))
        except FarmsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Catalogue loaded: {result.created} products created, {result.updated} updated."
        )
