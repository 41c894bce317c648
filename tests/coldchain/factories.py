from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.gis.geos import Point
from django.utils import timezone

from coldchain.choices import ShipmentStatus, SiteKind
from coldchain.models import ColdStore, Shipment, Site, Vehicle
from tests.accounts.factories import UserFactory


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"测试站点{n}")
    kind = SiteKind.OTHER
    location = factory.LazyFunction(lambda: Point(116.40, 39.90, srid=4326))


class ColdStoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ColdStore

    code = factory.Sequence(lambda n: f"store-{n}")
    name = factory.Sequence(lambda n: f"冷库{n}")
    site = factory.SubFactory(SiteFactory)
    min_temperature_c = Decimal("0.0")
    max_temperature_c = Decimal("4.0")


class VehicleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vehicle

    plate = factory.Sequence(lambda n: f"京A{n:05d}")
    name = "冷藏车"


class ShipmentFactory(factory.django.DjangoModelFactory):
    """An in-transit leg kept at 0–4 °C; plan real ones with coldchain.services."""

    class Meta:
        model = Shipment

    code = factory.Sequence(lambda n: f"SH-{n:05d}")
    origin = factory.SubFactory(SiteFactory)
    destination = factory.SubFactory(SiteFactory)
    vehicle = factory.SubFactory(VehicleFactory)
    status = ShipmentStatus.IN_TRANSIT
    planned_departure_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    planned_arrival_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=4))
    departed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2))
    min_temperature_c = Decimal("0.0")
    max_temperature_c = Decimal("4.0")
    planned_by = factory.SubFactory(UserFactory)
