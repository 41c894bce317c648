"""Capture's scenery: a tomato lot with a GTIN in `cooperative`, another co-operative's lot, a
partner key limited to `cooperative` and one limited to `market`."""

import json

import pytest
from django.core.cache import cache

from tests.farms.factories import HarvestLotFactory, ProductFactory
from traceability.epcis.partners import issue_partner_key


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def gtin_product(db):
    return ProductFactory(gtin="6901234567892", name_en="Tomato", name_zh="番茄")


@pytest.fixture
def our_lot(farm, gtin_product):
    return HarvestLotFactory(farm=farm, product=gtin_product, lot_code="SG-TOM-0001")


@pytest.fixture
def other_lot(other_farm, gtin_product):
    return HarvestLotFactory(farm=other_farm, product=gtin_product, lot_code="XY-TOM-0002")


@pytest.fixture
def packing_line(cooperative, admin_user):
    """(partner, raw key) of a packing line limited to `cooperative`."""
    return issue_partner_key(
        name="东地 packing line", cooperative=cooperative, created_by=admin_user
    )


@pytest.fixture
def send(api_client):
    """send(key, document, content_type=...) → the response of POST /epcis/capture."""

    def post(key, body, *, content_type="application/ld+json", **headers):
        raw = body if isinstance(body, str | bytes) else json.dumps(body)
        return api_client.post(
            "/epcis/capture",
            data=raw,
            content_type=content_type,
            HTTP_AUTHORIZATION=f"Bearer {key}",
            **{"HTTP_ACCEPT_LANGUAGE": "en", **headers},
        )

    return post
