"""The consumer's shop pages on the phone: finding the serving warehouse, ordering once however
often the button is pressed, her orders and an order's live status; each role's limits."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from delivery.models import (
    DeliveryOrder,
    DeliveryOrderStatus,
    DeliveryTask,
    DeliveryTaskStatus,
    StockLot,
)
from delivery.services.orders import pack_order
from tests.accounts.factories import UserFactory
from tests.delivery.factories import courier_at, fund_wallet
from tests.delivery.shop_factories import (
    HOME,
    NOWHERE,
    opening_hours_around_now,
    order_for,
    receive,
    wallet_balance,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_as():
    """page_as(user) → a test client signed in as `user`, asking for English pages."""

    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


def order_form(product_id, kg, *, key="form-1", where=HOME, address="建国路 88 号") -> dict:
    return {**where, "address": address, "idempotency_key": key, f"kg_{product_id}": kg}


def text(response) -> str:
    return response.content.decode()


# --- Who may shop ------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/shop/")

    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


@pytest.mark.parametrize("role", [Role.COURIER, Role.WAREHOUSE_MANAGER, Role.FARMER])
def test_the_shop_is_for_consumers(page_as, role):
    client = page_as(UserFactory(role=role))

    assert client.get("/shop/").status_code == 403
    assert client.get("/shop/orders/").status_code == 403


# --- Finding the warehouse ----------------------------------------------------------------


def test_the_shop_asks_where_to_deliver(page_as, funded_consumer):
    response = page_as(funded_consumer).get("/shop/")

    assert response.status_code == 200
    page = text(response)
    assert 'data-testid="use-my-location"' in page
    assert 'id="shop-map"' in page
    assert 'id="shop-longitude"' in page
    assert 'data-testid="catalogue"' not in page


def test_a_location_in_a_zone_shows_its_warehouse_promise_catalogue_and_wallet(
    page_as, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")

    response = page_as(funded_consumer).get("/shop/", HOME)

    page = text(response)
    assert response.status_code == 200
    assert chaoyang.name in page
    assert "Delivered within 30 minutes." in page
    assert "Spinach" in page
    assert "¥12.00" in page
    assert f'data-testid="quantity-{spinach.pk}"' in page
    assert 'data-testid="wallet-balance" data-amount="500.00"' in page
    assert re.search(r'data-testid="place-order"[^>]*>', page).group(0).find("disabled") == -1
    assert 'name="address"' in page


def test_outside_every_zone_the_shop_says_so_and_offers_nothing(
    page_as, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    response = page_as(funded_consumer).get("/shop/", NOWHERE)

    page = text(response)
    assert 'data-testid="out-of-zone"' in page
    assert "outside the delivery zone of every front warehouse" in page
    assert 'data-testid="catalogue"' not in page
    assert 'data-testid="place-order"' not in page


def test_a_closed_warehouse_shows_its_hours_and_takes_no_order(
    page_as, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    hours = opening_hours_around_now(open_now=False)
    type(chaoyang).objects.filter(pk=chaoyang.pk).update(**hours)

    page = text(page_as(funded_consumer).get("/shop/", HOME))

    assert 'data-testid="warehouse-closed"' in page
    assert re.search(r'data-testid="place-order"[^>]*disabled', page)


# --- Ordering -----------------------------------------------------------------------------


def test_placing_an_order_leads_to_its_status_page(page_as, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")
    client = page_as(funded_consumer)

    response = client.post("/shop/", order_form(spinach.pk, "1.5"))

    order = DeliveryOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/shop/orders/{order.pk}/"
    assert order.total.amount == Decimal("18.00")
    assert order.address == "建国路 88 号"
    assert wallet_balance(funded_consumer) == Decimal("482.00")


def test_pressing_place_order_twice_makes_one_order(page_as, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    client = page_as(funded_consumer)

    first = client.post("/shop/", order_form(spinach.pk, "2", key="same-form"))
    second = client.post("/shop/", order_form(spinach.pk, "2", key="same-form"))

    assert first["Location"] == second["Location"]
    assert DeliveryOrder.objects.count() == 1
    assert StockLot.objects.get().quantity_kg == Decimal("8.000")


def test_ordering_more_than_the_stock_shows_the_error_at_the_product(
    page_as, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "4", harvested_days_ago=1)

    response = page_as(funded_consumer).post("/shop/", order_form(spinach.pk, "5"))

    assert response.status_code == 400
    page = text(response)
    product_row = page[page.index(f'data-testid="product-{spinach.pk}"') :]
    product_row = product_row[: product_row.index("</li>")]
    assert "Only 4 kg of Spinach is left." in product_row
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get().quantity_kg == Decimal("4.000")


def test_a_short_wallet_shows_the_balance_and_orders_nothing(page_as, chaoyang, spinach, consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1, price="12.00")
    fund_wallet(consumer, "3.00")

    response = page_as(consumer).post("/shop/", order_form(spinach.pk, "1"))

    assert response.status_code == 400
    assert "Your wallet holds ¥3.00 and this order costs ¥12.00." in text(response)
    assert not DeliveryOrder.objects.exists()
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")


def test_an_order_without_any_quantity_is_refused(page_as, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    response = page_as(funded_consumer).post("/shop/", order_form(spinach.pk, ""))

    assert response.status_code == 400
    assert "Choose at least one product" in text(response)
    assert not DeliveryOrder.objects.exists()


def test_an_order_from_outside_every_zone_is_refused(page_as, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)

    response = page_as(funded_consumer).post("/shop/", order_form(spinach.pk, "1", where=NOWHERE))

    assert response.status_code == 400
    assert 'data-testid="out-of-zone"' in text(response)
    assert not DeliveryOrder.objects.exists()
    assert wallet_balance(funded_consumer) == Decimal("500.00")


# --- Her orders ---------------------------------------------------------------------------


def test_my_orders_lists_only_mine(page_as, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    mine = order_for(funded_consumer, (spinach.pk, "1"))
    neighbour = UserFactory(role=Role.CONSUMER)
    fund_wallet(neighbour, "100.00")
    theirs = order_for(neighbour, (spinach.pk, "1"))

    page = text(page_as(funded_consumer).get("/shop/orders/"))

    assert mine.number in page
    assert theirs.number not in page


def test_the_status_page_shows_the_status_the_promise_and_the_code(
    page_as, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))

    response = page_as(funded_consumer).get(f"/shop/orders/{order.pk}/")

    page = text(response)
    assert response.status_code == 200
    assert 'data-order-status data-status="placed"' in page
    assert re.search(rf"data-delivery-code[^>]*>{order.delivery_code}<", page)
    assert timezone.localtime(order.promised_by).strftime("%H:%M") in page
    assert 'id="order-map"' in page
    assert 'id="order-map-config"' in page
    assert 'data-testid="cancel-order"' in page


def test_the_status_page_shows_the_courier_once_he_has_the_order(
    page_as, chaoyang, chaoyang_staff, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    pack_order(by=chaoyang_staff, order_id=order.pk)
    courier = courier_at(116.485, 39.918)
    task = DeliveryTask.objects.create(
        warehouse=chaoyang,
        courier=courier,
        status=DeliveryTaskStatus.PICKED_UP,
        accepted_at=timezone.now(),
    )
    DeliveryOrder.objects.filter(pk=order.pk).update(
        task=task, status=DeliveryOrderStatus.PICKED_UP, picked_up_at=timezone.now()
    )

    panel = text(page_as(funded_consumer).get(f"/shop/orders/{order.pk}/status/"))

    assert 'data-status="picked_up"' in panel
    assert f"Your courier: {courier.user}" in panel
    assert 'data-courier-longitude="116.485000"' in panel
    assert 'data-testid="cancel-order"' not in panel


def test_another_consumer_order_is_not_found(page_as, chaoyang, spinach, funded_consumer):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "1"))
    stranger = page_as(UserFactory(role=Role.CONSUMER))

    assert stranger.get(f"/shop/orders/{order.pk}/").status_code == 404
    assert stranger.get(f"/shop/orders/{order.pk}/status/").status_code == 404
    assert stranger.post(f"/shop/orders/{order.pk}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.status == DeliveryOrderStatus.PLACED


def test_cancelling_from_the_status_page_refunds_the_wallet(
    page_as, chaoyang, spinach, funded_consumer
):
    receive(chaoyang, spinach, "10", harvested_days_ago=1)
    order = order_for(funded_consumer, (spinach.pk, "2"))
    client = page_as(funded_consumer)

    response = client.post(f"/shop/orders/{order.pk}/cancel/", {"reason": "Changed my mind"})

    assert response.status_code == 302
    page = text(client.get(response["Location"]))
    assert 'data-status="cancelled"' in page
    assert "is back in your wallet" in page
    assert wallet_balance(funded_consumer) == Decimal("500.00")
    assert StockLot.objects.get().quantity_kg == Decimal("10.000")
