"""The market gate's scenery: Xinfadi's clerk and supervisor (tests/marketplace/markets/
fixtures.py), the `farm` of the `member` farmer in `cooperative` with its `manager`, a lot of
hers with a valid certificate, and one that came without."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from common.dates import business_today
from tests.farms.factories import HarvestLotFactory
from traceability.choices import CertificateBasis, TraceCodeKind
from traceability.models import Certificate
from traceability.services.codes import issue_trace_code

PLATE = "鲁G12345"


@pytest.fixture(autouse=True)
def in_english():
    """The gate's refusals are read in English here (the site's default is Chinese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def certify():
    """certify(lot, quantity_kg="80") → a valid certificate of the lot (self-commitment)."""

    def make(lot, quantity_kg: str = "80.000") -> Certificate:
        return Certificate.objects.create(
            trace_code=issue_trace_code(lot=lot, kind=TraceCodeKind.CERTIFICATE),
            lot=lot,
            cooperative=lot.farm.cooperative,
            quantity_kg=Decimal(quantity_kg),
            product_name=lot.product.name_zh,
            origin=f"{lot.farm.cooperative.province}{lot.farm.cooperative.region}",
            producer_name=lot.farm.cooperative.name,
            producer_contact="0536-1234567",
            issued_on=business_today() - timedelta(days=1),
            no_banned_substances=True,
            residues_within_limits=True,
            truthful=True,
            basis=CertificateBasis.SELF_COMMITMENT,
            issued_by=lot.farm.farmer,
        )

    return make


@pytest.fixture
def lot(farm, cabbage):
    return HarvestLotFactory(farm=farm, product=cabbage, lot_code="SG-GATE-0001")


@pytest.fixture
def certificate(certify, lot):
    return certify(lot)


@pytest.fixture
def uncertified_lot(farm, cabbage):
    return HarvestLotFactory(farm=farm, product=cabbage, lot_code="SG-GATE-0002")


@pytest.fixture
def gate_clerk(operator):
    """The market's operator, at its gate."""
    return operator
