"""The orders API: every endpoint for every actor, bad input, and refused steps."""

from decimal import Decimal

import pytest

from accounts.choices import Role
from marketplace.choices import ListingStatus, OrderStatus
from marketplace.models import Listing, Order, OrderEvent
from marketplace.services.orders import cancel_order
from tests.accounts.factories import UserFactory
from tests.farms.factories import MembershipFactory
from tests.marketplace.factories import BuyerFactory, ListingFactory, fund_wallet
from tests.marketplace.order_factories import KG, client_for, order_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(db):
    return ListingFactory()


@pytest.fixture
def actors(listing, buyer, admin_user):
    """Everyone with an opinion on an order of `buyer` on `listing`, and strangers to it."""
    return {
        "buyer": buyer,
        "seller": listing.seller,
        "seller_manager": MembershipFactory(
            cooperative=listing.lot.farm.cooperative, manager=True
        ).user,
        "admin": admin_user,
        "other_buyer": BuyerFactory(),
        "other_farmer": ListingFactory().seller,
        "other_manager": MembershipFactory(manager=True).user,
        "courier": UserFactory(role=Role.COURIER),
        "anonymous": None,
    }


def available(listing) -> Decimal:
    return Listing.objects.get(pk=listing.pk).available_kg


SELLER_SIDE = {"seller", "seller_manager"}
BUYER_SIDE = {"buyer"}
VISIBLE = {"buyer", "seller", "seller_manager", "admin"}

STEPS = {
    # action: (state before, who may take it, state after)
    "accept": (OrderStatus.PLACED, SELLER_SIDE, OrderStatus.ACCEPTED),
    "reject": (OrderStatus.PLACED, SELLER_SIDE, OrderStatus.REJECTED),
    "cancel": (OrderStatus.PLACED, BUYER_SIDE, OrderStatus.CANCELLED),
    "ready": (OrderStatus.ACCEPTED, SELLER_SIDE, OrderStatus.READY),
    "hand-over": (OrderStatus.READY, SELLER_SIDE, OrderStatus.HANDED_OVER),
    "confirm-weights": (OrderStatus.AWAITING_BUYER, BUYER_SIDE, OrderStatus.HANDED_OVER),
    "complete": (OrderStatus.HANDED_OVER, BUYER_SIDE, OrderStatus.COMPLETED),
}
ACTORS = [
    "buyer",
    "seller",
    "seller_manager",
    "admin",
    "other_buyer",
    "other_farmer",
    "other_manager",
    "courier",
    "anonymous",
]


def expected_status(actor: str, allowed: set[str], ok: int = 200) -> int:
    if actor == "anonymous":
        return 401
    if actor not in VISIBLE:
        return 404
    return ok if actor in allowed else 403


# --- Permission matrix --------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", list(STEPS))
def test_step_permission_matrix(actors, listing, buyer, action, actor):
    before, allowed, after = STEPS[action]
    order = order_in(before, buyer=buyer, listing=listing)
    body = {}
    if action == "hand-over":
        body = {"packed_kg": {str(order.lines.get().pk): "10.2"}}
    if action == "confirm-weights":
        body = {"accept": True}

    response = client_for(actors[actor]).post(
        f"/api/orders/{order.pk}/{action}/", body, format="json"
    )

    assert response.status_code == expected_status(actor, allowed), response.content
    stored = Order.objects.get(pk=order.pk).status
    if response.status_code == 200:
        assert stored == after
        assert response.json()["status"] == after
    else:
        assert stored == before


@pytest.mark.parametrize("actor", ACTORS)
def test_order_detail_permission_matrix(actors, listing, buyer, actor):
    order = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)

    response = client_for(actors[actor]).get(f"/api/orders/{order.pk}/")

    assert response.status_code == expected_status(actor, VISIBLE)
    if response.status_code == 200:
        body = response.json()
        assert body["id"] == order.pk
        assert body["total"] == "48.00"
        assert body["lines"][0]["quantity_kg"] == "10.000"
        assert [event["status"] for event in body["events"]] == ["placed"]


@pytest.mark.parametrize("actor", ACTORS)
def test_order_list_permission_matrix(actors, listing, buyer, actor):
    mine = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)
    elsewhere = order_in(OrderStatus.PLACED, buyer=BuyerFactory(), listing=ListingFactory())

    response = client_for(actors[actor]).get("/api/orders/")

    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    expected = {
        "buyer": {mine.pk},
        "seller": {mine.pk},
        "seller_manager": {mine.pk},
        "admin": {mine.pk, elsewhere.pk},
    }.get(actor, set())
    assert ids == expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("buyer", 201),
        ("admin", 201),
        ("seller", 403),
        ("seller_manager", 403),
        ("courier", 403),
        ("anonymous", 401),
    ],
)
def test_who_may_place_an_order(actors, listing, actor, expected):
    if actor == "admin":  # an admin may buy, paying from his wallet like any buyer
        fund_wallet(actors[actor])
    response = client_for(actors[actor]).post(
        "/api/orders/",
        {"lines": [{"listing_id": listing.pk, "quantity_kg": "2.5"}]},
        format="json",
    )

    assert response.status_code == expected
    assert Order.objects.count() == (1 if expected == 201 else 0)
    assert available(listing) == (KG("47.500") if expected == 201 else KG("50.000"))


# --- Placing through the API --------------------------------------------------------------


def test_buyer_places_an_order_and_sees_it(api_as, buyer, listing):
    response = api_as(buyer).post(
        "/api/orders/",
        {
            "lines": [{"listing_id": listing.pk, "quantity_kg": "12.5"}],
            "weight_tolerance_pct": "8",
            "buyer_note": "上午十点取",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert order.buyer == buyer
    assert order.weight_tolerance_pct == KG("8.0")
    assert body["status"] == "placed"
    assert body["total"] == "60.00"
    assert body["currency"] == "CNY"
    assert body["seller"]["id"] == listing.seller_id
    assert body["lines"][0]["unit_price"] == "4.80"
    assert available(listing) == KG("37.500")


def test_idempotency_key_header_makes_a_retry_return_the_first_order(api_as, buyer, listing):
    client = api_as(buyer)
    payload = {"lines": [{"listing_id": listing.pk, "quantity_kg": "5"}]}

    first = client.post("/api/orders/", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    retry = client.post("/api/orders/", payload, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert Order.objects.count() == 1
    assert available(listing) == KG("45.000")


@pytest.mark.parametrize(
    ("quantity", "message_field"),
    [("0", "quantity_kg"), ("-2", "quantity_kg"), ("1.0001", "quantity_kg"), ("x", "quantity_kg")],
)
def test_bad_quantities_get_field_messages_and_change_nothing(
    api_as, buyer, listing, quantity, message_field
):
    response = api_as(buyer).post(
        "/api/orders/",
        {"lines": [{"listing_id": listing.pk, "quantity_kg": quantity}]},
        format="json",
    )

    assert response.status_code == 400, response.content
    # DRF names the failing line by its index.
    assert message_field in response.json()["lines"]["0"], response.content
    assert Order.objects.count() == 0
    assert available(listing) == KG("50.000")


def test_more_than_available_is_a_400_naming_the_line(api_as, buyer, listing):
    second = ListingFactory(lot__farm=listing.lot.farm, available_kg=KG("3.000"))

    response = api_as(buyer).post(
        "/api/orders/",
        {
            "lines": [
                {"listing_id": listing.pk, "quantity_kg": "5"},
                {"listing_id": second.pk, "quantity_kg": "3.5"},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["line"] == 1
    assert "3.000" in body["quantity_kg"][0]
    assert available(listing) == KG("50.000")
    assert available(second) == KG("3.000")
    assert Order.objects.count() == 0


def test_sold_out_listing_is_a_400_about_quantity(api_as, buyer):
    listing = ListingFactory(available_kg=KG("0"), status=ListingStatus.SOLD_OUT)

    response = api_as(buyer).post(
        "/api/orders/",
        {"lines": [{"listing_id": listing.pk, "quantity_kg": "1"}]},
        format="json",
    )

    assert response.status_code == 400
    assert "quantity_kg" in response.json()


@pytest.mark.parametrize("status", [ListingStatus.PAUSED, ListingStatus.CLOSED])
def test_ordering_a_paused_or_closed_listing_is_a_400(api_as, buyer, status):
    listing = ListingFactory(status=status)

    response = api_as(buyer).post(
        "/api/orders/",
        {"lines": [{"listing_id": listing.pk, "quantity_kg": "1"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["line"] == 0
    assert "listing_id" in response.json()
    assert available(listing) == KG("50.000")


def test_empty_order_and_absurd_tolerance_are_400(api_as, buyer, listing):
    client = api_as(buyer)

    empty = client.post("/api/orders/", {"lines": []}, format="json")
    tolerance = client.post(
        "/api/orders/",
        {"lines": [{"listing_id": listing.pk, "quantity_kg": "1"}], "weight_tolerance_pct": "80"},
        format="json",
    )

    assert empty.status_code == 400
    assert "lines" in empty.json()
    assert tolerance.status_code == 400
    assert "weight_tolerance_pct" in tolerance.json()
    assert Order.objects.count() == 0


# --- Refused steps ------------------------------------------------------------------------


def test_accepting_a_cancelled_order_is_a_409_and_changes_nothing(api_as, buyer, listing):
    order = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)
    cancel_order(by=buyer, order_id=order.pk)

    response = api_as(listing.seller).post(f"/api/orders/{order.pk}/accept/")

    assert response.status_code == 409
    assert "detail" in response.json()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert OrderEvent.objects.filter(order=order).count() == 2
    assert available(listing) == KG("50.000")


def test_cancelling_an_accepted_order_is_a_409(api_as, buyer, listing):
    order = order_in(OrderStatus.ACCEPTED, buyer=buyer, listing=listing)

    response = api_as(buyer).post(f"/api/orders/{order.pk}/cancel/")

    assert response.status_code == 409
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACCEPTED
    assert available(listing) == KG("40.000")


def test_hand_over_beyond_tolerance_awaits_the_buyer(api_as, buyer, listing):
    order = order_in(OrderStatus.READY, buyer=buyer, listing=listing)
    line = order.lines.get()

    response = api_as(listing.seller).post(
        f"/api/orders/{order.pk}/hand-over/",
        {"packed_kg": {str(line.pk): "11.5"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == OrderStatus.AWAITING_BUYER
    assert response.json()["total"] == "55.20"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_BUYER


@pytest.mark.parametrize(
    "packed",
    [{}, {"999999": "10"}, {"LINE": "10", "999999": "1"}, {"LINE": "0"}, {"LINE": "10.0001"}],
    ids=["none", "foreign-line", "extra-line", "zero", "four-decimals"],
)
def test_bad_packed_weights_are_400_and_change_nothing(api_as, buyer, listing, packed):
    order = order_in(OrderStatus.READY, buyer=buyer, listing=listing)
    line = order.lines.get()
    packed = {(str(line.pk) if key == "LINE" else key): kg for key, kg in packed.items()}

    response = api_as(listing.seller).post(
        f"/api/orders/{order.pk}/hand-over/", {"packed_kg": packed}, format="json"
    )

    assert response.status_code == 400
    assert "packed_kg" in response.json()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.READY
    line.refresh_from_db()
    assert line.packed_kg is None


def test_list_filters_by_status_and_side(api_as, listing, buyer, actors):
    manager = actors["seller_manager"]
    placed = order_in(OrderStatus.PLACED, buyer=buyer, listing=listing)
    accepted = order_in(OrderStatus.ACCEPTED, buyer=BuyerFactory(), listing=listing)
    client = api_as(manager)

    by_status = client.get("/api/orders/", {"status": "accepted"})
    selling = client.get("/api/orders/", {"side": "selling"})
    buying = client.get("/api/orders/", {"side": "buying"})
    bad = client.get("/api/orders/", {"status": "lost"})

    assert [row["id"] for row in by_status.json()["results"]] == [accepted.pk]
    assert {row["id"] for row in selling.json()["results"]} == {placed.pk, accepted.pk}
    assert buying.json()["results"] == []
    assert bad.status_code == 400
