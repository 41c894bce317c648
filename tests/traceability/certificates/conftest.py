"""The certificate journeys' scenery: a member farmer's lot, another co-operative's lot, and
a helper that issues a certificate through the service as the farmer's phone would."""

from datetime import timedelta
from decimal import Decimal

import pytest

from common.dates import business_today
from tests.farms.factories import HarvestLotFactory, MembershipFactory, ProductFactory
from traceability.choices import CertificateBasis
from traceability.services.certificates import issue_certificate


@pytest.fixture
def tomato(db):
    return ProductFactory(code="VEG-TOMATO", name_zh="番茄", name_en="Tomato")


@pytest.fixture
def lot(farm, tomato):
    """100 kg of tomatoes from the member's farm, harvested two days ago."""
    return HarvestLotFactory(
        farm=farm,
        product=tomato,
        lot_code="SG-TOMATO-01",
        quantity_kg=Decimal("100.000"),
        harvest_date=business_today() - timedelta(days=2),
    )


@pytest.fixture
def other_lot(other_farm):
    """80 kg from another co-operative's farm, worked by another farmer."""
    return HarvestLotFactory(farm=other_farm, quantity_kg=Decimal("80.000"))


@pytest.fixture
def other_manager(other_cooperative):
    return MembershipFactory(cooperative=other_cooperative, manager=True).user


@pytest.fixture
def other_farmer(cooperative):
    """A farmer of the same co-operative: her neighbour's lots are not hers."""
    return MembershipFactory(cooperative=cooperative).user


def certificate_fields(**changes) -> dict:
    fields = {
        "product_name": "番茄 Tomato",
        "origin": "山东省潍坊市寿光市",
        "producer_name": "寿光市鲜丰蔬菜专业合作社",
        "producer_contact": "+8613800138000",
        "issued_on": business_today(),
        "no_banned_substances": True,
        "residues_within_limits": True,
        "truthful": True,
        "basis": CertificateBasis.SELF_COMMITMENT,
    }
    fields.update(changes)
    return fields


@pytest.fixture
def fields():
    """fields(**changes) → the keyword arguments of a valid certificate, changed."""
    return certificate_fields


@pytest.fixture
def issue(fields):
    """issue(lot=…, by=…, quantity_kg=…, **changes) → a certificate issued by the service."""

    def issue_one(*, lot, by, quantity_kg="40", **changes):
        return issue_certificate(
            lot=lot, by=by, quantity_kg=Decimal(quantity_kg), **fields(**changes)
        )

    return issue_one
