from decimal import Decimal

import django_filters
from django.utils.translation import gettext_lazy as _

from common.api.filters import IdFilter, LongitudeLatitudeFilter, StrictBooleanFilter
from farms.choices import Grade, PesticideTestResult, ProductCategory
from farms.selectors import farms_near, products_named

DEFAULT_RADIUS_KM = Decimal("10")


class ProductFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=ProductCategory.choices)
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact")
    search = django_filters.CharFilter(
        method="filter_search", label=_("Name contains (Chinese or English)")
    )
    chilling_sensitive = StrictBooleanFilter(
        field_name="storage_profile__lowest_safe_temperature_c",
        lookup_expr="isnull",
        exclude=True,
        label=_("Chilling-sensitive"),
    )

    def filter_search(self, queryset, name, value):
        return products_named(queryset, value)


class FarmFilter(django_filters.FilterSet):
    near = LongitudeLatitudeFilter(
        method="filter_near",
        label=_("Near longitude,latitude (WGS 84); nearest first"),
    )
    radius_km = django_filters.NumberFilter(
        method="filter_radius_is_read_by_near",
        min_value=Decimal("0.1"),
        max_value=Decimal("1000"),
        label=_("Radius around `near`, in km (default 10)"),
    )
    farmer = IdFilter(field_name="farmer_id")
    cooperative = IdFilter(field_name="cooperative_id")

    def filter_near(self, queryset, name, point):
        radius_km = self.form.cleaned_data.get("radius_km") or DEFAULT_RADIUS_KM
        return farms_near(point, float(radius_km), among=queryset)

    def filter_radius_is_read_by_near(self, queryset, name, value):
        return queryset


class HarvestLotFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product__code", lookup_expr="iexact")
    farm = IdFilter(field_name="farm_id")
    harvested_since = django_filters.DateFilter(field_name="harvest_date", lookup_expr="gte")
    harvested_until = django_filters.DateFilter(field_name="harvest_date", lookup_expr="lte")
    grade = django_filters.ChoiceFilter(choices=Grade.choices)
    pesticide_test_result = django_filters.ChoiceFilter(choices=PesticideTestResult.choices)
