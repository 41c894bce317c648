"""Expiry runs in a real Celery worker, through the Redis broker, against the real database."""

from datetime import timedelta
from decimal import Decimal

import kombu.exceptions
import pytest
import redis.exceptions
from django.utils import timezone

from config.celery import app
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.models import Listing, Order, OrderEvent
from marketplace.services import orders as order_services
from marketplace.services.orders import place_order
from marketplace.tasks import expire_overdue_orders
from settlement.choices import EntryKind, HoldStatus
from settlement.holds import held_funds_of
from settlement.models import JournalEntry, PaymentHold
from settlement.selectors import balance_of
from tests.marketplace.factories import BuyerFactory, ListingFactory


@pytest.mark.django_db(transaction=True)
def test_worker_expires_an_overdue_order_and_releases_its_quantity(celery_worker_live):
    listing = ListingFactory(available_kg=Decimal("12.000"))
    overdue = place_order(buyer=BuyerFactory(), lines=[(listing.pk, Decimal("12"))])
    Order.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - timedelta(minutes=5))
    assert Listing.objects.get(pk=listing.pk).status == ListingStatus.SOLD_OUT

    expired = expire_overdue_orders.delay().get(timeout=30)
    again = expire_overdue_orders.delay().get(timeout=30)

    assert expired == [overdue.pk]
    assert again == []
    assert Order.objects.get(pk=overdue.pk).status == OrderStatus.EXPIRED
    listing = Listing.objects.get(pk=listing.pk)
    assert listing.available_kg == Decimal("12.000")
    assert listing.status == ListingStatus.ACTIVE
    assert OrderEvent.objects.filter(order=overdue, status=OrderStatus.EXPIRED).count() == 1
    # Its hold went back to the buyer's wallet, once.
    hold = PaymentHold.objects.get(reference=f"order:{overdue.pk}")
    assert hold.status == HoldStatus.RELEASED
    assert (
        JournalEntry.objects.filter(kind=EntryKind.RELEASE, reference=hold.reference).count() == 1
    )
    assert balance_of(held_funds_of(overdue.buyer)).amount == 0


def test_expiry_is_on_the_beat_schedule_every_five_minutes():
    entry = app.conf.beat_schedule["expire-overdue-orders"]

    assert entry["task"] == "marketplace.expire_overdue_orders"
    assert entry["schedule"].minute == set(range(0, 60, 5))
    assert entry["task"] in app.tasks


@pytest.mark.parametrize(
    "trouble",
    [
        redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379."),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379."),
    ],
    ids=type,
)
@pytest.mark.django_db
def test_expiry_retries_when_redis_or_the_broker_fails_once(monkeypatch, trouble):
    listing = ListingFactory(available_kg=Decimal("12.000"))
    overdue = place_order(buyer=BuyerFactory(), lines=[(listing.pk, Decimal("12"))])
    Order.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - timedelta(minutes=5))
    real_expiry = order_services.expire_overdue_orders
    attempts = []

    def fails_the_first_time(**kwargs):
        attempts.append(trouble)
        if len(attempts) == 1:
            raise trouble
        return real_expiry(**kwargs)

    monkeypatch.setattr(order_services, "expire_overdue_orders", fails_the_first_time)

    result = expire_overdue_orders.apply()  # in process; a retry runs again at once

    assert result.successful(), result.traceback
    assert result.result == [overdue.pk]
    assert Order.objects.get(pk=overdue.pk).status == OrderStatus.EXPIRED
