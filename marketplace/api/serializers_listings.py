from decimal import Decimal

from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import ChoicesFromContext, DecimalStringField, LocationField
from common.api.schema import DECIMAL_STRING, NULLABLE_DECIMAL_STRING
from common.money import price_per_unit
from common.units import WeightUnit, kg_in, unit_of
from farms.choices import Certification, Grade, ProductCategory
from marketplace.choices import ListingStatus
from marketplace.models import Listing
from marketplace.selectors.listings import SearchResult
from marketplace.selectors.pickup import (
    distance_shown_km,
    km_shown,
    listings_with_exact_pickup_for,
    pickup_point_shown,
)

_DATETIME = serializers.DateTimeField()
MAX_INPUT_DIGITS = 16  # parsing only; the services refuse too many decimals with a message


def _datetime(value) -> str:
    return _DATETIME.to_representation(value)  # as DRF writes them (ISO 8601, local zone)


def _weight_unit(context: dict) -> str:
    user = getattr(context.get("request"), "user", None)
    return unit_of(user)


class ListingCreateInputSerializer(serializers.Serializer):
    lot = ChoicesFromContext(
        context_key="lot_choices", help_text=_("A harvest lot of your farm (or a member's).")
    )
    price = serializers.DecimalField(max_digits=MAX_INPUT_DIGITS, decimal_places=6)
    price_unit = serializers.ChoiceField(
        choices=WeightUnit.choices,
        default=WeightUnit.KG,
        help_text=_("Whether `price` is per kg or per jin (斤, half a kg)."),
    )
    available_kg = serializers.DecimalField(max_digits=MAX_INPUT_DIGITS, decimal_places=6)
    minimum_order_kg = serializers.DecimalField(
        max_digits=MAX_INPUT_DIGITS, decimal_places=6, default=Decimal("1")
    )
    available_from = serializers.DateTimeField(
        required=False, allow_null=True, help_text=_("Now when left out.")
    )
    available_until = serializers.DateTimeField()
    pickup_point = LocationField(
        required=False, allow_null=True, help_text=_("WGS 84; the farm's location when left out.")
    )
    notes = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    publish = serializers.BooleanField(
        default=True, help_text=_("False keeps it as a draft, not yet on sale.")
    )


class ListingUpdateInputSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=MAX_INPUT_DIGITS, decimal_places=6, required=False)
    price_unit = serializers.ChoiceField(choices=WeightUnit.choices, default=WeightUnit.KG)
    available_kg = serializers.DecimalField(
        max_digits=MAX_INPUT_DIGITS, decimal_places=6, required=False
    )
    minimum_order_kg = serializers.DecimalField(
        max_digits=MAX_INPUT_DIGITS, decimal_places=6, required=False
    )
    available_from = serializers.DateTimeField(required=False)
    available_until = serializers.DateTimeField(required=False)
    pickup_point = LocationField(required=False)
    notes = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ListingPhotoInputSerializer(serializers.Serializer):
    # A FileField, not an ImageField: the photo service does the image checks (Pillow).
    image = serializers.FileField()


class ListingPhotoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    width = serializers.IntegerField(read_only=True)
    height = serializers.IntegerField(read_only=True)
    position = serializers.IntegerField(read_only=True)

    def get_image_url(self, photo) -> str:
        return photo.image.url

    def get_thumbnail_url(self, photo) -> str:
        return photo.thumbnail.url


# Explicit fields, not ModelSerializer: the search list is the busiest read of the market.
class ListingOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    status = serializers.CharField(read_only=True)
    status_label = serializers.SerializerMethodField()
    product = serializers.CharField(source="product.code", read_only=True)
    product_name_zh = serializers.CharField(source="product.name_zh", read_only=True)
    product_name_en = serializers.CharField(source="product.name_en", read_only=True)
    category = serializers.CharField(source="product.category", read_only=True)
    category_label = serializers.SerializerMethodField()
    grade = serializers.CharField(read_only=True)
    grade_label = serializers.SerializerMethodField()
    certifications = serializers.SerializerMethodField()
    harvest_date = serializers.DateField(read_only=True)
    price_per_kg = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField(
        help_text="Price per the user's weight unit (price_unit)."
    )
    price_unit = serializers.SerializerMethodField()
    available_kg = DecimalStringField()
    available = serializers.SerializerMethodField(help_text="Available, in price_unit.")
    minimum_order_kg = DecimalStringField()
    available_from = serializers.DateTimeField(read_only=True)
    available_until = serializers.DateTimeField(read_only=True)
    pickup_point = serializers.SerializerMethodField()
    distance_km = serializers.SerializerMethodField()
    lot = serializers.IntegerField(source="lot_id", read_only=True)
    seller = serializers.IntegerField(source="seller_id", read_only=True)
    farm_name = serializers.CharField(read_only=True)
    cooperative_name = serializers.CharField(read_only=True)
    thumbnail_url = serializers.SerializerMethodField()
    notes = serializers.CharField(read_only=True)
    held_reason = serializers.SerializerMethodField(
        help_text="Why the lot is held everywhere (a recall): it may not be ordered. Null "
        "when it is not held."
    )

    def get_status_label(self, listing: Listing) -> str:
        return str(ListingStatus(listing.status).label)

    def get_held_reason(self, listing: Listing) -> str | None:
        return getattr(listing, "held_reason", None)

    def get_category_label(self, listing: Listing) -> str:
        return str(ProductCategory(listing.product.category).label)

    def get_grade_label(self, listing: Listing) -> str:
        return str(Grade(listing.grade).label)

    @extend_schema_field(
        {"type": "array", "items": {"type": "object"}, "description": "value and label"}
    )
    def get_certifications(self, listing: Listing) -> list[dict]:
        return [
            {"value": value, "label": str(Certification(value).label)}
            for value in listing.certifications
        ]

    @extend_schema_field(DECIMAL_STRING)
    def get_price_per_kg(self, listing: Listing) -> str:
        return str(listing.price_per_kg.amount)

    def get_currency(self, listing: Listing) -> str:
        return str(listing.price_per_kg.currency)

    @extend_schema_field(DECIMAL_STRING)
    def get_price(self, listing: Listing) -> str:
        unit = _weight_unit(self.context)
        return str(price_per_unit(listing.price_per_kg, unit).amount)

    def get_price_unit(self, listing: Listing) -> str:
        return _weight_unit(self.context)

    @extend_schema_field(DECIMAL_STRING)
    def get_available(self, listing: Listing) -> str:
        return str(kg_in(_weight_unit(self.context), listing.available_kg))

    def _exact_pickup(self, listing: Listing) -> bool:
        """Whether this viewer sees the exact pickup point (pickup.py says who does); a
        page passes the answer for all its rows in the context as `exact_pickup`."""
        exact = self.context.get("exact_pickup")
        if exact is None:
            user = getattr(self.context.get("request"), "user", None)
            exact = listings_with_exact_pickup_for(user, [listing])
        return listing.pk in exact

    @extend_schema_field(
        {
            "type": "object",
            "description": (
                "GeoJSON Point (WGS 84): exact for the seller's side and the buyer of an "
                "accepted order, else snapped to a 0.01° grid (about 1 km)"
            ),
            "example": {},
        }
    )
    def get_pickup_point(self, listing: Listing) -> dict:
        point = pickup_point_shown(listing, exact=self._exact_pickup(listing))
        return {"type": "Point", "coordinates": [point.x, point.y]}

    @extend_schema_field(NULLABLE_DECIMAL_STRING)  # none outside a search near a point
    def get_distance_km(self, listing: Listing) -> str | None:
        """To the nearest 0.5 km, from the point this viewer may see."""
        distance = distance_shown_km(listing, exact=self._exact_pickup(listing))
        return None if distance is None else str(distance)

    def get_thumbnail_url(self, listing: Listing) -> str | None:
        name = getattr(listing, "thumbnail_name", None)
        return default_storage.url(name) if name else None

    def to_representation(self, listing: Listing) -> dict:
        """The declared fields, written out: a search page is 20 rows of 30 fields, and
        DRF's field-by-field machinery would cost more than the database query."""
        unit = _weight_unit(self.context)
        product = listing.product
        price = listing.price_per_kg
        return {
            "id": listing.pk,
            "status": listing.status,
            "status_label": self.get_status_label(listing),
            "product": product.code,
            "product_name_zh": product.name_zh,
            "product_name_en": product.name_en,
            "category": product.category,
            "category_label": self.get_category_label(listing),
            "grade": listing.grade,
            "grade_label": self.get_grade_label(listing),
            "certifications": self.get_certifications(listing),
            "harvest_date": listing.harvest_date.isoformat(),
            "price_per_kg": str(price.amount),
            "currency": str(price.currency),
            "price": str(price_per_unit(price, unit).amount),
            "price_unit": unit,
            "available_kg": str(listing.available_kg),
            "available": str(kg_in(unit, listing.available_kg)),
            "minimum_order_kg": str(listing.minimum_order_kg),
            "available_from": _datetime(listing.available_from),
            "available_until": _datetime(listing.available_until),
            "pickup_point": self.get_pickup_point(listing),
            "distance_km": self.get_distance_km(listing),
            "lot": listing.lot_id,
            "seller": listing.seller_id,
            "farm_name": listing.farm_name,
            "cooperative_name": listing.cooperative_name,
            "thumbnail_url": self.get_thumbnail_url(listing),
            "notes": listing.notes,
            "held_reason": self.get_held_reason(listing),
        }


def search_results_data(results: list[SearchResult], *, unit: str) -> list[dict]:
    """A page of search results as `ListingOutputSerializer` writes a listing (the schema
    of the list is that serializer's), from the plain values the search reads."""
    status_labels = {value: str(label) for value, label in ListingStatus.choices}
    category_labels = {value: str(label) for value, label in ProductCategory.choices}
    grade_labels = {value: str(label) for value, label in Grade.choices}
    certification_labels = {value: str(label) for value, label in Certification.choices}
    url = default_storage.url
    data = []
    for result in results:
        price = Money(result.price_per_kg, result.currency)
        data.append(
            {
                "id": result.id,
                "status": result.status,
                "status_label": status_labels[result.status],
                "product": result.product_code,
                "product_name_zh": result.product_name_zh,
                "product_name_en": result.product_name_en,
                "category": result.category,
                "category_label": category_labels[result.category],
                "grade": result.grade,
                "grade_label": grade_labels[result.grade],
                "certifications": [
                    {"value": value, "label": certification_labels[value]}
                    for value in result.certifications
                ],
                "harvest_date": result.harvest_date.isoformat(),
                "price_per_kg": str(price.amount),
                "currency": str(price.currency),
                "price": str(price_per_unit(price, unit).amount),
                "price_unit": unit,
                "available_kg": str(result.available_kg),
                "available": str(kg_in(unit, result.available_kg)),
                "minimum_order_kg": str(result.minimum_order_kg),
                "available_from": _datetime(result.available_from),
                "available_until": _datetime(result.available_until),
                "pickup_point": {"type": "Point", "coordinates": list(result.pickup)},
                "distance_km": None
                if result.distance_m is None
                else str(km_shown(result.distance_m)),
                "lot": result.lot_id,
                "seller": result.seller_id,
                "farm_name": result.farm_name,
                "cooperative_name": result.cooperative_name,
                "thumbnail_url": url(result.thumbnail_name) if result.thumbnail_name else None,
                "notes": result.notes,
                "held_reason": result.held_reason,
            }
        )
    return data


class ListingDetailOutputSerializer(ListingOutputSerializer):
    photos = ListingPhotoOutputSerializer(many=True, read_only=True)

    def to_representation(self, listing: Listing) -> dict:
        photos = ListingPhotoOutputSerializer(listing.photos.all(), many=True).data
        return {**super().to_representation(listing), "photos": photos}
