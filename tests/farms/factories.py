from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.gis.geos import Point, Polygon

from accounts.choices import Role
from common.dates import business_today
from farms.choices import Grade, ProductCategory
from farms.models import (
    Cooperative,
    Farm,
    HarvestLot,
    Membership,
    Product,
    StorageProfile,
)
from tests.accounts.factories import UserFactory


def square(longitude: float, latitude: float, size: float = 0.001) -> Polygon:
    """A square field with its south-west corner at (longitude, latitude); 0.001° ≈ 100 m."""
    east, north = longitude + size, latitude + size
    return Polygon(
        (
            (longitude, latitude),
            (east, latitude),
            (east, north),
            (longitude, north),
            (longitude, latitude),
        ),
        srid=4326,
    )


class CooperativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cooperative

    name = factory.Sequence(lambda n: f"第{n}蔬菜专业合作社")
    name_en = factory.Sequence(lambda n: f"Vegetable Co-operative {n}")
    province = "山东省"
    region = "潍坊市寿光市"
    location = factory.LazyFunction(lambda: Point(118.79, 36.86, srid=4326))


class MembershipFactory(factory.django.DjangoModelFactory):
    """A farmer in a co-operative; `manager=True` makes a co-operative manager instead."""

    class Meta:
        model = Membership

    class Params:
        manager = factory.Trait(
            is_manager=True, user=factory.SubFactory(UserFactory, role=Role.COOPERATIVE_MANAGER)
        )

    cooperative = factory.SubFactory(CooperativeFactory)
    user = factory.SubFactory(UserFactory, role=Role.FARMER)
    is_manager = False


class FarmFactory(factory.django.DjangoModelFactory):
    """A farm of a member farmer; its farmer joins its co-operative when not given."""

    class Meta:
        model = Farm

    class Params:
        longitude = 118.79
        latitude = 36.86

    cooperative = factory.SubFactory(CooperativeFactory)
    farmer = factory.LazyAttribute(lambda o: MembershipFactory(cooperative=o.cooperative).user)
    name = factory.Sequence(lambda n: f"大棚{n}号")
    boundary = factory.LazyAttribute(lambda o: square(o.longitude, o.latitude))
    location = factory.LazyAttribute(
        lambda o: (
            Point(*o.boundary.point_on_surface.coords, srid=4326)
            if o.boundary
            else Point(o.longitude, o.latitude, srid=4326)
        )
    )


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"TEST-PRODUCT{n}")
    name_zh = factory.Sequence(lambda n: f"测试菜{n}")
    name_en = factory.Sequence(lambda n: f"Test vegetable {n}")
    category = ProductCategory.LEAFY_VEGETABLE
    grade_scale = factory.LazyFunction(lambda: [Grade.SPECIAL, Grade.FIRST, Grade.SECOND])
    storage_profile = factory.RelatedFactory(
        "tests.farms.factories.StorageProfileFactory", factory_related_name="product"
    )


class StorageProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StorageProfile

    product = factory.SubFactory(ProductFactory, storage_profile=None)
    min_temperature_c = Decimal("0.0")
    max_temperature_c = Decimal("2.0")
    min_humidity_pct = Decimal("95.0")
    max_humidity_pct = Decimal("100.0")
    nominal_shelf_life_days = 14
    reference_temperature_c = Decimal("0.0")
    lowest_safe_temperature_c = None
    q10 = Decimal("3.00")
    sources = factory.LazyFunction(
        lambda: dict.fromkeys(StorageProfile.VALUE_FIELDS, "test source")
    )


class HarvestLotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HarvestLot

    lot_code = factory.Sequence(lambda n: f"LOT-{n:05d}")
    product = factory.SubFactory(ProductFactory)
    farm = factory.SubFactory(FarmFactory)
    harvest_date = factory.LazyFunction(lambda: business_today() - timedelta(days=1))
    quantity_kg = Decimal("100.000")
    grade = Grade.FIRST
    recorded_by = factory.LazyAttribute(lambda o: o.farm.farmer)
