"""A lot of napa cabbage sold at the market's counter and followed downstream."""

from decimal import Decimal

import pytest

from tests.farms.factories import HarvestLotFactory
from tests.traceability.trail_factories import follow_lot_downstream


@pytest.fixture
def lot(cabbage):
    return HarvestLotFactory(product=cabbage, quantity_kg=Decimal("500"))


@pytest.fixture
def journey(lot, settle):
    trade = settle("downstream-trade", lot=lot)
    return follow_lot_downstream(lot, trade=trade)
