"""The product catalogue: loading products and their storage profiles by code."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..exceptions import InvalidCatalogue
from ..models import Product, StorageProfile


@dataclass(frozen=True)
class CatalogueLoad:
    created: int
    updated: int


PRODUCT_KEYS = ("name_zh", "name_en", "category", "grade_scale")


def load_product_catalogue(*, entries: list[dict[str, Any]]) -> CatalogueLoad:
    """Create or update products and their storage profiles by code; safe to run again.

    All or nothing: one bad entry (a wrong value, a value without a source) loads none.
    """
    created = updated = 0
    with transaction.atomic():
        for entry in entries:
            code = entry.get("code", "?")
            try:
                product_fields = {key: entry[key] for key in PRODUCT_KEYS}
                storage_fields = dict(entry["storage"])
            except (KeyError, TypeError) as exc:
                raise InvalidCatalogue(
                    _("%(code)s: missing %(key)s.") % {"code": code, "key": exc}
                ) from exc
            product_fields["is_active"] = entry.get("is_active", True)
            if "gtin" in entry:  # the trade item number, where the product has one
                product_fields["gtin"] = entry["gtin"]
            product = Product.objects.filter(code=code).first() or Product(code=code)
            was_created = product.pk is None
            for key, value in product_fields.items():
                setattr(product, key, value)
            profile = (
                StorageProfile.objects.filter(product=product).first() if not was_created else None
            ) or StorageProfile()
            for key, value in storage_fields.items():
                if key not in (*StorageProfile.VALUE_FIELDS, "sources"):
                    raise InvalidCatalogue(
                        _("%(code)s: unknown field %(key)s.") % {"code": code, "key": key}
                    )
                setattr(profile, key, value)
            _check_catalogue_entry(product, profile)
            product.save()
            profile.product = product
            profile.save()
            created += was_created
            updated += not was_created
    return CatalogueLoad(created=created, updated=updated)


def _check_catalogue_entry(product: Product, profile: StorageProfile) -> None:
    try:
        product.full_clean(validate_unique=False, validate_constraints=False)
        profile.full_clean(exclude=["product"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidCatalogue(
            _("%(code)s: %(errors)s") % {"code": product.code, "errors": exc.message_dict}
        ) from exc
    missing = profile.missing_sources()
    if missing:
        raise InvalidCatalogue(
            _("%(code)s: no source for %(fields)s.")
            % {"code": product.code, "fields": ", ".join(missing)}
        )
