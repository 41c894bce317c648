"""No hold, no order: placing a marketplace order holds its total in the buyer's wallet (a
balanced entry from the wallet to his held funds); hand-over captures the re-priced total and
gives the rest back; cancel, reject and expiry give the whole hold back. The ledger verifies
after each of them.

The autouse `buyer_wallet` fixture (tests/marketplace/conftest.py) puts ¥100,000 in the
`buyer`'s wallet; tests marked `unfunded_buyer` start with an empty one.
"""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone
from djmoney.money import Money

from common.exceptions import RefusalKind
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.exceptions import AmountBelowOneCent
from marketplace.models import Listing, Order, OrderEvent, OrderLine
from marketplace.services.orders import (
    accept_order,
    cancel_order,
    expire_overdue_orders,
    hand_over,
    mark_ready,
    place_order,
    reject_order,
)
from settlement.accounts import payable_to, wallet_of
from settlement.choices import EntryKind, HoldStatus
from settlement.exceptions import WalletCannotHold
from settlement.findings import CHECK_HOLDS
from settlement.funding import top_up
from settlement.holds import held_funds_of, release_order_hold
from settlement.models import JournalEntry, PaymentHold, Posting
from settlement.selectors import balance_of
from settlement.verification import verify_ledger
from tests.marketplace.factories import BuyerFactory, ListingFactory

pytestmark = pytest.mark.django_db

KG = Decimal
FUNDED = Decimal("100000.00")


@pytest.fixture
def listing(db):
    """50 kg at ¥4.80/kg, minimum order 1 kg, on sale now."""
    return ListingFactory()


def wallet(user) -> Decimal:
    return balance_of(wallet_of(user)).amount


def held(user) -> Decimal:
    return balance_of(held_funds_of(user)).amount


def hold_of(order) -> PaymentHold:
    return PaymentHold.objects.get(reference=f"order:{order.pk}")


def entries(kind: str, order) -> list[JournalEntry]:
    return list(JournalEntry.objects.filter(kind=kind, reference=f"order:{order.pk}"))


def ledger_counts() -> tuple[int, int, int]:
    return JournalEntry.objects.count(), Posting.objects.count(), PaymentHold.objects.count()


def assert_ledger_verifies() -> None:
    result = verify_ledger()
    assert [finding for finding in result.findings if finding.is_error] == []
    assert result.passed(CHECK_HOLDS)


def place(buyer, listing, kg="10") -> Order:
    return place_order(buyer=buyer, lines=[(listing.pk, KG(kg))])


def ready(buyer, listing, kg="10") -> Order:
    order = place(buyer, listing, kg)
    accept_order(by=listing.seller, order_id=order.pk)
    return mark_ready(by=listing.seller, order_id=order.pk)


# --- Placing holds the total ------------------------------------------------------------------


def test_placing_an_order_holds_its_total_and_the_wallet_keeps_the_money(buyer, listing):
    order = place(buyer, listing, "12.5")  # ¥60.00

    assert (wallet(buyer), held(buyer)) == (FUNDED - KG("60.00"), KG("60.00"))
    assert wallet(buyer) + held(buyer) == FUNDED  # set aside, not spent
    assert balance_of(payable_to(listing.seller)).amount == 0
    hold = hold_of(order)
    assert hold.status == HoldStatus.HELD
    assert hold.amount == Money(KG("60.00"), "CNY")
    assert hold.wallet == wallet_of(buyer)
    assert hold.captured_amount is None
    assert hold.closed_at is None
    [entry] = entries(EntryKind.HOLD, order)
    assert hold.hold_entry == entry
    assert {p.account_id: p.amount.amount for p in entry.postings.all()} == {
        wallet_of(buyer).pk: KG("60.00"),
        held_funds_of(buyer).pk: KG("-60.00"),
    }
    assert_ledger_verifies()


def test_a_retried_order_holds_once(buyer, listing):
    first = place_order(buyer=buyer, lines=[(listing.pk, KG("10"))], idempotency_key="tap")
    again = place_order(buyer=buyer, lines=[(listing.pk, KG("10"))], idempotency_key="tap")

    assert again.pk == first.pk
    assert PaymentHold.objects.count() == 1
    assert held(buyer) == KG("48.00")


# --- No hold, no order ------------------------------------------------------------------------


@pytest.mark.unfunded_buyer
def test_an_empty_wallet_cannot_reserve_a_listing_and_nothing_changes(buyer, listing):
    before = ledger_counts()

    with pytest.raises(WalletCannotHold) as refused:
        place(buyer, listing, "50")  # the whole listing, ¥240.00

    assert refused.value.field == "wallet"
    assert refused.value.kind == RefusalKind.INVALID
    assert "¥0.00" in str(refused.value.message)
    assert "¥240.00" in str(refused.value.message)
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.available_kg == KG("50.000")
    assert listing.status == ListingStatus.ACTIVE
    assert not Order.objects.exists()
    assert not OrderLine.objects.exists()
    assert not OrderEvent.objects.exists()
    assert ledger_counts() == before
    assert (wallet(buyer), held(buyer)) == (0, 0)


@pytest.mark.unfunded_buyer
def test_a_wallet_that_covers_one_order_refuses_the_next_with_what_is_left(buyer, listing):
    top_up(account=wallet_of(buyer), amount="60.00", method="bank", by=None, idempotency_key="t")
    place(buyer, listing, "10")  # ¥48.00 held, ¥12.00 left

    with pytest.raises(WalletCannotHold) as refused:
        place(buyer, listing, "3")  # ¥14.40

    assert "¥12.00" in str(refused.value.message)
    assert "¥14.40" in str(refused.value.message)
    assert Order.objects.count() == 1
    assert Listing.objects.get(pk=listing.pk).available_kg == KG("40.000")
    assert (wallet(buyer), held(buyer)) == (KG("12.00"), KG("48.00"))


@pytest.mark.unfunded_buyer
def test_the_api_refuses_an_order_the_wallet_cannot_hold_on_the_wallet_field(
    api_as, buyer, listing
):
    top_up(account=wallet_of(buyer), amount="5.50", method="bank", by=None, idempotency_key="t")

    response = api_as(buyer).post(
        "/api/orders/",
        {"lines": [{"listing_id": listing.pk, "quantity_kg": "2"}]},
        format="json",
    )

    assert response.status_code == 400
    [message] = response.json()["wallet"]
    assert "¥5.50" in message
    assert "¥9.60" in message
    assert not Order.objects.exists()
    assert Listing.objects.get(pk=listing.pk).available_kg == KG("50.000")


# --- Hand-over captures the re-priced total ---------------------------------------------------


def test_hand_over_below_the_hold_captures_the_packed_total_and_releases_the_rest(buyer, listing):
    order = ready(buyer, listing, "10")  # ¥48.00 held
    line = order.lines.get()

    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("9.6")})  # ¥46.08

    assert Order.objects.get(pk=order.pk).status == OrderStatus.HANDED_OVER
    assert (wallet(buyer), held(buyer)) == (FUNDED - KG("46.08"), 0)
    assert balance_of(payable_to(listing.seller)).amount == KG("46.08")
    hold = hold_of(order)
    assert hold.status == HoldStatus.CAPTURED
    assert hold.captured_amount == Money(KG("46.08"), "CNY")
    assert hold.closed_at is not None
    [entry] = entries(EntryKind.ORDER, order)
    assert hold.close_entry == entry
    assert {p.account_id: p.amount.amount for p in entry.postings.all()} == {
        held_funds_of(buyer).pk: KG("48.00"),
        wallet_of(buyer).pk: KG("-1.92"),
        payable_to(listing.seller).pk: KG("-46.08"),
    }
    assert_ledger_verifies()


def test_hand_over_above_the_hold_takes_the_difference_from_the_wallet(buyer, listing):
    order = ready(buyer, listing, "10")  # ¥48.00 held
    line = order.lines.get()

    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("10.4")})  # ¥49.92

    assert (wallet(buyer), held(buyer)) == (FUNDED - KG("49.92"), 0)
    assert balance_of(payable_to(listing.seller)).amount == KG("49.92")
    assert hold_of(order).captured_amount == Money(KG("49.92"), "CNY")
    assert_ledger_verifies()


# --- Cancel, reject and expiry release ---------------------------------------------------------


def _cancel(order, listing):
    cancel_order(by=order.buyer, order_id=order.pk)


def _reject(order, listing):
    reject_order(by=listing.seller, order_id=order.pk, reason="no truck")


def _expire(order, listing):
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_overdue_orders() == [order.pk]


@pytest.mark.parametrize("end", [_cancel, _reject, _expire], ids=["cancel", "reject", "expire"])
def test_an_order_ending_unpaid_gives_the_whole_hold_back(buyer, listing, end):
    order = place(buyer, listing, "10")

    end(order, listing)

    assert (wallet(buyer), held(buyer)) == (FUNDED, 0)
    hold = hold_of(order)
    assert hold.status == HoldStatus.RELEASED
    assert hold.captured_amount is None
    [release] = entries(EntryKind.RELEASE, order)
    assert hold.close_entry == release
    assert {p.account_id: p.amount.amount for p in release.postings.all()} == {
        held_funds_of(buyer).pk: KG("48.00"),
        wallet_of(buyer).pk: KG("-48.00"),
    }
    assert Listing.objects.get(pk=listing.pk).available_kg == KG("50.000")
    assert_ledger_verifies()


def test_expiring_twice_releases_the_hold_once(buyer, listing):
    order = place(buyer, listing, "10")
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert expire_overdue_orders() == [order.pk]
    assert expire_overdue_orders() == []
    with transaction.atomic():  # a release retried by hand changes nothing either
        release_order_hold(order=Order.objects.get(pk=order.pk), by=None)

    assert len(entries(EntryKind.RELEASE, order)) == 1
    assert (wallet(buyer), held(buyer)) == (FUNDED, 0)
    assert_ledger_verifies()


# --- Two orders racing for the same money -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_orders_at_once_from_a_wallet_that_pays_one_place_exactly_one():
    buyer = BuyerFactory(wallet="60.00")
    listings = [ListingFactory(), ListingFactory()]
    start = threading.Barrier(2)
    placed, refused, failed = [], [], []

    def order_ten_kg(listing):  # ¥48.00 each
        try:
            start.wait()
            placed.append(place(buyer, listing, "10").pk)
        except WalletCannotHold as refusal:
            refused.append(refusal)
        except Exception as error:  # anything else fails the test below
            failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=order_ten_kg, args=(each,)) for each in listings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failed == []
    assert len(placed) == 1
    assert len(refused) == 1
    assert "¥12.00" in str(refused[0].message)
    assert Order.objects.count() == 1
    assert sorted(Listing.objects.values_list("available_kg", flat=True)) == [
        KG("40.000"),
        KG("50.000"),
    ]
    assert (wallet(buyer), held(buyer)) == (KG("12.00"), KG("48.00"))
    assert PaymentHold.objects.count() == 1
    assert_ledger_verifies()


# --- The ledger checks the holds --------------------------------------------------------------


def test_a_hold_recorded_without_its_money_is_found(buyer, listing):
    order = place(buyer, listing, "10")
    real = hold_of(order)
    PaymentHold.objects.create(
        wallet=real.wallet,
        held_account=real.held_account,
        amount=Money(KG("5.00"), "CNY"),
        reference="order:forged",
        idempotency_key="forged",
        hold_entry=JournalEntry.objects.filter(kind=EntryKind.TOP_UP).first(),
        created_at=timezone.now(),
    )

    result = verify_ledger()

    assert not result.passed(CHECK_HOLDS)
    [finding] = [f for f in result.findings if f.check == CHECK_HOLDS]
    assert finding.ids == (real.held_account_id,)
    assert "48.00" in finding.message
    assert "53.00" in finding.message


def test_a_closed_hold_cannot_be_changed_in_the_database(buyer, listing):
    order = place(buyer, listing, "10")
    cancel_order(by=buyer, order_id=order.pk)

    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentHold.objects.filter(pk=hold_of(order).pk).update(status=HoldStatus.HELD)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentHold.objects.filter(pk=hold_of(order).pk).delete()


# --- What the buyer sees -----------------------------------------------------------------------


@pytest.fixture
def page_as():
    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


def _order_on_the_page(client, listing, kg: str):
    data = {"quantity": kg, "weight_tolerance_pct": "5", "note": "", "idempotency_key": "k"}
    return client.post(f"/produce/{listing.pk}/", data)


def test_the_listing_page_shows_the_buyer_what_is_available_and_held(page_as, buyer, listing):
    place(buyer, listing, "10")  # ¥48.00 held

    page = page_as(buyer).get(f"/produce/{listing.pk}/").content.decode()

    assert f"Your wallet: ¥{FUNDED - KG('48.00')} available, ¥48.00 held for open orders" in page


@pytest.mark.unfunded_buyer
def test_the_listing_page_refuses_an_order_the_wallet_cannot_hold(page_as, buyer, listing):
    top_up(account=wallet_of(buyer), amount="20.00", method="bank", by=None, idempotency_key="t")

    response = _order_on_the_page(page_as(buyer), listing, "5")  # ¥24.00

    assert response.status_code == 200
    page = response.content.decode()
    assert "Your wallet has ¥20.00 available and this order comes to ¥24.00." in page
    assert not Order.objects.exists()
    assert Listing.objects.get(pk=listing.pk).available_kg == KG("50.000")


def test_the_order_page_says_what_is_held_and_then_what_was_paid(page_as, buyer, listing):
    order = ready(buyer, listing, "10")
    line = order.lines.get()

    held_page = page_as(listing.seller).get(f"/orders/{order.pk}/").content.decode()
    hand_over(by=listing.seller, order_id=order.pk, packed_kg={line.pk: KG("9.6")})
    paid_page = page_as(buyer).get(f"/orders/{order.pk}/").content.decode()

    assert "¥48.00 held in the buyer's wallet" in held_page
    assert "¥46.08 paid from the hold" in paid_page


def test_the_wallet_api_shows_available_held_and_the_open_holds(api_as, buyer, listing):
    order = place(buyer, listing, "10")
    place(buyer, ListingFactory(), "2.5")  # ¥12.00
    cancel_order(by=buyer, order_id=order.pk)

    body = api_as(buyer).get("/api/wallet/").json()

    assert body["available"] == str(FUNDED - KG("12.00"))
    assert body["held"] == "12.00"
    assert body["currency"] == "CNY"
    assert [(hold["order"], hold["amount"]) for hold in body["open_holds"]] == [
        (Order.objects.exclude(pk=order.pk).get().pk, "12.00")
    ]


def test_the_wallet_api_shows_only_ones_own_wallet(api_as, buyer, listing):
    place(buyer, listing, "10")
    stranger = BuyerFactory(wallet=0)

    body = api_as(stranger).get("/api/wallet/").json()

    assert body == {"available": "0.00", "held": "0.00", "currency": "CNY", "open_holds": []}


def test_an_order_that_comes_to_less_than_a_cent_is_refused_and_nothing_changes(buyer):
    listing = ListingFactory(price_per_kg=Money(KG("0.01"), "CNY"), minimum_order_kg=KG("0.001"))
    before = ledger_counts()

    with pytest.raises(AmountBelowOneCent) as refused:
        place(buyer, listing, "0.4")  # ¥0.004

    assert refused.value.field == "lines"
    assert not Order.objects.exists()
    assert Listing.objects.get(pk=listing.pk).available_kg == KG("50.000")
    assert ledger_counts() == before
