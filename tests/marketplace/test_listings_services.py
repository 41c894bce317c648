from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from moneyed import Money

from common.exceptions import InvalidTransition, RefusalKind
from common.money import cny, price_per_unit
from common.units import WeightUnit, price_per_kg_from
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.exceptions import (
    InvalidMinimumOrder,
    InvalidPickupPoint,
    InvalidPrice,
    InvalidQuantity,
    InvalidWindow,
    ListingClosed,
    ListingNotFound,
    LotNotAvailable,
    LotOverlisted,
)
from marketplace.models import Listing, Order, OrderLine
from marketplace.services.listings import (
    change_listing_status,
    create_listing,
    pinyin_initials,
    update_listing,
)
from tests.accounts.factories import UserFactory
from tests.farms.factories import MembershipFactory


def _list(lot, *, by, **overrides):
    values = {
        "listed_by": by,
        "lot": lot,
        "price_per_kg": Decimal("4.80"),
        "available_kg": Decimal("60"),
        "minimum_order_kg": Decimal("5"),
        "available_until": timezone.now() + timedelta(days=3),
    }
    return create_listing(**{**values, **overrides})


def test_farmer_lists_her_lot_with_its_facts_copied(member, lot):
    listing = _list(lot, by=member, notes=" 早上采摘 ")

    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE
    assert listing.seller == member
    assert listing.listed_by == member
    assert listing.product == lot.product
    assert listing.grade == lot.grade
    assert listing.harvest_date == lot.harvest_date
    assert listing.certifications == ["green_food"]
    assert listing.price_per_kg == Money("4.80", "CNY")
    assert listing.available_kg == Decimal("60.000")
    assert listing.minimum_order_kg == Decimal("5.000")
    assert listing.pickup_point.coords == pytest.approx(lot.farm.location.coords)
    assert listing.product_initials == "hg"
    assert listing.notes == "早上采摘"


def test_manager_lists_a_members_lot_and_the_member_is_the_seller(manager, member, lot):
    listing = _list(lot, by=manager, publish=False)

    assert listing.seller == member
    assert listing.listed_by == manager
    assert listing.status == ListingStatus.DRAFT


def test_admin_may_list_any_lot(admin_user, lot):
    assert _list(lot, by=admin_user).seller == lot.farm.farmer


def test_other_farmer_and_other_manager_and_buyer_cannot_list_the_lot(lot, buyer, other_farm):
    other_manager = MembershipFactory(
        cooperative=other_farm.cooperative, manager=True
    ).user  # manages another co-operative

    for stranger in (other_farm.farmer, other_manager, buyer):
        with pytest.raises(LotNotAvailable):
            _list(lot, by=stranger)

    assert Listing.objects.count() == 0


def test_pickup_point_may_differ_from_the_farm(member, lot):
    listing = _list(lot, by=member, pickup_point=Point(118.80, 36.87, srid=4326))

    listing.refresh_from_db()
    assert listing.pickup_point.coords == pytest.approx((118.80, 36.87))


def test_pickup_point_outside_china_is_refused(member, lot):
    with pytest.raises(InvalidPickupPoint):
        _list(lot, by=member, pickup_point=Point(2.35, 48.85, srid=4326))


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"available_kg": Decimal("0")}, InvalidQuantity, "available_kg"),
        ({"available_kg": Decimal("-5")}, InvalidQuantity, "available_kg"),
        ({"available_kg": Decimal("1.2345")}, InvalidQuantity, "available_kg"),
        ({"available_kg": "lots"}, InvalidQuantity, "available_kg"),
        ({"minimum_order_kg": Decimal("0")}, InvalidMinimumOrder, "minimum_order_kg"),
        ({"minimum_order_kg": Decimal("61")}, InvalidMinimumOrder, "minimum_order_kg"),
        ({"price_per_kg": Decimal("0")}, InvalidPrice, "price_per_kg"),
        ({"price_per_kg": Decimal("-1.00")}, InvalidPrice, "price_per_kg"),
        ({"price_per_kg": Decimal("4.805")}, InvalidPrice, "price_per_kg"),
        ({"price_per_kg": Decimal("100000.01")}, InvalidPrice, "price_per_kg"),
        ({"price_per_kg": Decimal("1E+30")}, InvalidPrice, "price_per_kg"),
        ({"price_per_kg": Decimal("NaN")}, InvalidPrice, "price_per_kg"),
        ({"price_per_kg": Money("4.80", "USD")}, InvalidPrice, "price_per_kg"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_listed(
    member, lot, overrides, error, field
):
    with pytest.raises(error) as refused:
        _list(lot, by=member, **overrides)

    assert refused.value.field == field
    assert str(refused.value.message)
    assert Listing.objects.count() == 0


def test_window_that_ends_before_it_starts_or_is_over_is_refused(member, lot):
    now = timezone.now()

    with pytest.raises(InvalidWindow):
        _list(lot, by=member, available_from=now + timedelta(days=2), available_until=now)
    with pytest.raises(InvalidWindow):
        _list(
            lot,
            by=member,
            available_from=now - timedelta(days=3),
            available_until=now - timedelta(days=1),
        )

    assert Listing.objects.count() == 0


def test_listings_of_one_lot_cannot_together_exceed_it(member, lot):
    _list(lot, by=member, available_kg=Decimal("60"))

    with pytest.raises(LotOverlisted) as refused:
        _list(lot, by=member, available_kg=Decimal("40.001"))

    assert "40.000" in str(refused.value.message)
    assert Listing.objects.count() == 1
    assert _list(lot, by=member, available_kg=Decimal("40")).available_kg == Decimal("40.000")


def test_ordered_quantity_stays_counted_and_a_closed_listings_rest_is_freed(member, lot, buyer):
    first = _list(lot, by=member, available_kg=Decimal("60"))
    order = Order.objects.create(
        buyer=buyer,
        seller=member,
        total=Money("48.00", "CNY"),
        expires_at=timezone.now() + timedelta(hours=24),
        status=OrderStatus.PLACED,
    )
    OrderLine.objects.create(
        order=order,
        listing=first,
        quantity_kg=Decimal("10"),
        unit_price=first.price_per_kg,
        amount=Money("48.00", "CNY"),
    )
    Listing.objects.filter(pk=first.pk).update(available_kg=Decimal("50"))
    change_listing_status(changed_by=member, listing_id=first.pk, action="close")

    # 10 kg is in a live order: 90 kg is left to list, not 100.
    with pytest.raises(LotOverlisted):
        _list(lot, by=member, available_kg=Decimal("90.001"))
    assert _list(lot, by=member, available_kg=Decimal("90")).available_kg == Decimal("90")


def test_cancelled_orders_do_not_hold_quantity(member, lot, buyer):
    first = _list(lot, by=member, available_kg=Decimal("60"))
    order = Order.objects.create(
        buyer=buyer,
        seller=member,
        total=Money("48.00", "CNY"),
        expires_at=timezone.now(),
        status=OrderStatus.CANCELLED,
    )
    OrderLine.objects.create(
        order=order,
        listing=first,
        quantity_kg=Decimal("10"),
        unit_price=first.price_per_kg,
        amount=Money("48.00", "CNY"),
    )

    assert _list(lot, by=member, available_kg=Decimal("40")).available_kg == Decimal("40")


def test_seller_updates_price_quantity_window_and_notes(member, lot):
    listing = _list(lot, by=member)
    until = timezone.now() + timedelta(days=5)

    update_listing(
        updated_by=member,
        listing_id=listing.pk,
        price_per_kg=Decimal("5.20"),
        available_kg=Decimal("80"),
        available_until=until,
        notes="下午也有",
    )

    listing.refresh_from_db()
    assert listing.price_per_kg == Money("5.20", "CNY")
    assert listing.available_kg == Decimal("80.000")
    assert listing.available_until == until
    assert listing.notes == "下午也有"


def test_update_cannot_raise_quantity_beyond_the_lot(member, lot):
    listing = _list(lot, by=member, available_kg=Decimal("60"))
    _list(lot, by=member, available_kg=Decimal("30"))

    with pytest.raises(LotOverlisted):
        update_listing(updated_by=member, listing_id=listing.pk, available_kg=Decimal("70.001"))

    listing.refresh_from_db()
    assert listing.available_kg == Decimal("60.000")


def test_update_to_zero_sells_out_and_more_puts_it_back_on_sale(member, lot):
    listing = _list(lot, by=member)

    update_listing(updated_by=member, listing_id=listing.pk, available_kg=Decimal("0"))
    listing.refresh_from_db()
    assert listing.status == ListingStatus.SOLD_OUT

    update_listing(updated_by=member, listing_id=listing.pk, available_kg=Decimal("20"))
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_update_refuses_minimum_above_quantity_and_changes_nothing(member, lot):
    listing = _list(lot, by=member, available_kg=Decimal("60"))

    with pytest.raises(InvalidMinimumOrder):
        update_listing(
            updated_by=member,
            listing_id=listing.pk,
            price_per_kg=Decimal("9.99"),
            minimum_order_kg=Decimal("61"),
        )

    listing.refresh_from_db()
    assert listing.minimum_order_kg == Decimal("5.000")
    assert listing.price_per_kg == Money("4.80", "CNY")


def test_other_farmer_cannot_update_or_change_status(member, lot, other_farm):
    listing = _list(lot, by=member)

    with pytest.raises(ListingNotFound):
        update_listing(
            updated_by=other_farm.farmer, listing_id=listing.pk, price_per_kg=Decimal("1")
        )
    with pytest.raises(ListingNotFound):
        change_listing_status(changed_by=other_farm.farmer, listing_id=listing.pk, action="close")

    listing.refresh_from_db()
    assert listing.price_per_kg == Money("4.80", "CNY")
    assert listing.status == ListingStatus.ACTIVE


def test_draft_is_published_paused_resumed_and_closed(member, lot):
    listing = _list(lot, by=member, publish=False)

    for action, expected in [
        ("publish", ListingStatus.ACTIVE),
        ("pause", ListingStatus.PAUSED),
        ("resume", ListingStatus.ACTIVE),
        ("close", ListingStatus.CLOSED),
    ]:
        change_listing_status(changed_by=member, listing_id=listing.pk, action=action)
        listing.refresh_from_db()
        assert listing.status == expected


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (ListingStatus.ACTIVE, "publish"),
        (ListingStatus.ACTIVE, "resume"),
        (ListingStatus.DRAFT, "pause"),
        (ListingStatus.CLOSED, "resume"),
        (ListingStatus.CLOSED, "close"),
    ],
)
def test_transition_not_allowed_is_a_conflict_and_changes_nothing(member, lot, start, action):
    listing = _list(lot, by=member)
    Listing.objects.filter(pk=listing.pk).update(status=start)

    with pytest.raises(InvalidTransition) as refused:
        change_listing_status(changed_by=member, listing_id=listing.pk, action=action)

    assert refused.value.kind == RefusalKind.CONFLICT
    listing.refresh_from_db()
    assert listing.status == start


def test_closed_listing_cannot_be_updated(member, lot):
    listing = _list(lot, by=member)
    change_listing_status(changed_by=member, listing_id=listing.pk, action="close")

    with pytest.raises(ListingClosed):
        update_listing(updated_by=member, listing_id=listing.pk, price_per_kg=Decimal("9"))


def test_listing_whose_time_is_over_cannot_be_resumed(member, lot):
    listing = _list(lot, by=member)
    change_listing_status(changed_by=member, listing_id=listing.pk, action="pause")
    Listing.objects.filter(pk=listing.pk).update(
        available_from=timezone.now() - timedelta(days=3),
        available_until=timezone.now() - timedelta(minutes=1),
    )

    with pytest.raises(InvalidWindow):
        change_listing_status(changed_by=member, listing_id=listing.pk, action="resume")

    listing.refresh_from_db()
    assert listing.status == ListingStatus.PAUSED


def test_price_per_jin_is_half_the_price_per_kg():
    assert price_per_unit(cny("4.80"), WeightUnit.JIN) == cny("2.40")
    assert price_per_unit(cny("4.80"), WeightUnit.KG) == cny("4.80")
    assert price_per_kg_from(WeightUnit.JIN, Decimal("2.40")) == Decimal("4.80")


def test_pinyin_initials():
    assert pinyin_initials("黄瓜") == "hg"
    assert pinyin_initials("红富士苹果") == "hfspg"


def test_unknown_user_kinds_cannot_list(lot):
    inactive = UserFactory(role="farmer", is_active=False)
    with pytest.raises(LotNotAvailable):
        _list(lot, by=inactive)
