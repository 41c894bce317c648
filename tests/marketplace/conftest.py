"""Actors and produce of the marketplace journeys."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.farms.factories import HarvestLotFactory, ProductFactory


@pytest.fixture
def cucumber(db):
    return ProductFactory(code="VEG-CUCUMBER", name_zh="黄瓜", name_en="Cucumber")


@pytest.fixture
def lot(farm, cucumber):
    """100 kg of grade-1 cucumbers from the member's farm, harvested yesterday."""
    return HarvestLotFactory(
        farm=farm, product=cucumber, quantity_kg=Decimal("100.000"), certifications=["green_food"]
    )


@pytest.fixture
def other_lot(other_farm):
    return HarvestLotFactory(farm=other_farm, quantity_kg=Decimal("80.000"))


@pytest.fixture
def in_three_days():
    return timezone.now() + timedelta(days=3)


@pytest.fixture(autouse=True)
def buyer_wallet(request):
    """The buyer of the order journeys has money in his wallet: hand-over settles the order
    from it. Tests of a short wallet ask for `buyer` without this (see test_order_settlement)."""
    if "buyer" not in request.fixturenames or "unfunded_buyer" in request.keywords:
        return None
    from settlement.accounts import wallet_of
    from settlement.funding import top_up

    buyer = request.getfixturevalue("buyer")
    return top_up(
        account=wallet_of(buyer),
        amount=Decimal("100000.00"),
        method="bank",
        by=None,
        idempotency_key=f"test-funding:{buyer.pk}",
    )
