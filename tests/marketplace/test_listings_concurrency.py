"""A lot is never listed for more than it holds, even when two screens list it at once."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from djmoney.money import Money

from marketplace.exceptions import LotOverlisted
from marketplace.models import Listing
from marketplace.services.listings import create_listing
from tests.farms.factories import HarvestLotFactory

SCREENS = 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_listings_of_one_lot_never_exceed_its_quantity():
    lot = HarvestLotFactory(quantity_kg=Decimal("100.000"))
    start = threading.Barrier(SCREENS)
    listed, refused, failed = [], [], []

    def list_sixty_kg():
        try:
            start.wait()
            listing = create_listing(
                listed_by=lot.farm.farmer,
                lot=lot,
                price_per_kg=Money("4.00", "CNY"),
                available_kg=Decimal("60"),
                minimum_order_kg=Decimal("1"),
                available_until=timezone.now() + timedelta(days=2),
            )
            listed.append(listing.pk)
        except LotOverlisted as refusal:
            refused.append(refusal)
        except Exception as error:  # anything else fails the test below
            failed.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=list_sixty_kg) for _ in range(SCREENS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failed == []
    assert len(listed) == 1
    assert len(refused) == SCREENS - 1
    assert list(Listing.objects.filter(lot=lot).values_list("available_kg", flat=True)) == [
        Decimal("60.000")
    ]
