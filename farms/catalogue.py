"""The shipped product catalogue file and its reader."""

import json
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from .exceptions import InvalidCatalogue

CATALOGUE_FILE = Path(__file__).resolve().parent / "fixtures" / "catalogue.json"


def read_catalogue(path: Path = CATALOGUE_FILE) -> list[dict[str, Any]]:
    """The product entries of a catalogue file ({"products": [...]})."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidCatalogue(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc
    products = document.get("products") if isinstance(document, dict) else None
    if not isinstance(products, list):
        raise InvalidCatalogue(_("%(path)s has no list of products.") % {"path": path})
    return products
