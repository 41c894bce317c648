"""Sellers list lots and manage listings through the API; each role sees only its share."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from moneyed import Money

from marketplace.choices import ListingStatus
from marketplace.models import Listing
from tests.farms.factories import MembershipFactory
from tests.marketplace.factories import ListingFactory

URL = "/api/listings/"


@pytest.fixture
def listing(lot):
    return ListingFactory(lot=lot, available_kg=Decimal("60.000"))


@pytest.fixture
def other_listing(other_lot):
    return ListingFactory(lot=other_lot)


@pytest.fixture
def other_manager(other_cooperative):
    return MembershipFactory(cooperative=other_cooperative, manager=True).user


def _new_listing(lot, **overrides):
    return {
        "lot": lot.pk,
        "price": "4.80",
        "available_kg": "60",
        "minimum_order_kg": "5",
        "available_until": (timezone.now() + timedelta(days=2)).isoformat(),
        **overrides,
    }


def test_farmer_lists_lot_and_sees_it_in_search(api_as, member, lot, buyer):
    created = api_as(member).post(URL, _new_listing(lot), format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "active"
    assert body["seller"] == member.pk
    assert body["photos"] == []
    found = api_as(buyer).get(URL, {"near": "118.79,36.86"}).json()["results"]
    assert [row["id"] for row in found] == [body["id"]]


def test_price_may_be_entered_per_jin(api_as, member, lot):
    response = api_as(member).post(
        URL, _new_listing(lot, price="2.40", price_unit="jin"), format="json"
    )

    assert response.status_code == 201, response.content
    assert Listing.objects.get().price_per_kg == Money("4.80", "CNY")


def test_manager_lists_on_behalf_of_a_member(api_as, manager, member, lot):
    response = api_as(manager).post(URL, _new_listing(lot, publish=False), format="json")

    assert response.status_code == 201, response.content
    listing = Listing.objects.get()
    assert listing.seller == member
    assert listing.listed_by == manager
    assert listing.status == ListingStatus.DRAFT


def test_buyer_cannot_create_listings(api_as, buyer, lot):
    response = api_as(buyer).post(URL, _new_listing(lot), format="json")

    assert response.status_code == 403
    assert Listing.objects.count() == 0


@pytest.mark.parametrize("stranger", ["other_farmer", "other_manager"])
def test_lot_of_another_cooperative_cannot_be_listed(
    api_as, lot, other_farm, other_manager, stranger
):
    user = other_farm.farmer if stranger == "other_farmer" else other_manager

    response = api_as(user).post(URL, _new_listing(lot), format="json")

    assert response.status_code == 400
    assert "lot" in response.json()
    assert Listing.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "4.805"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "-3"}, "price"),
        ({"price": "999999999"}, "price"),
        ({"available_kg": "0"}, "available_kg"),
        ({"available_kg": "-1"}, "available_kg"),
        ({"available_kg": "100.001"}, "available_kg"),
        ({"minimum_order_kg": "61"}, "minimum_order_kg"),
        ({"available_until": "2020-01-01T00:00:00Z"}, "available_until"),
        ({"pickup_point": "2.35,48.85"}, "pickup_point"),
    ],
)
def test_bad_input_gets_400_with_the_field_and_nothing_is_listed(
    api_as, member, lot, overrides, field
):
    response = api_as(member).post(URL, _new_listing(lot, **overrides), format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Listing.objects.count() == 0


def test_seller_updates_her_listing(api_as, member, listing):
    response = api_as(member).patch(
        f"{URL}{listing.pk}/", {"price": "5.50", "available_kg": "40"}, format="json"
    )

    assert response.status_code == 200, response.content
    listing.refresh_from_db()
    assert listing.price_per_kg == Money("5.50", "CNY")
    assert listing.available_kg == Decimal("40.000")


def test_update_beyond_the_lot_is_refused_and_nothing_changes(api_as, member, listing):
    response = api_as(member).patch(f"{URL}{listing.pk}/", {"available_kg": "101"}, format="json")

    assert response.status_code == 400
    assert "available_kg" in response.json()
    listing.refresh_from_db()
    assert listing.available_kg == Decimal("60.000")


def test_manager_updates_a_members_listing(api_as, manager, listing):
    response = api_as(manager).patch(f"{URL}{listing.pk}/", {"notes": "周六自提"}, format="json")

    assert response.status_code == 200
    listing.refresh_from_db()
    assert listing.notes == "周六自提"


@pytest.mark.parametrize("stranger", ["other_farmer", "other_manager"])
def test_another_farmers_listing_cannot_be_changed_404(
    api_as, listing, other_farm, other_manager, stranger
):
    user = other_farm.farmer if stranger == "other_farmer" else other_manager
    client = api_as(user)

    assert client.patch(f"{URL}{listing.pk}/", {"price": "1"}, format="json").status_code == 404
    assert client.post(f"{URL}{listing.pk}/close/").status_code == 404
    assert client.post(f"{URL}{listing.pk}/photos/", {}).status_code == 404
    listing.refresh_from_db()
    assert listing.price_per_kg == Money("4.80", "CNY")
    assert listing.status == ListingStatus.ACTIVE


def test_buyer_cannot_change_a_listing(api_as, buyer, listing):
    response = api_as(buyer).post(f"{URL}{listing.pk}/pause/")

    assert response.status_code == 403
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_seller_pauses_resumes_and_closes(api_as, member, listing):
    client = api_as(member)

    assert client.post(f"{URL}{listing.pk}/pause/").json()["status"] == "paused"
    assert client.post(f"{URL}{listing.pk}/resume/").json()["status"] == "active"
    assert client.post(f"{URL}{listing.pk}/close/").json()["status"] == "closed"


def test_transition_not_allowed_is_409_and_nothing_changes(api_as, member, listing):
    response = api_as(member).post(f"{URL}{listing.pk}/publish/")

    assert response.status_code == 409
    assert response.json()["detail"]
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE


def test_mine_lists_only_the_users_listings(
    api_as, member, manager, listing, other_listing, admin_user, buyer
):
    draft = ListingFactory(lot=listing.lot, status=ListingStatus.DRAFT, available_kg=Decimal("10"))

    def mine(user):
        response = api_as(user).get(f"{URL}mine/")
        return {row["id"] for row in response.json()["results"]}

    assert mine(member) == {listing.pk, draft.pk}
    assert mine(manager) == {listing.pk, draft.pk}
    assert mine(other_listing.seller) == {other_listing.pk}
    assert mine(admin_user) == {listing.pk, draft.pk, other_listing.pk}
    assert api_as(buyer).get(f"{URL}mine/").status_code == 403


def test_detail_of_a_draft_only_for_its_seller(api_as, member, listing, buyer, other_farm):
    Listing.objects.filter(pk=listing.pk).update(status=ListingStatus.DRAFT)

    assert api_as(member).get(f"{URL}{listing.pk}/").status_code == 200
    assert api_as(buyer).get(f"{URL}{listing.pk}/").status_code == 404
    assert api_as(other_farm.farmer).get(f"{URL}{listing.pk}/").status_code == 404


def test_buyer_opens_a_listing_on_sale(api_as, buyer, listing):
    response = api_as(buyer).get(f"{URL}{listing.pk}/")

    assert response.status_code == 200
    assert response.json()["farm_name"] == "东地大棚"
    assert response.json()["distance_km"] is None


def test_listings_are_in_the_openapi_schema(api_as, admin_user):
    schema = api_as(admin_user).get("/api/schema/", {"format": "json"}).json()

    for path in (
        "/api/listings/",
        "/api/listings/{id}/",
        "/api/listings/mine/",
        "/api/listings/{id}/publish/",
        "/api/listings/{id}/photos/",
    ):
        assert path in schema["paths"]
