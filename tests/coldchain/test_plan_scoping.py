"""Ids in a shipment plan are looked up among what the planner may use: her co-operative's
lots (a market operator: the lots traded at her market), orders and trades she may see that
hold the lot, vehicles she may hire. Another's id is answered exactly as a missing one,
"Not found, or not yours.", telling nothing about it, and nothing is planned."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from coldchain.models import Shipment
from common.exceptions import NotFoundOrNotYours
from marketplace.choices import OrderStatus
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.models import Order, OrderLine
from settlement.funding import top_up
from tests.coldchain.factories import VehicleFactory
from tests.coldchain.shipment_factories import NEW, SHIPMENTS, plan_body, plan_form
from tests.farms.factories import CooperativeFactory, HarvestLotFactory
from tests.marketplace.factories import ListingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english", "english_answers")]

NEUTRAL = "Not found, or not yours."
_cards = itertools.count(1)


@pytest.fixture
def theirs(other_farm, catalogue):
    """A lot of another co-operative, with a code and a quantity worth hiding."""
    return HarvestLotFactory(
        farm=other_farm,
        product=catalogue["VEG-LETTUCE"],
        lot_code="THEIRS-LOT-7",
        quantity_kg=Decimal("321.5"),
    )


@pytest.fixture
def missing_id(theirs) -> int:
    return theirs.pk + 10_000


@pytest.fixture
def sold_at(market, market_staff):
    """sold_at(lot) → a settled trade of the lot at `market`, recorded by `market_staff`."""
    seller = markets.register_trader(
        market=market, kind="seller", name="王大姐", card_number="6201000000008001"
    )
    buyer = markets.register_trader(
        market=market, kind="buyer", name="李老板", card_number="6201000000008002"
    )
    top_up(
        account=markets.settlement_account(buyer),
        amount=Decimal("1000.00"),
        method="cash",
        by=market_staff,
        idempotency_key="plan-scoping-card",
    )

    def sell(lot):
        return counter_trades.settle_trade(
            market=market,
            by=market_staff,
            buyer_card=buyer.card_number,
            seller_card=seller.card_number,
            product=lot.product,
            gross_kg="12",
            tare_kg="2",
            unit_price="3.00",
            idempotency_key=f"plan-scoping-trade:{next(_cards)}",
            lot=lot,
        )

    return sell


def order_of(lot, *, buyer):
    listing = ListingFactory(lot=lot)
    order = Order.objects.create(
        buyer=buyer,
        seller=listing.seller,
        status=OrderStatus.ACCEPTED,
        total=Money("48.00", "CNY"),
        expires_at=timezone.now() + timedelta(days=1),
    )
    OrderLine.objects.create(
        order=order,
        listing=listing,
        quantity_kg=Decimal("10"),
        unit_price=listing.price_per_kg,
        amount=Money("48.00", "CNY"),
    )
    return order


def post_plan(api_as, user, packhouse, market_site, line: dict, **more):
    body = plan_body(packhouse, market_site, [], **more)
    body["lots"] = [{"quantity_kg": "10", **line}]
    return api_as(user).post(SHIPMENTS, body, format="json")


# --- The service, whatever the door -----------------------------------------------------------


def test_a_manager_cannot_ship_another_cooperatives_lot(plan, manager, theirs):
    with pytest.raises(NotFoundOrNotYours) as refusal:
        plan(manager, [(theirs, "10")])

    assert refusal.value.field == "lots"
    assert str(refusal.value.message) == NEUTRAL
    assert not Shipment.objects.exists()


def test_a_market_operator_ships_the_lots_traded_at_her_market(plan, lot_of, market_staff, sold_at):
    traded, untraded = lot_of("VEG-LETTUCE"), lot_of("VEG-SPINACH")
    sold_at(traded)

    shipment = plan(market_staff, [(traded, "10")])

    assert shipment.destination.market.staff.filter(user=market_staff).exists()
    with pytest.raises(NotFoundOrNotYours):
        plan(market_staff, [(untraded, "10")])
    assert Shipment.objects.count() == 1


def test_an_order_must_be_hers_and_hold_the_lot(plan, lot_of, manager, farm):
    lot, other_lot = lot_of("VEG-LETTUCE"), lot_of("VEG-SPINACH")
    strangers = order_of(HarvestLotFactory(), buyer=ListingFactory().seller)
    of_other_lot = order_of(other_lot, buyer=ListingFactory().seller)

    for order in (strangers, of_other_lot):
        with pytest.raises(NotFoundOrNotYours):
            plan(manager, [(lot, "10", order)])

    assert not Shipment.objects.exists()
    assert plan(manager, [(lot, "10", order_of(lot, buyer=ListingFactory().seller))])


# --- The API: a missing id and another's read the same ----------------------------------------


def test_another_cooperatives_lot_reads_as_a_missing_one_in_the_api(
    api_as, manager, packhouse, market_site, theirs, missing_id
):
    foreign = post_plan(api_as, manager, packhouse, market_site, {"lot": theirs.pk})
    missing = post_plan(api_as, manager, packhouse, market_site, {"lot": missing_id})

    assert (foreign.status_code, missing.status_code) == (400, 400)
    assert foreign.json() == missing.json() == {"lots": {"0": {"lot": [NEUTRAL]}}}
    assert "THEIRS-LOT-7" not in foreign.content.decode()
    assert "321.5" not in foreign.content.decode()
    assert not Shipment.objects.exists()


def test_another_ones_order_or_trade_reads_as_a_missing_one(
    api_as, manager, packhouse, market_site, lot_of, market, sold_at
):
    lot = lot_of("VEG-LETTUCE")
    their_order = order_of(HarvestLotFactory(), buyer=ListingFactory().seller)
    their_trade = sold_at(HarvestLotFactory())

    answers = {
        name: [
            post_plan(api_as, manager, packhouse, market_site, {"lot": lot.pk, name: pk})
            for pk in (theirs_pk, theirs_pk + 10_000)
        ]
        for name, theirs_pk in (("order", their_order.pk), ("trade", their_trade.pk))
    }

    for name, (foreign, missing) in answers.items():
        assert (foreign.status_code, missing.status_code) == (400, 400), name
        assert foreign.json() == missing.json() == {"lots": {"0": {name: [NEUTRAL]}}}
    assert not Shipment.objects.exists()


def test_her_order_that_does_not_hold_the_lot_is_refused_neutrally(
    api_as, manager, packhouse, market_site, lot_of
):
    lot, other_lot = lot_of("VEG-LETTUCE"), lot_of("VEG-SPINACH")
    order = order_of(other_lot, buyer=ListingFactory().seller)

    answer = post_plan(api_as, manager, packhouse, market_site, {"lot": lot.pk, "order": order.pk})

    assert answer.status_code == 400
    assert answer.json() == {"lots": [NEUTRAL]}
    assert not Shipment.objects.exists()


def test_another_cooperatives_vehicle_reads_as_a_missing_one(
    api_as, manager, packhouse, market_site, lot_of
):
    lot = lot_of("VEG-LETTUCE")
    their_truck = VehicleFactory(cooperative=CooperativeFactory())

    foreign, missing = (
        post_plan(api_as, manager, packhouse, market_site, {"lot": lot.pk}, vehicle=pk)
        for pk in (their_truck.pk, their_truck.pk + 10_000)
    )

    assert (foreign.status_code, missing.status_code) == (400, 400)
    assert foreign.json() == missing.json() == {"vehicle": [NEUTRAL]}
    assert not Shipment.objects.exists()


# --- The page form ----------------------------------------------------------------------------


def test_another_cooperatives_lot_code_reads_as_a_missing_one_on_the_form(
    manager, packhouse, market_site, theirs
):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    answers = []
    for code in (theirs.lot_code, "NO-SUCH-LOT"):
        data = plan_form(packhouse, market_site, [])
        data["lots-0-lot_code"], data["lots-0-quantity_kg"] = code, "10"
        answers.append(client.post(NEW, data))

    for answer in answers:
        assert answer.status_code == 400
        assert NEUTRAL in answer.content.decode()
        assert "321.5" not in answer.content.decode()
    assert not Shipment.objects.exists()
