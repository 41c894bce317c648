"""The manager's replenishment page: suggest now, adjust, approve and see the orders; another
warehouse's plan is a 404; other roles get 403; an admin looks but does not order."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

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
PAGE = "/warehouse/replenishment/"


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
    return ProductFactory(code="VEG-SPINACH-P", name_zh="菠菜", name_en="Spinach")


@pytest.fixture
def garlic():
    return ProductFactory(code="VEG-GARLIC-P", name_zh="大蒜", name_en="Garlic")


@pytest.fixture
def plan(warehouse, spinach, garlic):
    """Spinach can be bought from a listing; garlic from none."""
    sales_history(warehouse, spinach, [10] * 28)
    sales_history(warehouse, garlic, [2] * 28)
    listing_of(spinach, price="4.20")
    return suggest_plan(warehouse=warehouse, for_date=TOMORROW)


def signed_in(client, user):
    client.force_login(user)
    return client


def test_the_manager_asks_for_tomorrows_suggestion(client, manager, warehouse, spinach):
    sales_history(warehouse, spinach, [10] * 28)
    client = signed_in(client, manager)

    empty = client.get(PAGE)
    assert empty.status_code == 200
    assert b'data-testid="no-plan"' in empty.content

    response = client.post(reverse("delivery:replenishment_suggest"), {"date": "2026-06-11"})

    assert response.status_code == 302
    plan = ReplenishmentPlan.objects.get()
    assert (plan.warehouse, plan.for_date) == (warehouse, TOMORROW)
    page = client.get(response.url)
    text = page.content.decode()
    assert "菠菜" in text
    assert f'name="line-{plan.lines.get().pk}" value="20"' in text
    assert 'data-testid="approve"' in text


def test_the_manager_adjusts_and_approves_and_sees_the_order(
    client, manager, plan, spinach, garlic
):
    client = signed_in(client, manager)
    spinach_line, garlic_line = plan.lines.get(product=spinach), plan.lines.get(product=garlic)

    response = client.post(
        reverse("delivery:replenishment_save", args=[plan.pk]),
        {f"line-{spinach_line.pk}": "18.5", f"line-{garlic_line.pk}": "4", "approve": "1"},
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == ReplenishmentStatus.APPROVED
    order = Order.objects.get()
    assert list(order.lines.values_list("quantity_kg", flat=True)) == [Decimal("18.500")]
    page = client.get(response.url).content.decode()
    assert reverse("marketplace:order_detail", args=[order.pk]) in page
    assert 'data-testid="not-ordered"' in page  # garlic: no listing on sale
    assert 'data-testid="approve"' not in page


def test_a_bad_quantity_is_shown_on_its_line_and_nothing_is_approved(
    client, manager, plan, spinach
):
    client = signed_in(client, manager)
    line = plan.lines.get(product=spinach)

    response = client.post(
        reverse("delivery:replenishment_save", args=[plan.pk]),
        {f"line-{line.pk}": "-3", "approve": "1"},
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert 'value="-3"' in text
    assert 'aria-invalid="true"' in text
    plan.refresh_from_db()
    assert plan.status == ReplenishmentStatus.SUGGESTED
    assert not Order.objects.exists()


def test_saving_keeps_the_plan_open(client, manager, plan, spinach):
    client = signed_in(client, manager)
    line = plan.lines.get(product=spinach)

    response = client.post(
        reverse("delivery:replenishment_save", args=[plan.pk]),
        {f"line-{line.pk}": "7", "save": "1"},
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert line.approved_kg == Decimal("7.000")
    plan.refresh_from_db()
    assert plan.status == ReplenishmentStatus.SUGGESTED


def test_another_warehouses_manager_cannot_reach_the_plan(client, plan, spinach):
    stranger = manager_of(front_warehouse("haidian", 116.30, 39.96, half_side=0.03))
    client = signed_in(client, stranger)
    line = plan.lines.get(product=spinach)

    own_page = client.get(PAGE, {"warehouse": plan.warehouse_id, "date": "2026-06-11"})
    saved = client.post(
        reverse("delivery:replenishment_save", args=[plan.pk]),
        {f"line-{line.pk}": "1", "approve": "1"},
    )

    assert own_page.status_code == 200
    assert "菠菜" not in own_page.content.decode()  # her own warehouse, which has no plan
    assert saved.status_code == 404
    plan.refresh_from_db()
    assert plan.status == ReplenishmentStatus.SUGGESTED
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", [Role.CONSUMER, Role.COURIER, Role.FARMER])
def test_other_roles_are_refused(client, role):
    client = signed_in(client, UserFactory(role=role))

    assert client.get(PAGE).status_code == 403


def test_an_admin_looks_at_a_warehouses_plan_without_ordering(client, plan):
    client = signed_in(client, UserFactory(role=Role.ADMIN))

    page = client.get(PAGE, {"warehouse": plan.warehouse_id, "date": "2026-06-11"})

    text = page.content.decode()
    assert page.status_code == 200
    assert "菠菜" in text
    assert 'data-testid="approve"' not in text
