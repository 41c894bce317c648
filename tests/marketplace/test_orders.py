"""Order rules, each asserted on what the database holds afterwards."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from djmoney.money import Money

from accounts.models import Notification
from common.exceptions import InvalidTransition, RefusalKind
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.exceptions import (
    BelowMinimumOrder,
    DuplicateOrderLine,
    EmptyOrder,
    InsufficientQuantity,
    InvalidOrderQuantity,
    InvalidPackedWeights,
    InvalidWeightTolerance,
    ListingNotAvailable,
    MixedSellers,
    OrderExpired,
    OrderNotYours,
    OwnListing,
)
from marketplace.models import Listing, Order, OrderEvent, OrderLine
from marketplace.services.orders import (
    accept_order,
    cancel_order,
    complete_order,
    confirm_weights,
    expire_overdue_orders,
    hand_over,
    mark_ready,
    place_order,
    reject_order,
)
from tests.farms.factories import HarvestLotFactory, MembershipFactory
from tests.marketplace.factories import BuyerFactory, ListingFactory

pytestmark = pytest.mark.django_db

KG = Decimal


@pytest.fixture
def listing(db):
    """50 kg at ¥4.80/kg, minimum order 1 kg, on sale now."""
    return ListingFactory()


@pytest.fixture
def second_listing(listing):
    """Another listing of the same seller, from another lot of her farm."""
    return ListingFactory(
        lot=HarvestLotFactory(farm=listing.lot.farm),
        price_per_kg=Money(KG("7.77"), "CNY"),
        available_kg=KG("20.000"),
    )


@pytest.fixture
def seller(listing):
    return listing.seller


@pytest.fixture
def seller_manager(listing):
    """The manager of the seller's co-operative."""
    return MembershipFactory(cooperative=listing.lot.farm.cooperative, manager=True).user


def available(listing) -> Decimal:
    return Listing.objects.get(pk=listing.pk).available_kg


def listing_status(listing) -> str:
    return Listing.objects.get(pk=listing.pk).status


def order_status(order) -> str:
    return Order.objects.get(pk=order.pk).status


def placed(buyer, listing, kg="10", **kwargs) -> Order:
    return place_order(buyer=buyer, lines=[(listing.pk, KG(kg))], **kwargs)


def accepted(buyer, listing, kg="10") -> Order:
    order = placed(buyer, listing, kg)
    return accept_order(by=listing.seller, order_id=order.pk)


def ready(buyer, listing, kg="10") -> Order:
    order = accepted(buyer, listing, kg)
    return mark_ready(by=listing.seller, order_id=order.pk)


# --- Placing ------------------------------------------------------------------------------


def test_place_order_reserves_quantity_and_keeps_the_price_of_the_moment(
    buyer, listing, second_listing, settings
):
    settings.ORDER_ACCEPT_HOURS = 6
    before = timezone.now()

    order = place_order(
        buyer=buyer,
        lines=[(second_listing.pk, KG("3.333")), (listing.pk, KG("12.5"))],
        buyer_note="  早上取货  ",
    )
    Listing.objects.filter(pk=listing.pk).update(price_per_kg=KG("9.99"))

    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.PLACED
    assert order.seller == listing.seller
    assert order.buyer_note == "早上取货"
    assert order.weight_tolerance_pct == KG("5.0")
    # 3.333 × 7.77 = 25.89741 → 25.90; 12.5 × 4.80 = 60.00
    assert order.total == Money(KG("85.90"), "CNY")
    lines = {line.listing_id: line for line in OrderLine.objects.filter(order=order)}
    assert lines[listing.pk].quantity_kg == KG("12.500")
    assert lines[listing.pk].unit_price == Money(KG("4.80"), "CNY")
    assert lines[listing.pk].amount == Money(KG("60.00"), "CNY")
    assert lines[second_listing.pk].amount == Money(KG("25.90"), "CNY")
    assert available(listing) == KG("37.500")
    assert available(second_listing) == KG("16.667")
    assert timedelta(hours=6) <= order.expires_at - before < timedelta(hours=6, minutes=1)
    assert list(OrderEvent.objects.filter(order=order).values_list("status", "actor")) == [
        (OrderStatus.PLACED, buyer.pk)
    ]


def test_seller_is_notified_of_a_new_order(buyer, listing):
    order = placed(buyer, listing)

    notification = Notification.objects.get(user=listing.seller)
    assert notification.kind == "order.placed"
    assert notification.payload["order_id"] == order.pk
    assert notification.url == f"/orders/{order.pk}/"
    assert not Notification.objects.filter(user=buyer).exists()


def test_ordering_all_that_is_left_sells_the_listing_out(buyer, listing):
    placed(buyer, listing, "50")

    assert available(listing) == KG("0.000")
    assert listing_status(listing) == ListingStatus.SOLD_OUT


def test_place_order_refuses_more_than_available_and_names_the_line(buyer, listing, second_listing):
    with pytest.raises(InsufficientQuantity) as refusal:
        place_order(buyer=buyer, lines=[(listing.pk, KG("5")), (second_listing.pk, KG("20.001"))])

    assert refusal.value.field == "quantity_kg"
    assert refusal.value.line == 1
    assert refusal.value.as_dict()["line"] == 1
    assert "20.000" in refusal.value.as_dict()["quantity_kg"][0]
    # The first line's reservation was rolled back with the refusal.
    assert available(listing) == KG("50.000")
    assert available(second_listing) == KG("20.000")
    assert Order.objects.count() == 0
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("quantity", ["0", "-1", "1.0001", "NaN", "abc"])
def test_place_order_refuses_bad_quantities(buyer, listing, quantity):
    with pytest.raises(InvalidOrderQuantity) as refusal:
        place_order(buyer=buyer, lines=[(listing.pk, quantity)])

    assert refusal.value.line == 0
    assert available(listing) == KG("50.000")
    assert Order.objects.count() == 0


def test_place_order_refuses_below_minimum_order(buyer):
    listing = ListingFactory(minimum_order_kg=KG("5.000"))

    with pytest.raises(BelowMinimumOrder):
        placed(buyer, listing, "4.999")

    assert available(listing) == KG("50.000")
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "status", [ListingStatus.DRAFT, ListingStatus.PAUSED, ListingStatus.CLOSED]
)
def test_place_order_refuses_listings_not_on_sale(buyer, status):
    listing = ListingFactory(status=status)

    with pytest.raises(ListingNotAvailable) as refusal:
        placed(buyer, listing, "1")

    assert refusal.value.field == "listing_id"
    assert available(listing) == KG("50.000")
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "window",
    [
        {"available_from": timezone.now() + timedelta(hours=1)},
        {
            "available_from": timezone.now() - timedelta(days=2),
            "available_until": timezone.now() - timedelta(minutes=1),
        },
    ],
    ids=["not-yet", "over"],
)
def test_place_order_refuses_listings_outside_their_window(buyer, window):
    listing = ListingFactory(**window)

    with pytest.raises(ListingNotAvailable):
        placed(buyer, listing, "1")

    assert available(listing) == KG("50.000")


def test_place_order_refuses_unknown_listing(buyer):
    with pytest.raises(ListingNotAvailable):
        place_order(buyer=buyer, lines=[(999_999, KG("1"))])


def test_place_order_refuses_listings_of_two_sellers(buyer, listing):
    other = ListingFactory()

    with pytest.raises(MixedSellers):
        place_order(buyer=buyer, lines=[(listing.pk, KG("1")), (other.pk, KG("1"))])

    assert available(listing) == KG("50.000")
    assert available(other) == KG("50.000")
    assert Order.objects.count() == 0


def test_place_order_refuses_the_same_listing_twice(buyer, listing):
    with pytest.raises(DuplicateOrderLine):
        place_order(buyer=buyer, lines=[(listing.pk, KG("1")), (listing.pk, KG("2"))])

    assert available(listing) == KG("50.000")


def test_place_order_refuses_an_empty_order(buyer):
    with pytest.raises(EmptyOrder):
        place_order(buyer=buyer, lines=[])


def test_seller_cannot_order_her_own_produce(listing):
    with pytest.raises(OwnListing):
        placed(listing.seller, listing, "1")

    assert available(listing) == KG("50.000")


@pytest.mark.parametrize("tolerance", ["-1", "50.1", "2.55"])
def test_place_order_refuses_absurd_weight_tolerance(buyer, listing, tolerance):
    with pytest.raises(InvalidWeightTolerance):
        placed(buyer, listing, "1", weight_tolerance_pct=KG(tolerance))

    assert Order.objects.count() == 0


def test_retried_order_with_the_same_key_returns_the_first_and_reserves_once(buyer, listing):
    first = placed(buyer, listing, "10", idempotency_key="phone-retry-1")

    retry = placed(buyer, listing, "10", idempotency_key="phone-retry-1")

    assert retry.pk == first.pk
    assert Order.objects.count() == 1
    assert available(listing) == KG("40.000")


def test_the_same_key_from_another_buyer_is_another_order(buyer, listing):
    placed(buyer, listing, "10", idempotency_key="k1")

    placed(BuyerFactory(), listing, "10", idempotency_key="k1")

    assert Order.objects.count() == 2
    assert available(listing) == KG("30.000")


# --- Accept, reject, cancel ---------------------------------------------------------------


def test_seller_accepts_and_the_buyer_is_notified(buyer, listing):
    order = placed(buyer, listing)

    accept_order(by=listing.seller, order_id=order.pk)

    assert order_status(order) == OrderStatus.ACCEPTED
    assert list(OrderEvent.objects.filter(order=order).values_list("status", flat=True)) == [
        OrderStatus.PLACED,
        OrderStatus.ACCEPTED,
    ]
    news = Notification.objects.get(user=buyer)
    assert news.kind == "order.status_changed"
    assert news.payload["status"] == OrderStatus.ACCEPTED
    assert available(listing) == KG("40.000")


def test_cooperative_manager_accepts_on_a_members_behalf(buyer, listing, seller_manager):
    order = placed(buyer, listing)

    accept_order(by=seller_manager, order_id=order.pk)

    assert order_status(order) == OrderStatus.ACCEPTED
    assert OrderEvent.objects.get(order=order, status=OrderStatus.ACCEPTED).actor == seller_manager


def test_manager_of_another_cooperative_cannot_accept(buyer, listing):
    stranger = MembershipFactory(manager=True).user
    order = placed(buyer, listing)

    with pytest.raises(OrderNotYours):
        accept_order(by=stranger, order_id=order.pk)

    assert order_status(order) == OrderStatus.PLACED


@pytest.mark.parametrize("who", ["buyer", "other_farmer"])
def test_only_the_seller_side_accepts(buyer, listing, who):
    order = placed(buyer, listing)
    actor = buyer if who == "buyer" else ListingFactory().seller

    with pytest.raises(OrderNotYours):
        accept_order(by=actor, order_id=order.pk)

    assert order_status(order) == OrderStatus.PLACED
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_accepting_a_cancelled_order_is_refused_and_changes_nothing(buyer, listing):
    order = placed(buyer, listing)
    cancel_order(by=buyer, order_id=order.pk)

    with pytest.raises(InvalidTransition) as refusal:
        accept_order(by=listing.seller, order_id=order.pk)

    assert refusal.value.kind == RefusalKind.CONFLICT
    assert order_status(order) == OrderStatus.CANCELLED
    assert available(listing) == KG("50.000")
    assert OrderEvent.objects.filter(order=order).count() == 2


def test_accepting_after_the_deadline_is_refused(buyer, listing):
    order = placed(buyer, listing)
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(OrderExpired):
        accept_order(by=listing.seller, order_id=order.pk)

    assert order_status(order) == OrderStatus.PLACED


def test_rejecting_releases_the_quantity_and_puts_a_sold_out_listing_back_on_sale(buyer, listing):
    order = placed(buyer, listing, "50")

    reject_order(by=listing.seller, order_id=order.pk, reason="卖完了")

    assert order_status(order) == OrderStatus.REJECTED
    assert available(listing) == KG("50.000")
    assert listing_status(listing) == ListingStatus.ACTIVE
    assert OrderEvent.objects.get(order=order, status=OrderStatus.REJECTED).note == "卖完了"


def test_buyer_cancels_a_placed_order_and_the_quantity_is_released(buyer, listing):
    order = placed(buyer, listing, "10")

    cancel_order(by=buyer, order_id=order.pk)

    assert order_status(order) == OrderStatus.CANCELLED
    assert available(listing) == KG("50.000")
    assert (
        Notification.objects.filter(user=listing.seller, kind="order.status_changed").count() == 1
    )


def test_buyer_cannot_cancel_once_accepted(buyer, listing):
    order = accepted(buyer, listing, "10")

    with pytest.raises(InvalidTransition):
        cancel_order(by=buyer, order_id=order.pk)

    assert order_status(order) == OrderStatus.ACCEPTED
    assert available(listing) == KG("40.000")


def test_seller_cannot_cancel_for_the_buyer(buyer, listing):
    order = placed(buyer, listing)

    with pytest.raises(OrderNotYours):
        cancel_order(by=listing.seller, order_id=order.pk)

    assert order_status(order) == OrderStatus.PLACED


def test_released_quantity_returns_to_a_paused_listing_which_stays_paused(buyer, listing):
    order = placed(buyer, listing, "50")
    Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.PAUSED)

    cancel_order(by=buyer, order_id=order.pk)

    assert available(listing) == KG("50.000")
    assert listing_status(listing) == ListingStatus.PAUSED


def test_released_quantity_leaves_a_listing_past_its_window_sold_out(buyer, listing):
    order = placed(buyer, listing, "50")
    Listing.objects.filter(pk=listing.pk).update(
        available_until=timezone.now() - timedelta(seconds=1)
    )

    cancel_order(by=buyer, order_id=order.pk)

    assert available(listing) == KG("50.000")
    assert listing_status(listing) == ListingStatus.SOLD_OUT


# --- Hand-over by weight ------------------------------------------------------------------


def test_hand_over_within_tolerance_reprices_to_the_packed_weight(buyer, listing):
    order = ready(buyer, listing, "10")
    line = order.lines.get()

    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("10.456")})

    order = Order.objects.get(pk=order.pk)
    line.refresh_from_db()
    assert order.status == OrderStatus.HANDED_OVER
    assert line.packed_kg == KG("10.456")
    assert line.amount == Money(KG("50.19"), "CNY")  # 10.456 × 4.80 = 50.1888
    assert order.total == Money(KG("50.19"), "CNY")
    assert available(listing) == KG("40.000")


def test_hand_over_exactly_at_the_tolerance_needs_no_confirmation(buyer, listing):
    order = ready(buyer, listing, "10")  # 5 % of 10 kg = 0.5 kg
    line = order.lines.get()

    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("9.5")})

    assert order_status(order) == OrderStatus.HANDED_OVER


def test_hand_over_beyond_tolerance_waits_for_the_buyer(buyer, listing, second_listing):
    order = place_order(buyer=buyer, lines=[(listing.pk, KG("10")), (second_listing.pk, KG("2"))])
    accept_order(by=listing.seller, order_id=order.pk)
    mark_ready(by=listing.seller, order_id=order.pk)
    first, second = order.lines.order_by("id")

    hand_over(
        by=listing.seller,
        order_id=order.pk,
        packed_kg={first.pk: KG("10.1"), second.pk: KG("2.2")},  # 2.2 is 10 % over
    )

    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.AWAITING_BUYER
    # 10.1 × 4.80 = 48.48; 2.2 × 7.77 = 17.094 → 17.09
    assert order.total == Money(KG("65.57"), "CNY")
    news = Notification.objects.filter(user=buyer).latest("id")
    assert news.payload["status"] == OrderStatus.AWAITING_BUYER


def test_buyer_accepts_the_new_weights_and_the_order_is_handed_over(buyer, listing):
    order = ready(buyer, listing, "10")
    line = order.lines.get()
    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("12")})

    confirm_weights(by=buyer, order_id=order.pk, accept=True)

    order = Order.objects.get(pk=order.pk)
    assert order.status == OrderStatus.HANDED_OVER
    assert order.total == Money(KG("57.60"), "CNY")


def test_buyer_declines_the_new_weights_and_the_order_goes_back_to_the_seller(buyer, listing):
    order = ready(buyer, listing, "10")
    line = order.lines.get()
    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("12")})

    confirm_weights(by=buyer, order_id=order.pk, accept=False)

    order = Order.objects.get(pk=order.pk)
    line.refresh_from_db()
    assert order.status == OrderStatus.READY
    assert line.packed_kg is None
    assert order.total == Money(KG("48.00"), "CNY")


def test_confirming_weights_is_refused_when_nothing_awaits_the_buyer(buyer, listing):
    order = ready(buyer, listing, "10")

    with pytest.raises(InvalidTransition):
        confirm_weights(by=buyer, order_id=order.pk, accept=True)

    assert order_status(order) == OrderStatus.READY


def test_hand_over_needs_a_weight_for_every_line(buyer, listing, second_listing):
    order = place_order(buyer=buyer, lines=[(listing.pk, KG("10")), (second_listing.pk, KG("2"))])
    accept_order(by=listing.seller, order_id=order.pk)
    mark_ready(by=listing.seller, order_id=order.pk)
    first = order.lines.order_by("id").first()

    with pytest.raises(InvalidPackedWeights):
        hand_over(by=listing.seller, order_id=order.pk, packed_kg={first.pk: KG("10")})

    assert order_status(order) == OrderStatus.READY
    assert not OrderLine.objects.filter(order=order, packed_kg__isnull=False).exists()
    assert Order.objects.get(pk=order.pk).total == Money(KG("63.54"), "CNY")


def test_hand_over_before_ready_is_refused(buyer, listing):
    order = accepted(buyer, listing, "10")
    line = order.lines.get()

    with pytest.raises(InvalidTransition):
        hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("10")})

    assert order_status(order) == OrderStatus.ACCEPTED
    assert OrderLine.objects.get(pk=line.pk).packed_kg is None


def test_buyer_completes_a_handed_over_order(buyer, listing):
    order = ready(buyer, listing, "10")
    line = order.lines.get()
    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("10")})

    complete_order(by=buyer, order_id=order.pk)

    assert order_status(order) == OrderStatus.COMPLETED
    assert available(listing) == KG("40.000")
    assert list(OrderEvent.objects.filter(order=order).values_list("status", flat=True)) == [
        OrderStatus.PLACED,
        OrderStatus.ACCEPTED,
        OrderStatus.READY,
        OrderStatus.HANDED_OVER,
        OrderStatus.COMPLETED,
    ]


def test_seller_cannot_complete_for_the_buyer(buyer, listing):
    order = ready(buyer, listing, "10")
    line = order.lines.get()
    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("10")})

    with pytest.raises(OrderNotYours):
        complete_order(by=listing.seller, order_id=order.pk)

    assert order_status(order) == OrderStatus.HANDED_OVER


# --- Expiry -------------------------------------------------------------------------------


def test_overdue_orders_expire_and_release_their_quantity(buyer, listing):
    overdue = placed(buyer, listing, "50")
    in_time = placed(BuyerFactory(), ListingFactory(), "5")
    accepted_late = accepted(BuyerFactory(), second := ListingFactory(), "5")
    Order.objects.filter(pk__in=[overdue.pk, accepted_late.pk]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    expired = expire_overdue_orders()

    assert expired == [overdue.pk]
    assert order_status(overdue) == OrderStatus.EXPIRED
    assert order_status(in_time) == OrderStatus.PLACED
    assert order_status(accepted_late) == OrderStatus.ACCEPTED
    assert available(listing) == KG("50.000")
    assert listing_status(listing) == ListingStatus.ACTIVE
    assert available(second) == KG("45.000")
    event = OrderEvent.objects.get(order=overdue, status=OrderStatus.EXPIRED)
    assert event.actor is None
    assert Notification.objects.filter(user=buyer, payload__status=OrderStatus.EXPIRED).exists()
    assert Notification.objects.filter(
        user=listing.seller, payload__status=OrderStatus.EXPIRED
    ).exists()


def test_expiring_twice_releases_once(buyer, listing):
    order = placed(buyer, listing, "10")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    first = expire_overdue_orders()
    second = expire_overdue_orders()

    assert first == [order.pk]
    assert second == []
    assert available(listing) == KG("50.000")
    assert OrderEvent.objects.filter(order=order, status=OrderStatus.EXPIRED).count() == 1
