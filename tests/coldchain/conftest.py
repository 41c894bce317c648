"""The cold chain's actors: a controller, a co-operative's and a market's people, a shipment
between their sites with a logger on it, a cold store with its own logger; lots of real
catalogue products, a planning helper and a planned shipment for the shipment tests."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from accounts.choices import Role
from coldchain.services.registry import assign_logger, register_logger
from coldchain.services.shipments import plan_shipment
from marketplace.markets import services as markets
from tests.accounts.factories import UserFactory
from tests.coldchain.factories import ColdStoreFactory, ShipmentFactory
from tests.coldchain.fixtures import LOGGER_SECRET
from tests.farms.factories import HarvestLotFactory


@pytest.fixture
def market_staff(market):
    """A market operator of `market`."""
    user = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=user)
    return user


@pytest.fixture
def other_shipment(db):
    """Between two sites nobody above belongs to."""
    return ShipmentFactory()


@pytest.fixture
def store(packhouse):
    return ColdStoreFactory(site=packhouse)


@pytest.fixture
def store_logger(db, store):
    logger, _secret = register_logger(device_id="LOG-STORE-1", secret=LOGGER_SECRET)
    assign_logger(logger=logger, subject=store, starts_at=timezone.now() - timedelta(days=1))
    return logger


@pytest.fixture
def in_english():
    """Messages in English, so assertions read the source strings; names of products in
    Chinese are asserted through their English names then."""
    with translation.override("en"):
        yield


@pytest.fixture
def media_root(settings, tmp_path):
    """A scratch folder holding the public media root (media/) and the private one
    (private/), so a test can look for files left anywhere."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return tmp_path


@pytest.fixture
def lot_of(catalogue, farm):
    """lot_of("VEG-LETTUCE", kg=...) → a harvest lot of that catalogue product on `farm`."""

    def make(code: str, kg: str = "500"):
        return HarvestLotFactory(product=catalogue[code], farm=farm, quantity_kg=Decimal(kg))

    return make


@pytest.fixture
def plan(packhouse, market_site):
    """plan(by, [(lot, kg), ...], **more) → a shipment planned from the co-operative's
    packhouse to the market, leaving in an hour, arriving six hours later."""

    def make(by, lots, **more):
        now = timezone.now()
        arguments = {
            "planned_by": by,
            "origin": packhouse,
            "destination": market_site,
            "lots": lots,
            "planned_departure_at": now + timedelta(hours=1),
            "planned_arrival_at": now + timedelta(hours=7),
            **more,
        }
        return plan_shipment(**arguments)

    return make


@pytest.fixture
def planned(plan, lot_of, coldchain_controller):
    """A planned shipment of 200 kg of lettuce (0–2 °C)."""
    return plan(coldchain_controller, [(lot_of("VEG-LETTUCE"), "200")])


@pytest.fixture
def english_answers(api_client):
    """The API answers in English, so assertions read the source strings."""
    api_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
