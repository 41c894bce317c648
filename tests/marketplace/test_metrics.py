"""Buyers' orders placed are counted once committed; a refused order counts nothing."""

from decimal import Decimal

import pytest

from marketplace.services.orders import place_order
from tests.marketplace.factories import ListingFactory


@pytest.fixture
def listing(db):
    return ListingFactory()


@pytest.mark.django_db
def test_a_placed_order_is_counted(buyer, listing, metrics, django_capture_on_commit_callbacks):
    before = metrics.value("freshchain_orders_placed_total")

    with django_capture_on_commit_callbacks(execute=True):
        place_order(buyer=buyer, lines=[(listing.pk, Decimal("2"))], idempotency_key="k1")
        place_order(buyer=buyer, lines=[(listing.pk, Decimal("2"))], idempotency_key="k1")

    assert metrics.value("freshchain_orders_placed_total") == before + 1


@pytest.mark.django_db
def test_a_refused_order_is_not_counted(
    buyer, listing, metrics, django_capture_on_commit_callbacks
):
    before = metrics.value("freshchain_orders_placed_total")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017, PT011
        place_order(buyer=buyer, lines=[(listing.pk, listing.available_kg + 1)])

    assert metrics.value("freshchain_orders_placed_total") == before
