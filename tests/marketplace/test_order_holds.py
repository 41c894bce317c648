"""A lot held everywhere (a recall) is not sold on the marketplace: ordering it is refused with
the hold's reason and nothing is reserved or held; search leaves it out; its listing page says
why instead of offering the order form. A hold at one market's counter does not touch the
marketplace, and a released hold puts the listing back on sale."""

from decimal import Decimal

import pytest
from django.test import Client

from common.exceptions import RefusalKind
from farms.choices import HoldSource
from farms.services.holds import place_hold, release_hold
from marketplace.exceptions import ListingLotHeld
from marketplace.markets import services as markets
from marketplace.models import Listing, Order, OrderLine
from marketplace.selectors.listings import listings_for_buyers
from marketplace.services.orders import place_order
from settlement.models import PaymentHold
from tests.marketplace.factories import ListingFactory

pytestmark = pytest.mark.django_db

KG = Decimal
RECALL = "Recall RC-7: chlorpyrifos above the national limit"


@pytest.fixture
def listing(db):
    """50 kg at ¥4.80/kg, on sale now."""
    return ListingFactory()


@pytest.fixture
def page_as():
    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


def recall(lot):
    return place_hold(lot=lot, source=HoldSource.RECALL, reference="recall:RC-7", reason=RECALL)


def available(listing) -> Decimal:
    return Listing.objects.get(pk=listing.pk).available_kg


def nothing_sold(listing) -> bool:
    return (
        not Order.objects.exists()
        and not OrderLine.objects.exists()
        and not PaymentHold.objects.exists()
        and available(listing) == KG("50.000")
    )


# --- Ordering -----------------------------------------------------------------------------


def test_ordering_a_recalled_lot_is_refused_with_the_reason_and_nothing_is_reserved(buyer, listing):
    recall(listing.lot)

    with pytest.raises(ListingLotHeld) as refusal:
        place_order(buyer=buyer, lines=[(listing.pk, KG("2"))])

    assert str(refusal.value.message) == RECALL
    assert refusal.value.kind == RefusalKind.CONFLICT
    assert refusal.value.as_dict() == {"listing_id": [RECALL], "line": 0}
    assert nothing_sold(listing)


def test_the_refusal_names_the_line_of_the_held_lot(buyer, listing):
    held = ListingFactory(lot__farm=listing.lot.farm, seller=listing.seller)
    recall(held.lot)

    with pytest.raises(ListingLotHeld) as refusal:
        place_order(buyer=buyer, lines=[(listing.pk, KG("2")), (held.pk, KG("1"))])

    assert refusal.value.line == 1
    assert nothing_sold(listing)


def test_a_hold_at_a_markets_counter_does_not_stop_the_marketplace(buyer, listing):
    market = markets.create_market(code="xinfadi-o", name="北京新发地", city="北京")
    place_hold(
        lot=listing.lot,
        source=HoldSource.RAPID_TEST,
        reference="rapid_test:1",
        reason="Rapid test positive",
        market_id=market.pk,
    )

    order = place_order(buyer=buyer, lines=[(listing.pk, KG("2"))])

    assert order.lines.get().quantity_kg == KG("2.000")
    assert list(listings_for_buyers()) == [listing]


def test_a_released_hold_puts_the_listing_back_on_sale(buyer, listing, admin_user):
    hold = recall(listing.lot)
    assert list(listings_for_buyers()) == []

    release_hold(hold=hold, released_by=admin_user, note="false alarm")

    assert list(listings_for_buyers()) == [listing]
    assert place_order(buyer=buyer, lines=[(listing.pk, KG("2"))]).pk
    assert available(listing) == KG("48.000")


# --- Search and the listing page --------------------------------------------------------------


def test_search_leaves_out_listings_of_recalled_lots(page_as, api_as, buyer, listing):
    other = ListingFactory()
    recall(listing.lot)

    page = page_as(buyer).get("/produce/")
    found = api_as(buyer).get("/api/listings/").json()

    assert [row.pk for row in page.context["results"]] == [other.pk]
    assert [row["id"] for row in found["results"]] == [other.pk]


def test_the_listing_page_says_why_and_offers_no_order_form(page_as, buyer, listing):
    recall(listing.lot)

    response = page_as(buyer).get(f"/produce/{listing.pk}/")
    content = response.content.decode()

    assert response.status_code == 200
    assert response.context["on_sale"] is False
    assert 'data-testid="lot-held"' in content
    assert RECALL in content
    assert 'data-testid="order-form"' not in content


def test_posting_the_order_form_of_a_recalled_lot_shows_the_reason(page_as, buyer, listing):
    client = page_as(buyer)
    client.get(f"/produce/{listing.pk}/")
    recall(listing.lot)

    response = client.post(
        f"/produce/{listing.pk}/",
        {"quantity": "2", "weight_tolerance_pct": "5", "note": "", "idempotency_key": "k-1"},
    )

    assert response.status_code == 200
    assert RECALL in response.context["form"].non_field_errors()
    assert nothing_sold(listing)


def test_the_seller_sees_her_listing_marked_held(page_as, listing):
    recall(listing.lot)

    content = page_as(listing.seller).get("/listings/mine/").content.decode()

    assert 'data-testid="lot-held"' in content
    assert RECALL in content


def test_the_api_gives_the_reason_and_refuses_the_order_with_409(api_as, buyer, listing):
    client = api_as(buyer)
    assert client.get(f"/api/listings/{listing.pk}/").json()["held_reason"] is None
    recall(listing.lot)

    detail = client.get(f"/api/listings/{listing.pk}/").json()
    response = client.post(
        "/api/orders/",
        {"lines": [{"listing_id": listing.pk, "quantity_kg": "2"}]},
        format="json",
    )

    assert detail["held_reason"] == RECALL
    assert response.status_code == 409
    assert response.json() == {"listing_id": [RECALL], "line": 0}
    assert nothing_sold(listing)
