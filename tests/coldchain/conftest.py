"""The cold chain's actors: a controller, a co-operative's and a market's people, a shipment
between their sites with a logger on it, and a cold store with its own logger."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.choices import Role
from coldchain import services
from coldchain.choices import SiteKind
from marketplace.markets import services as markets
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ColdStoreFactory, ShipmentFactory, SiteFactory
from tests.farms.conftest import (  # noqa: F401
    catalogue,
    cooperative,
    farm,
    manager,
    member,
    other_cooperative,
    other_farm,
)

LOGGER_SECRET = "s3cret-logger-token-for-tests"


@pytest.fixture
def market(db):
    return markets.create_market(code="xinfadi", name="北京新发地", city="北京")


@pytest.fixture
def market_staff(market):
    """A market operator of `market`."""
    user = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=user)
    return user


@pytest.fixture
def packhouse(cooperative):  # noqa: F811
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
def other_shipment(db):
    """Between two sites nobody above belongs to."""
    return ShipmentFactory()


@pytest.fixture
def store(packhouse):
    return ColdStoreFactory(site=packhouse)


@pytest.fixture
def logger_secret() -> str:
    return LOGGER_SECRET


@pytest.fixture
def data_logger(db):
    logger, _secret = services.register_logger(device_id="LOG-0001", secret=LOGGER_SECRET)
    return logger


@pytest.fixture
def shipment_logger(data_logger, shipment):
    """`data_logger` watching `shipment` since three hours ago."""
    services.assign_logger(
        logger=data_logger, subject=shipment, starts_at=timezone.now() - timedelta(hours=3)
    )
    return data_logger


@pytest.fixture
def store_logger(db, store):
    logger, _secret = services.register_logger(device_id="LOG-STORE-1", secret=LOGGER_SECRET)
    services.assign_logger(
        logger=logger, subject=store, starts_at=timezone.now() - timedelta(days=1)
    )
    return logger
