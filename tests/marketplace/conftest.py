"""Actors and produce of the marketplace journeys."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.farms.conftest import (  # noqa: F401
    catalogue,
    cooperative,
    farm,
    manager,
    member,
    other_cooperative,
    other_farm,
)
from tests.farms.factories import HarvestLotFactory, ProductFactory


@pytest.fixture
def cucumber(db):
    return ProductFactory(code="VEG-CUCUMBER", name_zh="黄瓜", name_en="Cucumber")


@pytest.fixture
def lot(farm, cucumber):  # noqa: F811
    """100 kg of grade-1 cucumbers from the member's farm, harvested yesterday."""
    return HarvestLotFactory(
        farm=farm, product=cucumber, quantity_kg=Decimal("100.000"), certifications=["green_food"]
    )


@pytest.fixture
def other_lot(other_farm):  # noqa: F811
    return HarvestLotFactory(farm=other_farm, quantity_kg=Decimal("80.000"))


@pytest.fixture
def in_three_days():
    return timezone.now() + timedelta(days=3)
