"""A lot's remaining shelf life through its doors: the API and the lot page's block."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from coldchain.models import LotCondition
from tests.coldchain.shipment_factories import carry
from tests.farms.factories import HarvestLotFactory, ProductFactory

HARVEST_DAY = date(2026, 11, 27)
HARVESTED = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
NOW = HARVESTED + timedelta(hours=24)
# Lettuce, never shipped, one day at the top of its band (2 °C): rate 2.1^0.2 of a 14-day life.
USED = 2.1**0.2 / 14


def url(lot_id: int) -> str:
    return reverse("coldchain-lot-condition", args=[lot_id])


@pytest.fixture
def lot(catalogue, farm):
    return HarvestLotFactory(product=catalogue["VEG-LETTUCE"], farm=farm, harvest_date=HARVEST_DAY)


@pytest.fixture
def others_lot(catalogue, other_farm):
    return HarvestLotFactory(
        product=catalogue["VEG-LETTUCE"], farm=other_farm, harvest_date=HARVEST_DAY
    )


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_controller_reads_any_lots_condition(api_as, coldchain_controller, lot, at_now):
    response = api_as(coldchain_controller).get(url(lot.pk))

    assert response.status_code == 200
    body = response.json()
    assert parse_datetime(body.pop("expected_expiry_at")) == NOW + timedelta(days=14 * (1 - USED))
    assert parse_datetime(body.pop("evaluated_at")) == NOW
    assert parse_datetime(body.pop("harvested_at")) == HARVESTED
    assert body == {
        "lot_id": lot.pk,
        "lot_code": lot.lot_code,
        "product_code": "VEG-LETTUCE",
        "consumed_fraction": round(USED, 4),
        "remaining_days": round(14 * (1 - USED), 2),
        "reference_temperature_c": 0.0,
        "nominal_shelf_life_days": 14,
        "monitored_hours": 0.0,
        "unmonitored_hours": 24.0,
        "chilling_hours": 0.0,
        "is_chilling_sensitive": False,
    }
    assert not LotCondition.objects.exists()  # a read writes nothing


def test_the_farmer_and_her_co_operatives_manager_read_her_lot(api_as, member, manager, lot):
    assert api_as(member).get(url(lot.pk)).status_code == 200
    assert api_as(manager).get(url(lot.pk)).status_code == 200


def test_another_co_operatives_lot_is_not_found(api_as, member, manager, others_lot):
    assert api_as(member).get(url(others_lot.pk)).status_code == 404
    assert api_as(manager).get(url(others_lot.pk)).status_code == 404


def test_an_unknown_lot_is_not_found(api_as, coldchain_controller, db):
    assert api_as(coldchain_controller).get(url(999_999)).status_code == 404


@pytest.mark.parametrize("role", ["buyer", "consumer", "courier", "market_staff"])
def test_other_roles_are_refused(request, api_as, role, lot):
    user = request.getfixturevalue(role)

    response = api_as(user).get(url(lot.pk))

    assert response.status_code == 403


def test_signing_in_is_required(api_client, lot):
    assert api_client.get(url(lot.pk)).status_code == 401


def test_a_product_without_a_storage_profile_is_refused_with_a_reason(
    api_as, coldchain_controller, farm
):
    lot = HarvestLotFactory(product=ProductFactory(storage_profile=None), farm=farm)

    response = api_as(coldchain_controller).get(url(lot.pk))

    assert response.status_code == 400
    assert list(response.json()) == ["lot"]


# The lot page


def test_the_lot_page_shows_the_remaining_shelf_life(english, member, lot, at_now):
    english.force_login(member)

    response = english.get(reverse("farms:lot_detail", args=[lot.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    # 14 × (1 − 0.0829) = 12.84 days from 2026-11-28 08:00 Beijing: 2026-12-11.
    assert "Remaining shelf life: 12.8 days at 0 °C (expected 2026-12-11)" in page
    assert "8 % used" in page
    assert "below the safe temperature" not in page  # lettuce is not chilling-sensitive
    assert "Not logged: 24.0 h, counted at 2 °C" in page


def test_the_lot_page_counts_hours_below_the_safe_temperature(english, member, catalogue, farm):
    lot = HarvestLotFactory(product=catalogue["FRT-BANANA"], farm=farm, harvest_date=HARVEST_DAY)
    carry(lot, departed_at=HARVESTED, pieces=[(21, 13.0), (3, 9.0)])
    english.force_login(member)

    with time_machine.travel(NOW, tick=False):
        response = english.get(reverse("farms:lot_detail", args=[lot.pk]))

    assert "3.0 h below the safe temperature" in response.content.decode()


def test_the_lot_page_renders_the_block_in_chinese(client, member, lot, at_now):
    client.force_login(member)

    response = client.get(reverse("farms:lot_detail", args=[lot.pk]))

    assert response.status_code == 200
    assert 'data-testid="lot-condition"' in response.content.decode()
