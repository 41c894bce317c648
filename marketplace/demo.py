"""Demo marketplace: produce on sale from every demo co-operative, and the demo buyers'
orders in every state, all made through the listing and order services.

`manage.py seed_demo` calls seed(context) after farms.demo and marketplace.markets.demo (which
fills the buyers' wallets). Each listing sells a lot of its own (DEMO-MK-…), so the demo
farmer's first lots stay free for the journeys of the README.

Seeding again restores what a visitor changed rather than adding to it: a listing paused,
resumed or extended by hand goes back to its state, a closed, sold-out or expired one is
replaced by a new listing of the same lot, and each order state the demo shows (placed,
accepted, ready, waiting for the buyer, handed over, completed, rejected, cancelled,
expired) gets a new order when no demo order is in it any more.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from common.dates import business_today
from farms.choices import Certification, Grade, PesticideTestResult
from farms.models import HarvestLot, Product
from farms.services.lots import record_harvest_lot

from .choices import ListingStatus, OrderStatus
from .demo_photos import produce_photo
from .models import Listing, Order
from .services.listings import (
    add_listing_photo,
    change_listing_status,
    create_listing,
    update_listing,
)
from .services.orders import (
    accept_order,
    cancel_order,
    complete_order,
    expire_overdue_orders,
    hand_over,
    mark_ready,
    place_order,
    reject_order,
)

ORDER_KEY_PREFIX = "demo-market-"
WINDOW_DAYS = 30  # a listing is on sale this long; a reseed extends one with less than
EXTEND_BELOW_DAYS = 7  # a week left


@dataclass(frozen=True)
class DemoListing:
    key: str  # also the lot's code: one listing on sale per lot
    farmer: str
    farm: str
    product: str
    grade: str
    price_per_kg: str
    available_kg: str
    minimum_order_kg: str
    status: str = ListingStatus.ACTIVE
    days_ago: int = 1
    certifications: tuple[str, ...] = ()
    notes: str = ""


LISTINGS = (
    DemoListing("DEMO-MK-01", "farmer", "河西黄瓜棚", "VEG-CUCUMBER", Grade.SPECIAL, "4.60",
                "600", "20", certifications=(Certification.GREEN_FOOD,),
                notes="顶花带刺，当天采摘"),
    DemoListing("DEMO-MK-02", "farmer", "东地大棚", "VEG-CELERY", Grade.FIRST, "3.20",
                "400", "10", days_ago=0),
    DemoListing("DEMO-MK-03", "farmer2", "北洼茄子地", "VEG-EGGPLANT", Grade.FIRST, "3.60",
                "800", "10", days_ago=1),
    DemoListing("DEMO-MK-04", "farmer2", "北洼茄子地", "VEG-CHINESE-CABBAGE", Grade.FIRST,
                "1.40", "2000", "50", status=ListingStatus.PAUSED, days_ago=2,
                notes="冷库整理中，暂停销售"),
    DemoListing("DEMO-MK-05", "farmer3", "红椒一号棚", "VEG-SWEET-PEPPER", Grade.FIRST,
                "6.40", "900", "10", certifications=(Certification.POLLUTION_FREE,)),
    # Sold out: one order of the supermarket took it all (see _sell_out).
    DemoListing("DEMO-MK-06", "farmer3", "红椒一号棚", "VEG-SWEET-PEPPER", Grade.SECOND,
                "4.80", "60", "10", status=ListingStatus.SOLD_OUT, days_ago=3),
    DemoListing("DEMO-MK-07", "apple.farmer", "塬上果园", "FRT-APPLE", Grade.SPECIAL, "9.80",
                "3000", "20", days_ago=6,
                certifications=(Certification.GEOGRAPHICAL_INDICATION,),
                notes="洛川红富士，80 mm 以上"),
    DemoListing("DEMO-MK-08", "apple.farmer", "塬上果园", "FRT-APPLE", Grade.FIRST, "7.20",
                "1500", "50", days_ago=8),
    DemoListing("DEMO-MK-09", "apple.farmer", "塬上果园", "FRT-PEAR", Grade.FIRST, "5.60",
                "800", "20", status=ListingStatus.PAUSED, days_ago=9),
)  # fmt: skip
SOLD_OUT_BUYER = "buyer2"


@dataclass(frozen=True)
class DemoOrder:
    status: str
    buyer: str
    listing: str
    quantity_kg: str
    packed_kg: str = ""  # the weight handed over, for orders that got that far
    note: str = ""


# The demo farmer herself has no orders: her journey starts with her first sale.
ORDERS = (
    DemoOrder(OrderStatus.PLACED, "buyer", "DEMO-MK-07", "30", note="周五上午取货"),
    DemoOrder(OrderStatus.ACCEPTED, "buyer", "DEMO-MK-05", "20"),
    DemoOrder(OrderStatus.READY, "buyer2", "DEMO-MK-03", "50"),
    # Packed 15 % above the order, beyond the 5 % tolerance: the buyer must confirm.
    DemoOrder(OrderStatus.AWAITING_BUYER, "buyer", "DEMO-MK-03", "40", packed_kg="46"),
    DemoOrder(OrderStatus.HANDED_OVER, "buyer2", "DEMO-MK-07", "100", packed_kg="101.5"),
    DemoOrder(OrderStatus.COMPLETED, "buyer", "DEMO-MK-08", "60", packed_kg="60"),
    DemoOrder(OrderStatus.REJECTED, "buyer", "DEMO-MK-05", "15"),
    DemoOrder(OrderStatus.CANCELLED, "buyer2", "DEMO-MK-08", "80"),
    DemoOrder(OrderStatus.EXPIRED, "buyer", "DEMO-MK-03", "25"),
)


def seed(context: dict) -> None:
    people = context["people"]
    listings = {}
    for spec in LISTINGS:
        with transaction.atomic():
            listings[spec.key] = _restore_listing(spec, context)
    for spec in ORDERS:
        with transaction.atomic():
            _restore_order(spec, people, listings)
    context["listings"] = listings


# --- Listings -------------------------------------------------------------------------------


def _lot(spec: DemoListing, context: dict) -> HarvestLot:
    """The listing's own lot, four times what is on sale so replacements always fit."""
    lot = HarvestLot.objects.filter(lot_code=spec.key).first()
    if lot is not None:
        return lot
    today = business_today()
    return record_harvest_lot(
        recorded_by=context["people"][spec.farmer],
        farm=context["farms"][(spec.farmer, spec.farm)],
        product=Product.objects.get(code=spec.product),
        harvest_date=today - timedelta(days=spec.days_ago),
        quantity_kg=Decimal(spec.available_kg) * 4,
        grade=spec.grade,
        certifications=spec.certifications,
        pesticide_test_result=PesticideTestResult.PASSED,
        tested_on=today - timedelta(days=spec.days_ago),
        lot_code=spec.key,
    )


def _is_usable(listing: Listing | None, spec: DemoListing) -> bool:
    if listing is None:
        return False
    if spec.status == ListingStatus.SOLD_OUT:
        return listing.status == ListingStatus.SOLD_OUT
    # On sale or paused, with a full minimum order left to sell.
    return listing.status in (ListingStatus.ACTIVE, ListingStatus.PAUSED) and (
        listing.available_kg >= max(listing.minimum_order_kg, Decimal(spec.available_kg) / 4)
    )


def _restore_listing(spec: DemoListing, context: dict) -> Listing:
    farmer = context["people"][spec.farmer]
    lot = _lot(spec, context)
    current = (
        Listing.objects.filter(lot=lot).exclude(status=ListingStatus.CLOSED).order_by("-id").first()
    )
    if not _is_usable(current, spec):
        if current is not None:
            change_listing_status(changed_by=farmer, listing_id=current.pk, action="close")
        current = _new_listing(spec, farmer=farmer, lot=lot)
        if spec.status == ListingStatus.SOLD_OUT:
            _sell_out(current, buyer=context["people"][SOLD_OUT_BUYER], farmer=farmer)
    if spec.status == ListingStatus.SOLD_OUT:
        return current
    now = timezone.now()
    if current.available_until < now + timedelta(days=EXTEND_BELOW_DAYS):
        current = update_listing(
            updated_by=farmer,
            listing_id=current.pk,
            available_until=now + timedelta(days=WINDOW_DAYS),
        )
    wanted = spec.status
    if current.status != wanted:
        action = "pause" if wanted == ListingStatus.PAUSED else "resume"
        current = change_listing_status(changed_by=farmer, listing_id=current.pk, action=action)
    return current


def _new_listing(spec: DemoListing, *, farmer, lot: HarvestLot) -> Listing:
    listing = create_listing(
        listed_by=farmer,
        lot=lot,
        price_per_kg=Decimal(spec.price_per_kg),
        available_kg=Decimal(spec.available_kg),
        minimum_order_kg=Decimal(spec.minimum_order_kg),
        available_until=timezone.now() + timedelta(days=WINDOW_DAYS),
        notes=spec.notes,
    )
    add_listing_photo(
        added_by=farmer, listing_id=listing.pk, upload=produce_photo(spec.product, seed=spec.key)
    )
    return listing


def _sell_out(listing: Listing, *, buyer, farmer) -> None:
    """One order takes all of it, and goes through to completed."""
    order = place_order(
        buyer=buyer,
        lines=[(listing.pk, listing.available_kg)],
        idempotency_key=f"{ORDER_KEY_PREFIX}sold-out-{listing.pk}",
    )
    _walk(order, to=OrderStatus.COMPLETED, farmer=farmer, buyer=buyer, packed_kg="")


# --- Orders ---------------------------------------------------------------------------------


def _restore_order(spec: DemoOrder, people: dict, listings: dict) -> None:
    """A new order in the spec's state unless one of the demo's orders is in it already."""
    buyer = people[spec.buyer]
    demo_orders = Order.objects.filter(buyer=buyer, idempotency_key__startswith=ORDER_KEY_PREFIX)
    if demo_orders.filter(status=spec.status).exists():
        return
    listing = listings[spec.listing]
    tries = demo_orders.filter(
        idempotency_key__startswith=f"{ORDER_KEY_PREFIX}{spec.status}-"
    ).count()
    order = place_order(
        buyer=buyer,
        lines=[(listing.pk, Decimal(spec.quantity_kg))],
        buyer_note=spec.note,
        idempotency_key=f"{ORDER_KEY_PREFIX}{spec.status}-{tries + 1}",
    )
    _walk(order, to=spec.status, farmer=listing.seller, buyer=buyer, packed_kg=spec.packed_kg)


# The seller's and buyer's steps from placed to each state.
PATHS = {
    OrderStatus.PLACED: (),
    OrderStatus.ACCEPTED: ("accept",),
    OrderStatus.READY: ("accept", "ready"),
    OrderStatus.AWAITING_BUYER: ("accept", "ready", "hand_over"),
    OrderStatus.HANDED_OVER: ("accept", "ready", "hand_over"),
    OrderStatus.COMPLETED: ("accept", "ready", "hand_over", "complete"),
    OrderStatus.REJECTED: ("reject",),
    OrderStatus.CANCELLED: ("cancel",),
    OrderStatus.EXPIRED: ("expire",),
}


def _walk(order: Order, *, to: str, farmer, buyer, packed_kg: str) -> Order:
    for step in PATHS[to]:
        if step == "accept":
            order = accept_order(by=farmer, order_id=order.pk)
        elif step == "ready":
            order = mark_ready(by=farmer, order_id=order.pk)
        elif step == "hand_over":
            line = order.lines.get()
            weight = Decimal(packed_kg) if packed_kg else line.quantity_kg
            order = hand_over(by=farmer, order_id=order.pk, packed_kg={line.pk: weight})
        elif step == "complete":
            order = complete_order(by=buyer, order_id=order.pk)
        elif step == "reject":
            order = reject_order(by=farmer, order_id=order.pk, reason="今天的货已经订完")
        elif step == "cancel":
            order = cancel_order(by=buyer, order_id=order.pk, reason="菜单改了")
        elif step == "expire":
            # Nobody answered it in time: its deadline moved into the past, and the
            # platform's expiry (the beat task's service) expires it.
            Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(hours=1))
            expire_overdue_orders()
            order.refresh_from_db()
    return order
