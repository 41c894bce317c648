"""No oversell: real threads, each with its own database connection, race for the last kg."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from marketplace.choices import ListingStatus
from marketplace.exceptions import InsufficientQuantity
from marketplace.models import Listing, Order, OrderLine
from marketplace.services.orders import place_order
from tests.marketplace.factories import BuyerFactory, ListingFactory

BUYERS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_buyers_racing_for_the_last_units_never_oversell():
    listing = ListingFactory(available_kg=Decimal("7.000"), minimum_order_kg=Decimal("1.000"))
    buyers = [BuyerFactory() for _ in range(BUYERS)]
    start = threading.Barrier(BUYERS)
    placed, refused, failed = [], [], []

    def order_one_kg(buyer):
        try:
            start.wait()
            placed.append(place_order(buyer=buyer, lines=[(listing.pk, Decimal("1"))]).pk)
        except InsufficientQuantity as refusal:
            refused.append(refusal)
        except Exception as error:  # anything else fails the test below
            failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=order_one_kg, args=(buyer,)) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failed == []
    assert len(placed) == 7
    assert len(refused) == BUYERS - 7
    assert all(refusal.field == "quantity_kg" for refusal in refused)
    listing.refresh_from_db()
    assert listing.available_kg == Decimal("0.000")
    assert listing.status == ListingStatus.SOLD_OUT
    assert Order.objects.count() == 7
    assert sum(OrderLine.objects.values_list("quantity_kg", flat=True)) == Decimal("7.000")
    assert Listing.objects.filter(pk=listing.pk, available_kg__lt=0).count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_same_retry_sent_twice_at_once_makes_one_order():
    listing = ListingFactory(available_kg=Decimal("10.000"))
    buyer = BuyerFactory()
    start = threading.Barrier(2)
    results, failed = [], []

    def send():
        try:
            start.wait()
            order = place_order(
                buyer=buyer, lines=[(listing.pk, Decimal("4"))], idempotency_key="tap-twice"
            )
            results.append(order.pk)
        except Exception as error:  # anything else fails the test below
            failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failed == []
    assert len(set(results)) == 1
    assert Order.objects.count() == 1
    listing.refresh_from_db()
    assert listing.available_kg == Decimal("6.000")
