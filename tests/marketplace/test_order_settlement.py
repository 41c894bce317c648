"""Marketplace orders are paid on hand-over: the hold placed with the order pays the packed
total, which the platform then owes the seller; the rest of the hold goes back to the wallet,
and the wallet pays what the packed total is above the hold.

The autouse `buyer_wallet` fixture (tests/marketplace/conftest.py) puts ¥100,000 in the
`buyer`'s wallet; tests marked `unfunded_buyer` start with an empty wallet. Refusals at
placing and the hold's own journey are in test_payment_holds.py.
"""

from decimal import Decimal

import pytest
from djmoney.money import Money

from common.exceptions import RefusalKind
from marketplace.choices import OrderStatus
from marketplace.models import Order, OrderLine
from marketplace.services.orders import (
    accept_order,
    confirm_weights,
    hand_over,
    mark_ready,
    place_order,
)
from settlement.accounts import book_account, payable_to, platform_book, wallet_of
from settlement.choices import AccountKind, EntryKind
from settlement.exceptions import HoldShortOfTotal
from settlement.funding import top_up
from settlement.holds import capture_order_total, held_funds_of
from settlement.models import JournalEntry, Posting
from settlement.selectors import balance_of
from tests.farms.factories import MembershipFactory
from tests.marketplace.factories import BuyerFactory, ListingFactory

pytestmark = pytest.mark.django_db

KG = Decimal
FUNDED = Decimal("100000.00")


@pytest.fixture
def listing(db):
    """50 kg at ¥4.80/kg, minimum order 1 kg, on sale now."""
    return ListingFactory()


@pytest.fixture
def seller(listing):
    return listing.seller


def ready(buyer, listing, kg="10") -> Order:
    """An order of `kg` (¥4.80/kg) the seller has ready for pickup."""
    order = place_order(buyer=buyer, lines=[(listing.pk, KG(kg))])
    accept_order(by=listing.seller, order_id=order.pk)
    return mark_ready(by=listing.seller, order_id=order.pk)


def hand(order, packed: str, *, by=None) -> Order:
    line = order.lines.get()
    return hand_over(by=by or order.seller, order_id=order.pk, packed_kg={line.pk: KG(packed)})


def wallet(user) -> Decimal:
    return balance_of(wallet_of(user)).amount


def held(user) -> Decimal:
    return balance_of(held_funds_of(user)).amount


def owed_to(user) -> Decimal:
    return balance_of(payable_to(user)).amount


def order_entries(order) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(kind=EntryKind.ORDER, reference=f"order:{order.pk}"))


def ledger_counts() -> tuple[int, int]:
    return JournalEntry.objects.count(), Posting.objects.count()


def stored(order) -> Order:
    return Order.objects.get(pk=order.pk)


# --- Settled on hand-over -------------------------------------------------------------------


def test_hand_over_within_tolerance_settles_the_packed_total(buyer, seller, listing):
    order = ready(buyer, listing)  # ¥48.00 ordered

    hand(order, "10.2")  # ¥48.96 packed

    assert stored(order).status == OrderStatus.HANDED_OVER
    assert stored(order).total == Money(KG("48.96"), "CNY")
    assert wallet(buyer) == FUNDED - KG("48.96")
    assert held(buyer) == 0
    assert owed_to(seller) == KG("48.96")
    [entry] = order_entries(order)
    assert entry.book == platform_book()
    assert entry.created_by == seller
    # The ¥48.00 held pays, and the wallet the ¥0.96 the packed total is above it.
    postings = {p.account_id: p.amount for p in entry.postings.all()}
    assert postings == {
        held_funds_of(buyer).pk: Money(KG("48.00"), "CNY"),
        wallet_of(buyer).pk: Money(KG("0.96"), "CNY"),
        payable_to(seller).pk: Money(KG("-48.96"), "CNY"),
    }


def test_hand_over_by_the_cooperative_manager_pays_the_seller(buyer, seller, listing):
    manager = MembershipFactory(cooperative=listing.lot.farm.cooperative, manager=True).user
    order = ready(buyer, listing)

    hand(order, "10", by=manager)

    assert owed_to(seller) == KG("48.00")
    assert owed_to(manager) == 0
    assert order_entries(order)[0].created_by == manager


def test_orders_of_several_buyers_add_up_for_the_seller(buyer, seller, listing):
    other = BuyerFactory(wallet="20.00")
    hand(ready(buyer, listing, "10"), "10")
    hand(ready(other, listing, "4"), "4")  # ¥19.20

    assert owed_to(seller) == KG("67.20")
    assert wallet(other) == KG("0.80")
    assert wallet(buyer) == FUNDED - KG("48.00")


def test_settlement_leaves_the_platform_book_balanced(buyer, listing):
    hand(ready(buyer, listing), "10")

    book = platform_book()
    total = sum((p.amount.amount for p in Posting.objects.filter(entry__book=book)), Decimal("0"))
    assert total == 0
    # The funding came in through the bank clearing account.
    assert balance_of(book_account(book, AccountKind.BANK)).amount == FUNDED


# --- Beyond tolerance: the buyer decides -----------------------------------------------------


def test_beyond_tolerance_nothing_is_settled_until_the_buyer_accepts(buyer, seller, listing):
    order = ready(buyer, listing)

    hand(order, "12")  # ¥57.60, 20 % over

    assert stored(order).status == OrderStatus.AWAITING_BUYER
    assert order_entries(order) == []
    assert (wallet(buyer), held(buyer)) == (FUNDED - KG("48.00"), KG("48.00"))
    assert owed_to(seller) == 0

    confirm_weights(by=buyer, order_id=order.pk, accept=True)

    assert stored(order).status == OrderStatus.HANDED_OVER
    [entry] = order_entries(order)
    assert entry.created_by == buyer
    assert (wallet(buyer), held(buyer)) == (FUNDED - KG("57.60"), 0)
    assert owed_to(seller) == KG("57.60")


def test_declined_weights_settle_nothing(buyer, seller, listing):
    order = ready(buyer, listing)
    hand(order, "12")

    confirm_weights(by=buyer, order_id=order.pk, accept=False)

    assert stored(order).status == OrderStatus.READY
    assert stored(order).total == Money(KG("48.00"), "CNY")
    assert order_entries(order) == []
    assert (wallet(buyer), held(buyer)) == (FUNDED - KG("48.00"), KG("48.00"))  # still held
    assert owed_to(seller) == 0

    hand(order, "10")  # handed over again, at the ordered weight: the hold pays it exactly

    assert [entry.postings.count() for entry in order_entries(order)] == [2]
    assert (wallet(buyer), held(buyer)) == (FUNDED - KG("48.00"), 0)


# --- A short wallet: the packed total above the hold ------------------------------------------


@pytest.mark.unfunded_buyer
def test_a_wallet_a_cent_short_of_the_packed_total_stops_the_hand_over(buyer, seller, listing):
    top_up(account=wallet_of(buyer), amount="48.95", method="bank", by=None, idempotency_key="s")
    order = ready(buyer, listing)  # ¥48.00 held, ¥0.95 left available
    line = order.lines.get()
    before = ledger_counts()

    with pytest.raises(HoldShortOfTotal) as refused:
        hand(order, "10.2")  # ¥48.96: ¥0.96 above the hold

    assert refused.value.kind == RefusalKind.INVALID
    message = str(refused.value.message)
    assert all(sum_ in message for sum_ in ("¥48.96", "¥0.96", "¥48.00"))
    assert "0.95" not in message  # the seller is not told the buyer's balance
    assert refused.value.details["balance"] == Money(KG("0.95"), "CNY")
    order = stored(order)
    assert order.status == OrderStatus.READY
    assert order.total == Money(KG("48.00"), "CNY")
    assert OrderLine.objects.get(pk=line.pk).packed_kg is None
    assert ledger_counts() == before
    assert (wallet(buyer), held(buyer), owed_to(seller)) == (KG("0.95"), KG("48.00"), 0)

    hand(order, "10")  # ¥48.00: the hold pays it

    assert (wallet(buyer), held(buyer), owed_to(seller)) == (KG("0.95"), 0, KG("48.00"))


@pytest.mark.unfunded_buyer
def test_a_short_wallet_stops_the_buyers_acceptance_too(buyer, seller, listing):
    top_up(account=wallet_of(buyer), amount="50.00", method="bank", by=None, idempotency_key="s")
    order = ready(buyer, listing)  # ¥48.00 held, ¥2.00 available
    hand(order, "12")  # ¥57.60 awaits the buyer
    before = ledger_counts()

    with pytest.raises(HoldShortOfTotal) as refused:
        confirm_weights(by=buyer, order_id=order.pk, accept=True)

    # The buyer is told what he has and what is missing.
    message = str(refused.value.message)
    assert all(sum_ in message for sum_ in ("¥2.00", "¥9.60", "¥57.60"))
    assert stored(order).status == OrderStatus.AWAITING_BUYER
    assert stored(order).total == Money(KG("57.60"), "CNY")
    assert ledger_counts() == before
    assert (wallet(buyer), held(buyer)) == (KG("2.00"), KG("48.00"))


# --- Idempotency ------------------------------------------------------------------------------


def test_settling_an_order_twice_writes_one_entry(buyer, seller, listing):
    order = hand(ready(buyer, listing), "10")
    [first] = order_entries(order)
    before = ledger_counts()

    again = capture_order_total(order=stored(order), by=seller)
    once_more = capture_order_total(order=stored(order), by=None)

    assert again.pk == first.pk == once_more.pk
    assert ledger_counts() == before
    assert wallet(buyer) == FUNDED - KG("48.00")
    assert owed_to(seller) == KG("48.00")


# --- The API ----------------------------------------------------------------------------------


@pytest.mark.unfunded_buyer
def test_the_hand_over_api_is_a_400_when_the_wallet_cannot_pay_above_the_hold(
    api_as, buyer, listing
):
    top_up(account=wallet_of(buyer), amount="48.00", method="bank", by=None, idempotency_key="s")
    order = ready(buyer, listing)
    line = order.lines.get()

    response = api_as(listing.seller).post(
        f"/api/orders/{order.pk}/hand-over/",
        {"packed_kg": {str(line.pk): "10.5"}},  # ¥50.40, within the 5 % tolerance
        format="json",
    )

    assert response.status_code == 400
    # One refusal, on the wallet; its message gives the held sum and what is missing.
    [message] = response.json()["wallet"]
    assert "¥48.00" in message
    assert "¥2.40" in message
    assert stored(order).status == OrderStatus.READY
    assert OrderLine.objects.get(pk=line.pk).packed_kg is None
    assert order_entries(order) == []


def test_the_hand_over_api_settles_the_order(api_as, buyer, listing):
    order = ready(buyer, listing)
    line = order.lines.get()

    response = api_as(listing.seller).post(
        f"/api/orders/{order.pk}/hand-over/",
        {"packed_kg": {str(line.pk): "10.1"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == OrderStatus.HANDED_OVER
    assert response.json()["total"] == "48.48"
    assert wallet(buyer) == FUNDED - KG("48.48")
    assert owed_to(listing.seller) == KG("48.48")
