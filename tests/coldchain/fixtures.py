"""The cold chain's world, shared by the cold-chain tests and the browser journeys (loaded
for every test folder through `pytest_plugins` in tests/conftest.py): a co-operative's
packhouse and the market's site, a shipment between them, a data logger watching it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from coldchain.choices import SiteKind
from coldchain.services.registry import assign_logger, register_logger
from tests.coldchain.factories import ShipmentFactory, SiteFactory

LOGGER_SECRET = "s3cret-logger-token-for-tests"


@pytest.fixture
def packhouse(cooperative):
    return SiteFactory(name="合作社冷库", kind=SiteKind.COOPERATIVE, cooperative=cooperative)


@pytest.fixture
def market_site(market):
    return SiteFactory(name="新发地市场", kind=SiteKind.MARKET, market=market)


@pytest.fixture
def shipment(packhouse, market_site, coldchain_controller):
    """In transit from the co-operative's packhouse to the market, kept at 0–4 °C."""
    return ShipmentFactory(
        origin=packhouse, destination=market_site, planned_by=coldchain_controller
    )


@pytest.fixture
def logger_secret() -> str:
    return LOGGER_SECRET


@pytest.fixture
def data_logger(db):
    logger, _secret = register_logger(device_id="LOG-0001", secret=LOGGER_SECRET)
    return logger


@pytest.fixture
def shipment_logger(data_logger, shipment):
    """`data_logger` watching `shipment` since three hours ago."""
    assign_logger(
        logger=data_logger, subject=shipment, starts_at=timezone.now() - timedelta(hours=3)
    )
    return data_logger
