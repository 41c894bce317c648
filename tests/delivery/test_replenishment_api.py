"""The replenishment API: the manager reads the latest plan, adjusts a line and approves; another
warehouse's plan is a 404; other roles get 403."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from accounts.choices import Role
from common.dates import BUSINESS_TIME_ZONE
from delivery.models import ReplenishmentPlan, ReplenishmentStatus
from delivery.services.replenishment import suggest_plan
from marketplace.models import Order
from tests.accounts.factories import UserFactory
from tests.delivery.factories import front_warehouse
from tests.delivery.replenishment_factories import listing_of, manager_of, sales_history
from tests.farms.factories import ProductFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 10)
TOMORROW = TODAY + timedelta(days=1)
PLAN_URL = "/api/delivery/warehouse/replenishment/"


@pytest.fixture(autouse=True)
def nine_in_the_morning():
    moment = datetime.combine(TODAY, time(9), tzinfo=BUSINESS_TIME_ZONE)
    with time_machine.travel(moment, tick=False):
        yield


@pytest.fixture
def warehouse():
    return front_warehouse("chaoyang", 116.48, 39.92, half_side=0.03)


@pytest.fixture
def manager(warehouse):
    return manager_of(warehouse)


@pytest.fixture
def spinach():
    return ProductFactory(code="VEG-SPINACH-A", name_zh="菠菜", name_en="Spinach")


@pytest.fixture
def plan(warehouse, spinach):
    sales_history(warehouse, spinach, [10] * 28)
    listing_of(spinach, price="4.20")
    return suggest_plan(warehouse=warehouse, for_date=TOMORROW)


@pytest.fixture
def stranger():
    """The manager of another warehouse."""
    return manager_of(front_warehouse("haidian", 116.30, 39.96, half_side=0.03))


def test_the_manager_reads_the_latest_plan(
    api_as, manager, plan, spinach, django_assert_max_num_queries
):
    client = api_as(manager)

    with django_assert_max_num_queries(12):
        response = client.get(PLAN_URL)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["for_date"], body["status"]) == (plan.pk, "2026-06-11", "suggested")
    [line] = body["lines"]
    assert line["product"] == "菠菜"
    assert (line["forecast_kg"], line["usable_stock_kg"], line["suggested_kg"]) == (
        "20.000",
        "0.000",
        "20.000",
    )
    assert (line["approved_kg"], line["quantity_kg"], line["ordered"]) == (None, "20.000", False)
    assert line["method"] == "recent_average"
    assert line["listing"]["price_per_kg"] == "4.20"
    assert line["marketplace_order"] is None


def test_no_plan_yet_is_a_404_until_one_is_suggested(api_as, manager, warehouse, spinach):
    sales_history(warehouse, spinach, [4] * 10)
    client = api_as(manager)

    assert client.get(PLAN_URL).status_code == 404
    created = client.post(f"{PLAN_URL}suggest/", {}, format="json")

    assert created.status_code == 200
    assert created.json()["for_date"] == "2026-06-11"
    assert client.get(PLAN_URL).json()["id"] == created.json()["id"]


def test_an_empty_day_in_a_form_is_refused_not_read_as_tomorrow(api_as, manager):
    response = api_as(manager).post(f"{PLAN_URL}suggest/", {"for_date": ""}, format="multipart")

    assert response.status_code == 400
    assert list(response.json()) == ["for_date"]
    assert not ReplenishmentPlan.objects.exists()


def test_a_suggestion_for_a_past_day_is_refused(api_as, manager):
    response = api_as(manager).post(
        f"{PLAN_URL}suggest/", {"for_date": "2026-06-01"}, format="json"
    )

    assert response.status_code == 400
    assert "for_date" in response.json()
    assert not ReplenishmentPlan.objects.exists()


def test_the_manager_adjusts_a_line(api_as, manager, plan, spinach):
    line = plan.lines.get()

    response = api_as(manager).patch(
        f"{PLAN_URL}lines/{line.pk}/", {"approved_kg": "12.5"}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["approved_kg"], response.json()["quantity_kg"]) == ("12.500", "12.500")
    line.refresh_from_db()
    assert line.approved_kg == Decimal("12.500")


@pytest.mark.parametrize("bad", ["-2", "1.0005", "many", ""])
def test_a_bad_quantity_is_a_field_error(api_as, manager, plan, bad):
    line = plan.lines.get()

    response = api_as(manager).patch(
        f"{PLAN_URL}lines/{line.pk}/", {"approved_kg": bad}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["approved_kg"]
    line.refresh_from_db()
    assert line.approved_kg is None


def test_approval_places_the_orders_once(api_as, manager, plan):
    client = api_as(manager)

    first = client.post(f"{PLAN_URL}{plan.pk}/approve/")
    second = client.post(f"{PLAN_URL}{plan.pk}/approve/")

    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "approved"
    [line] = first.json()["lines"]
    assert line["ordered"] is True
    order = Order.objects.get()
    assert line["marketplace_order"]["id"] == order.pk
    assert line["marketplace_order"]["url"] == f"/orders/{order.pk}/"
    assert second.json() == first.json()


def test_an_approved_plans_line_no_longer_changes(api_as, manager, plan):
    client = api_as(manager)
    client.post(f"{PLAN_URL}{plan.pk}/approve/")

    response = client.patch(
        f"{PLAN_URL}lines/{plan.lines.get().pk}/", {"approved_kg": "3"}, format="json"
    )

    assert response.status_code == 409


def test_another_warehouses_manager_finds_nothing(api_as, stranger, plan):
    client = api_as(stranger)
    line = plan.lines.get()

    assert client.get(PLAN_URL).status_code == 404
    assert client.get(PLAN_URL, {"warehouse": plan.warehouse_id}).status_code == 404
    assert (
        client.patch(f"{PLAN_URL}lines/{line.pk}/", {"approved_kg": "1"}, format="json").status_code
        == 404
    )
    assert client.post(f"{PLAN_URL}{plan.pk}/approve/").status_code == 404
    plan.refresh_from_db()
    assert plan.status == ReplenishmentStatus.SUGGESTED
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", [Role.CONSUMER, Role.COURIER, Role.BUYER, Role.FARMER])
def test_other_roles_are_refused(api_as, plan, role):
    client = api_as(UserFactory(role=role))

    assert client.get(PLAN_URL).status_code == 403
    assert client.post(f"{PLAN_URL}{plan.pk}/approve/").status_code == 403


def test_an_admin_sees_any_plan_but_does_not_approve_it(api_as, plan):
    admin = UserFactory(role=Role.ADMIN)
    client = api_as(admin)

    seen = client.get(PLAN_URL, {"warehouse": plan.warehouse_id})
    refused = client.post(f"{PLAN_URL}{plan.pk}/approve/")

    assert seen.status_code == 200
    assert seen.json()["id"] == plan.pk
    assert refused.status_code == 400
    plan.refresh_from_db()
    assert plan.status == ReplenishmentStatus.SUGGESTED
