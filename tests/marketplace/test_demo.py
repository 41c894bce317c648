"""The demo marketplace: listings from every demo co-operative, orders in every state, and a
second seed_demo that restores whatever a visitor did to the demo."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from marketplace import demo
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.filters import ListingSearchFilter
from marketplace.markets.demo import DEMO_BUYER_CARD
from marketplace.markets.services import set_trader_active
from marketplace.models import Listing, Order, Trader
from marketplace.selectors.listings import listings_for_buyers
from marketplace.services.listings import change_listing_status
from marketplace.services.orders import cancel_order, place_order

pytestmark = pytest.mark.django_db

BEIJING = "116.4074,39.9042"


def _seed() -> None:
    call_command("seed_demo", force=True, stdout=StringIO())


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _demo_listing(key: str) -> Listing:
    return Listing.objects.exclude(status=ListingStatus.CLOSED).get(lot__lot_code=key)


def _demo_orders():
    return Order.objects.filter(idempotency_key__startswith=demo.ORDER_KEY_PREFIX)


def test_demo_sells_from_every_cooperative_with_photos_and_orders_in_every_state():
    _seed()

    on_sale = listings_for_buyers().filter(lot__lot_code__startswith="DEMO-MK-")
    cooperatives = set(on_sale.values_list("lot__farm__cooperative__name_en", flat=True))
    assert cooperatives == {
        "Shouguang Xianfeng Vegetable Co-operative",
        "Shouguang Red Pepper Co-operative",
        "Luochuan Golden Fruit Apple Co-operative",
    }
    for spec in demo.LISTINGS:
        listing = _demo_listing(spec.key)
        assert listing.status == spec.status, spec.key
        assert listing.photos.count() == 1
        assert listing.photos.get().width == 800
    assert _demo_listing("DEMO-MK-06").available_kg == 0
    # The supermarket reads prices per 斤, the restaurant per kg.
    assert _user("buyer2").weight_unit == "jin"
    assert _user("buyer").weight_unit == "kg"

    states = set(_demo_orders().values_list("status", flat=True))
    assert states == set(OrderStatus.values)
    waiting = _demo_orders().get(status=OrderStatus.AWAITING_BUYER)
    line = waiting.lines.get()
    assert line.packed_kg - line.quantity_kg > line.quantity_kg * waiting.weight_tolerance_pct / 100
    assert waiting.buyer.username == "buyer"
    # The demo farmer's own journey starts with no orders.
    assert not Order.objects.filter(seller__username="farmer").exists()


def test_a_second_seed_changes_nothing():
    _seed()
    before = (
        sorted(Listing.objects.values_list("pk", "status", "available_kg")),
        sorted(_demo_orders().values_list("pk", "status")),
    )
    _seed()
    after = (
        sorted(Listing.objects.values_list("pk", "status", "available_kg")),
        sorted(_demo_orders().values_list("pk", "status")),
    )
    assert after == before


def test_buyer_search_without_radius_lists_every_demo_listing_nearest_first():
    _seed()
    found = ListingSearchFilter({"near": BEIJING}, queryset=listings_for_buyers()).qs
    codes = [listing.lot.lot_code for listing in found.select_related("lot")]
    assert {"DEMO-MK-01", "DEMO-MK-05", "DEMO-MK-07", "DEMO-MK-08"} <= set(codes)
    # Shouguang (about 400 km from Beijing) before Luochuan (about 900 km).
    assert codes.index("DEMO-MK-01") < codes.index("DEMO-MK-07")
    distances = [listing.distance.km for listing in found]
    assert distances == sorted(distances)

    within = ListingSearchFilter(
        {"near": BEIJING, "radius_km": "500"}, queryset=listings_for_buyers()
    ).qs
    near_codes = {listing.lot.lot_code for listing in within.select_related("lot")}
    assert "DEMO-MK-01" in near_codes
    assert "DEMO-MK-07" not in near_codes


def test_seed_restores_the_demo_after_a_visitor_played_with_it():
    _seed()
    operator, farmer, buyer = _user("operator"), _user("farmer"), _user("buyer")
    card = Trader.objects.get(card_number=DEMO_BUYER_CARD)

    # A visitor: suspends the restaurant's card at the counter, closes and pauses listings,
    # cancels the waiting order, changes a demo password, and buys a listing out.
    set_trader_active(market=card.market, by=operator, trader_id=card.pk, is_active=False)
    closed = _demo_listing("DEMO-MK-01")
    change_listing_status(changed_by=farmer, listing_id=closed.pk, action="close")
    paused = _demo_listing("DEMO-MK-05")
    change_listing_status(changed_by=paused.seller, listing_id=paused.pk, action="pause")
    placed = _demo_orders().get(status=OrderStatus.PLACED)
    cancel_order(by=placed.buyer, order_id=placed.pk, reason="just trying")
    buyer.set_password("something-else-42")
    buyer.save()
    celery = _demo_listing("DEMO-MK-02")
    place_order(buyer=_user("buyer2"), lines=[(celery.pk, celery.available_kg)])
    celery.refresh_from_db()
    assert celery.status == ListingStatus.SOLD_OUT

    _seed()

    card.refresh_from_db()
    assert card.is_active
    assert _user("buyer").check_password(DEMO_PASSWORD)
    replacement = _demo_listing("DEMO-MK-01")
    assert replacement.pk != closed.pk
    assert replacement.status == ListingStatus.ACTIVE
    assert replacement.photos.count() == 1
    assert _demo_listing("DEMO-MK-05").status == ListingStatus.ACTIVE
    new_celery = _demo_listing("DEMO-MK-02")
    assert new_celery.status == ListingStatus.ACTIVE
    assert new_celery.pk != celery.pk
    assert _demo_orders().filter(status=OrderStatus.PLACED).exclude(pk=placed.pk).exists()

    # And the journeys work: the restaurant orders again, and a third seed still succeeds.
    order = place_order(buyer=buyer, lines=[(replacement.pk, Decimal("20"))])
    assert order.status == OrderStatus.PLACED
    _seed()
    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
