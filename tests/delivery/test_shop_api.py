"""The shop through the API: the catalogue of the warehouse serving a location, placing an order
(Idempotency-Key), her orders and their status, cancelling; each role's limits."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.choices import Role
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    ShopPrice,
    StockLot,
)
from delivery.services.orders import pack_order
from settlement.choices import EntryKind
from settlement.models import JournalEntry
from tests.accounts.factories import UserFactory
from tests.delivery.factories import courier_at, fund_wallet
from tests.delivery.shop_factories import HOME, NOWHERE, order_for, receive, wallet_balance
from tests.farms.factories import ProductFactory

pytestmark = pytest.mark.django_db


SHOP = "/api/delivery/shop/"
ORDERS = "/api/delivery/orders/"


@pytest.fixture
def api_in_english(api_as):
    def sign_in(user):
        client = api_as(user)
        client.credentials(HTTP_ACCEPT_LANGUAGE="en")
        return client

    return sign_in


def order_body(*lines, where=HOME, address="朝阳区建国路 88 号 3-201") -> dict:
    return {
        **where,
        "address": address,
        "lines": [{"product_id": pid, "quantity_kg": kg} for pid, kg in lines],
    }


# --- The catalogue ------------------------------------------------------------------------


def test_the_shop_shows_the_serving_warehouse_and_what_it_has_in_stock(
    api_in_english, chaoyang, spinach, tomato, funded_consumer
):
    receive(chaoyang, spinach, "4", harvested_days_ago=3, price="12.00")
    receive(chaoyang, spinach, "6", harvested_days_ago=1, price="12.00")
    sold_out = receive(chaoyang, tomato, "2", harvested_days_ago=1, price="6.00")
    StockLot.objects.filter(pk=sold_out.pk).update(quantity_kg=0)
    unlisted = ProductFactory()
    receive(chaoyang, unlisted, "5", harvested_days_ago=1)
    ShopPrice.objects.filter(product=unlisted).update(is_listed=False)

    response = api_in_english(funded_consumer).get(SHOP, HOME)

    assert response.status_code == 200
    body = response.json()
    assert body["warehouse"] == {
        "id": chaoyang.pk,
        "name": chaoyang.name,
        "address": chaoyang.address,
        "promised_minutes": 30,
        "opens_at": chaoyang.opens_at.strftime("%H:%M"),
        "closes_at": chaoyang.closes_at.strftime("%H:%M"),
        "open_now": True,
    }
    assert body["wallet_balance"] == "500.00"
    [item] = body["catalogue"]
    assert item["product_id"] == spinach.pk
    assert item["name"] == "Spinach"
    assert item["price_per_kg"] == "12.00"
    assert item["available_kg"] == "10.000"
    assert item["earliest_expiry"] < item["freshest_expiry"]
    assert Decimal(item["shelf_life_days"]) >= 0


def test_outside_every_zone_the_shop_says_so(api_in_english, chaoyang, funded_consumer):
    response = api_in_english(funded_consumer).get(SHOP, NOWHERE)

    assert response.status_code == 400
    assert "outside the delivery zone" in response.json()["location"][0]


def test_the_shop_needs_a_location(api_in_english, chaoyang, funded_consumer):
    response = api_in_english(funded_consumer).get(SHOP, {"longitude": "east"})

    assert response.status_code == 400
    assert list(response.json()) == ["location"]


@pytest.mark.parametrize("role", [Role.COURIER, Role.WAREHOUSE_MANAGER, Role.BUYER])
def test_the_shop_and_ordering_are_for_consumers(api_in_english, chaoyang, spinach, role):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    someone = UserFactory(role=role)
    fund_wallet(someone, "100.00")
    client = api_in_english(someone)

    assert client.get(SHOP, HOME).status_code == 403
    assert client.post(ORDERS, order_body((spinach.pk, "1")), format="json").status_code == 403
    assert not DeliveryOrder.objects.exists()


def test_signed_out_callers_are_asked_to_sign_in(api_client, chaoyang):
    assert api_client.get(SHOP, HOME).status_code == 401
    assert api_client.get(ORDERS).status_code == 401


# --- Placing ------------------------------------------------------------------------------


def test_a_consumer_places_an_order_and_a_retry_returns_it(
    api_in_english, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")
    client = api_in_english(funded_consumer)

    first = client.post(
        ORDERS, order_body((spinach.pk, "2.5")), format="json", HTTP_IDEMPOTENCY_KEY="form-7"
    )
    again = client.post(
        ORDERS, order_body((spinach.pk, "2.5")), format="json", HTTP_IDEMPOTENCY_KEY="form-7"
    )

    assert first.status_code == 201
    body = first.json()
    assert again.json()["id"] == body["id"]
    assert body["status"] == "placed"
    assert body["total"] == "30.00"
    assert body["currency"] == "CNY"
    assert len(body["delivery_code"]) == 4
    assert body["number"] == DeliveryOrder.objects.get().number
    assert body["warehouse"]["id"] == chaoyang.pk
    assert body["lines"] == [
        {
            "product_id": spinach.pk,
            "name": "Spinach",
            "quantity_kg": "2.500",
            "price_per_kg": "12.00",
            "amount": "30.00",
        }
    ]
    assert body["steps"][0] == {
        "step": "placed",
        "label": "Placed and paid",
        "at": body["placed_at"],
        "done": True,
    }
    assert body["courier"] is None
    assert DeliveryOrder.objects.count() == 1
    assert StockLot.objects.get().quantity_kg == Decimal("7.500")
    assert wallet_balance(funded_consumer) == Decimal("470.00")


def test_ordering_more_than_the_stock_is_a_409_on_the_quantity(
    api_in_english, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "4", harvested_days_ago=1)

    response = api_in_english(funded_consumer).post(
        ORDERS, order_body((spinach.pk, "5")), format="json"
    )

    assert response.status_code == 409
    assert response.json() == {"quantity_kg": ["Only 4 kg of Spinach is left."], "line": 0}
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get().quantity_kg == Decimal("4.000")
    assert wallet_balance(funded_consumer) == Decimal("500.00")


def test_a_short_wallet_is_refused_on_the_wallet_with_its_balance(
    api_in_english, chaoyang, spinach, consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")
    fund_wallet(consumer, "20.00")

    response = api_in_english(consumer).post(ORDERS, order_body((spinach.pk, "2")), format="json")

    assert response.status_code == 400
    [message] = response.json()["wallet"]
    assert message == (
        "Your wallet holds ¥20.00 and this order costs ¥24.00. Top up your wallet, or order less."
    )
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")
    assert not JournalEntry.objects.filter(kind=EntryKind.SHOP_ORDER).exists()


def test_an_order_outside_every_zone_is_refused_on_the_location(
    api_in_english, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    response = api_in_english(funded_consumer).post(
        ORDERS, order_body((spinach.pk, "1"), where=NOWHERE), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["location"]
    assert not DeliveryOrder.objects.exists()
    assert wallet_balance(funded_consumer) == Decimal("500.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"product_id": 1, "quantity_kg": "0"}]}, "lines"),
        ({"lines": [{"product_id": 1, "quantity_kg": "1.2345"}]}, "lines"),
        ({"address": ""}, "address"),
        ({"longitude": 300}, "longitude"),
    ],
)
def test_bad_input_is_refused_field_by_field(
    api_in_english, chaoyang, spinach, funded_consumer, body, field
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    response = api_in_english(funded_consumer).post(
        ORDERS, {**order_body((spinach.pk, "1")), **body}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")


# --- Her orders ---------------------------------------------------------------------------


def test_a_consumer_sees_only_her_own_orders(api_in_english, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    mine = order_for(funded_consumer, (spinach.pk, "1"))
    neighbour = UserFactory(role=Role.CONSUMER)
    fund_wallet(neighbour, "100.00")
    theirs = order_for(neighbour, (spinach.pk, "1"))
    client = api_in_english(funded_consumer)

    listed = client.get(ORDERS).json()["results"]
    other = client.get(f"{ORDERS}{theirs.pk}/")
    cancel = client.post(f"{ORDERS}{theirs.pk}/cancel/")

    assert [order["id"] for order in listed] == [mine.pk]
    assert other.status_code == 404
    assert cancel.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == DeliveryOrderStatus.PLACED
    assert not JournalEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_the_order_shows_the_courier_and_his_position_while_he_has_it(
    api_in_english, chaoyang, chaoyang_staff, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    pack_order(by=chaoyang_staff, order_id=order.pk)
    courier = courier_at(116.485, 39.918)
    task = DeliveryTask.objects.create(
        warehouse=chaoyang,
        courier=courier,
        status=DeliveryTaskStatus.ASSIGNED,
        accepted_at=timezone.now(),
    )
    DeliveryOrder.objects.filter(pk=order.pk).update(
        task=task, status=DeliveryOrderStatus.ASSIGNED, assigned_at=timezone.now()
    )

    body = api_in_english(funded_consumer).get(f"{ORDERS}{order.pk}/").json()

    assert body["status"] == "assigned"
    assert body["courier"]["name"] == str(courier.user)
    assert (body["courier"]["longitude"], body["courier"]["latitude"]) == (116.485, 39.918)
    assert [step["done"] for step in body["steps"]] == [True, True, True, False, False]
    assert body["is_late"] is False


def test_the_warehouse_staff_sees_its_orders_but_not_the_delivery_code(
    api_in_english, chaoyang, chaoyang_staff, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))

    body = api_in_english(chaoyang_staff).get(f"{ORDERS}{order.pk}/").json()

    assert body["id"] == order.pk
    assert body["delivery_code"] is None


def test_a_courier_sees_no_shop_orders(api_in_english, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    client = api_in_english(courier_at(116.48, 39.92).user)

    assert client.get(ORDERS).json()["results"] == []
    assert client.get(f"{ORDERS}{order.pk}/").status_code == 404


def test_listing_orders_costs_a_fixed_number_of_queries(
    api_in_english, chaoyang, spinach, tomato, funded_consumer, django_assert_max_num_queries
):
    receive(chaoyang, spinach, "50", harvested_days_ago=1)
    receive(chaoyang, tomato, "50", harvested_days_ago=1)
    for _ in range(5):
        order_for(funded_consumer, (spinach.pk, "1"), (tomato.pk, "1"))
    client = api_in_english(funded_consumer)

    with django_assert_max_num_queries(8):
        response = client.get(ORDERS)

    assert response.json()["count"] == 5


def test_a_consumer_cancels_her_order_and_is_refunded(
    api_in_english, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))

    response = api_in_english(funded_consumer).post(
        f"{ORDERS}{order.pk}/cancel/", {"reason": "Wrong address"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["steps"][-1]["step"] == "cancelled"
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")
    assert wallet_balance(funded_consumer) == Decimal("500.00")


def test_cancelling_an_order_a_courier_carries_is_a_409(
    api_in_english, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))
    DeliveryOrder.objects.filter(pk=order.pk).update(status=DeliveryOrderStatus.PICKED_UP)

    response = api_in_english(funded_consumer).post(f"{ORDERS}{order.pk}/cancel/")

    assert response.status_code == 409
    assert "detail" in response.json()
    assert StockLot.objects.get().quantity_kg == Decimal("8.000")
    assert wallet_balance(funded_consumer) == Decimal("476.00")
