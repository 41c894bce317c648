"""Search filters of listings, shared by the API and the buyers' page.

They shape the queryset listings_for_buyers() returned; the page fills them from its form.
"""

from decimal import Decimal

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from common.api.filters import IdFilter, LongitudeLatitudeFilter
from common.units import WeightUnit, price_per_kg_from
from farms.choices import Certification, Grade, ProductCategory
from marketplace.choices import ListingStatus
from marketplace.selectors.listings import (
    listings_harvested_since,
    listings_named,
    listings_near,
    listings_with_certification,
)

ORDERINGS = {
    "distance": ("distance", "id"),
    "price": ("price_per_kg", "id"),
    "-price": ("-price_per_kg", "id"),
    "-harvest_date": ("-harvest_date", "-id"),
}


class ListingSearchFilter(django_filters.FilterSet):
    near = LongitudeLatitudeFilter(
        method="filter_near",
        label=gettext_lazy("Near longitude,latitude (WGS 84); nearest first"),
    )
    radius_km = django_filters.NumberFilter(
        method="read_by_other_filters",
        min_value=Decimal("0.1"),
        max_value=Decimal("500"),
        label=gettext_lazy("Only within this many km of `near` (default: any distance)"),
    )
    product = django_filters.CharFilter(field_name="product__code", lookup_expr="iexact")
    category = django_filters.ChoiceFilter(
        field_name="product__category", choices=ProductCategory.choices
    )
    q = django_filters.CharFilter(
        method="filter_words",
        max_length=60,
        label=gettext_lazy("Words in the product's Chinese or English name, or pinyin initials"),
    )
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    certification = django_filters.ChoiceFilter(
        method="filter_certification", choices=Certification.choices
    )
    price_unit = django_filters.ChoiceFilter(
        method="read_by_other_filters",
        choices=WeightUnit.choices,
        label=gettext_lazy("Unit of price_min and price_max (default kg)"),
    )
    price_min = django_filters.NumberFilter(method="filter_price", min_value=Decimal(0))
    price_max = django_filters.NumberFilter(method="filter_price", min_value=Decimal(0))
    min_available_kg = django_filters.NumberFilter(
        field_name="available_kg", lookup_expr="gte", min_value=Decimal(0)
    )
    harvested_since = django_filters.DateFilter(method="filter_harvested_since")
    ordering = django_filters.ChoiceFilter(
        method="read_by_other_filters",
        choices=[(key, key) for key in ORDERINGS],
        label=gettext_lazy("distance (needs near), price, -price or -harvest_date"),
    )

    def read_by_other_filters(self, queryset, name, value):
        return queryset

    def filter_near(self, queryset, name, point):
        radius_km = self.form.cleaned_data.get("radius_km")
        return listings_near(queryset, point=point, radius_km=radius_km)

    def filter_words(self, queryset, name, value):
        return listings_named(queryset, value)

    def filter_certification(self, queryset, name, value):
        return listings_with_certification(queryset, value)

    def filter_harvested_since(self, queryset, name, value):
        return listings_harvested_since(queryset, value)

    def filter_price(self, queryset, name, value):
        unit = self.form.cleaned_data.get("price_unit") or WeightUnit.KG
        per_kg = price_per_kg_from(unit, value)
        lookup = "gte" if name == "price_min" else "lte"
        return queryset.filter(**{f"price_per_kg__{lookup}": per_kg})

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        near = self.form.cleaned_data.get("near")
        ordering = self.form.cleaned_data.get("ordering") or (
            "distance" if near else "-harvest_date"
        )
        if ordering == "distance" and not near:
            raise serializers.ValidationError(
                {"ordering": [_("Sorting by distance needs your location (near).")]}
            )
        return queryset.order_by(*ORDERINGS[ordering])


class SellerListingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ListingStatus.choices)
    product = django_filters.CharFilter(field_name="product__code", lookup_expr="iexact")
    lot = IdFilter(field_name="lot_id")
