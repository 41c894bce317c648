"""A listing's pickup point (often a smallholder's home) is exact only for those who need it."""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point

from marketplace.services.orders import accept_order, place_order
from tests.farms.factories import MembershipFactory
from tests.marketplace.factories import BuyerFactory, ListingFactory

pytestmark = pytest.mark.django_db

HOME = (118.79437, 36.86218)
ROUNDED = [118.79, 36.86]


@pytest.fixture
def listing(db):
    return ListingFactory(pickup_point=Point(*HOME, srid=4326))


def _api_point(client, listing) -> list[float]:
    response = client.get(f"/api/listings/{listing.pk}/")
    assert response.status_code == 200
    return response.json()["pickup_point"]["coordinates"]


def _searched_point(client, listing) -> list[float]:
    [row] = [
        row
        for row in client.get("/api/listings/", {"near": "118.70,36.80"}).json()["results"]
        if row["id"] == listing.pk
    ]
    return row["pickup_point"]["coordinates"]


def test_a_buyer_without_an_order_sees_the_point_rounded_to_about_a_km(
    api_as, client, buyer, listing
):
    api = api_as(buyer)
    client.force_login(buyer)

    page = client.get(f"/produce/{listing.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert _api_point(api, listing) == ROUNDED
    assert _searched_point(api, listing) == ROUNDED
    assert "about 36.86, 118.79" in page
    assert "36.86218" not in page
    assert "118.79437" not in page


def test_a_placed_order_not_yet_accepted_still_shows_the_rounded_point(api_as, buyer, listing):
    place_order(buyer=buyer, lines=[(listing.pk, Decimal("5"))])

    assert _api_point(api_as(buyer), listing) == ROUNDED


def test_the_buyer_of_an_accepted_order_sees_the_exact_point(api_as, client, buyer, listing):
    order = place_order(buyer=buyer, lines=[(listing.pk, Decimal("5"))])
    accept_order(by=listing.seller, order_id=order.pk)
    client.force_login(buyer)

    page = client.get(f"/produce/{listing.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert _api_point(api_as(buyer), listing) == pytest.approx(list(HOME))
    assert "36.86218, 118.79437" in page


def test_another_buyer_still_sees_it_rounded_after_someone_elses_order(api_as, buyer, listing):
    order = place_order(buyer=buyer, lines=[(listing.pk, Decimal("5"))])
    accept_order(by=listing.seller, order_id=order.pk)

    assert _api_point(api_as(BuyerFactory()), listing) == ROUNDED


def test_the_farmer_and_her_manager_see_the_exact_point(api_as, listing):
    manager = MembershipFactory(cooperative=listing.lot.farm.cooperative, manager=True).user

    for seller_side in (listing.seller, manager):
        assert _api_point(api_as(seller_side), listing) == pytest.approx(list(HOME))


def test_the_distance_shown_is_from_the_rounded_point_to_half_a_km(api_as, buyer, listing):
    [row] = api_as(buyer).get("/api/listings/", {"near": "118.79437,36.87218"}).json()["results"]

    # 1.11 km due north of her home (1.0 km shown), but 1.41 km from the rounded point.
    assert row["distance_km"] == "1.5"


def test_the_farmer_sees_the_distance_from_her_exact_point(api_as, listing):
    [row] = (
        api_as(listing.seller)
        .get("/api/listings/", {"near": "118.79437,36.87218"})
        .json()["results"]
    )

    assert row["distance_km"] == "1.0"
