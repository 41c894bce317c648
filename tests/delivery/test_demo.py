"""The delivery demo: seeded twice it is the same; two front warehouses with zones drawn
round them, the 望京 one open at any hour and serving 林小姐's home; stock from the demo farms,
couriers, a manager, a funded wallet and eight weeks of sales for the forecast; a later day
brings the missing days and fresh stock."""

from datetime import time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, F, Q, Sum
from django.test import override_settings
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from coldchain.choices import SiteKind
from common.dates import BUSINESS_TIME_ZONE, business_today
from delivery import demo
from delivery.models import (
    Courier,
    CourierInvitation,
    CourierInvitationStatus,
    DeliveryOrder,
    DeliveryOrderEvent,
    DeliveryOrderLine,
    DeliveryOrderStatus,
    FrontWarehouse,
    ShopPrice,
    StockLot,
    StockWriteOff,
    WarehouseStaff,
)
from delivery.selectors.zones import warehouse_serving
from farms.models import Farm, HarvestLot
from settlement.accounts import wallet_of
from settlement.models import JournalEntry
from settlement.selectors import balance_of

pytestmark = pytest.mark.django_db


def _figures() -> dict:
    models = (FrontWarehouse, WarehouseStaff, Courier, ShopPrice, StockLot, StockWriteOff,
              DeliveryOrder, DeliveryOrderLine, HarvestLot, User, JournalEntry,
              CourierInvitation)  # fmt: skip
    figures = {model.__name__: model.objects.count() for model in models}
    figures["stock"] = sorted(
        StockLot.objects.values_list("warehouse__code", "lot__lot_code", "quantity_kg")
    )
    figures["couriers"] = sorted(
        Courier.objects.values_list("user__username", "is_on_shift", "position_at")
    )
    figures["wallet"] = balance_of(wallet_of(User.objects.get(username="consumer"))).amount
    figures["sales"] = DeliveryOrderLine.objects.aggregate(kg=Sum("quantity_kg"))["kg"]
    return figures


@pytest.fixture(scope="module")
def seeded_twice(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media):
        from django.db import transaction

        with transaction.atomic():
            call_command("seed_demo", force=True, stdout=StringIO())
            first = _figures()
            call_command("seed_demo", force=True, stdout=StringIO())
            second = _figures()
            yield first, second
            transaction.set_rollback(True)


def _own(rows):
    """Prices or stock of this demo's products (traceability's demo brings its followed lot of
    spinach to 望京)."""
    return rows.filter(product__code__in=[p.code for p in demo.PRODUCTS])


def _warehouse(spec) -> FrontWarehouse:
    return FrontWarehouse.objects.select_related("site").get(code=spec.code)


def test_seeding_twice_changes_nothing(seeded_twice):
    first, second = seeded_twice
    assert first == second
    assert first["FrontWarehouse"] == 2
    assert _own(ShopPrice.objects.all()).count() == 2 * len(demo.PRODUCTS) == 16


def test_each_warehouse_is_a_cold_chain_site_inside_its_own_zone_of_eight_corners(seeded_twice):
    for spec in demo.WAREHOUSES:
        warehouse = _warehouse(spec)
        assert warehouse.site.kind == SiteKind.FRONT_WAREHOUSE
        assert warehouse.delivery_zone.contains(warehouse.site.location)
        assert warehouse.promised_minutes == 30
        assert len(warehouse.delivery_zone.exterior_ring) == 9  # an octagon, closed
        # About 3 km round: the zone's box is 5–7 km across.
        west, south, east, north = warehouse.delivery_zone.extent
        assert 0.045 < north - south < 0.065
        assert 0.055 < east - west < 0.085
    wangjing, zhongguancun = _warehouse(demo.WANGJING), _warehouse(demo.ZHONGGUANCUN)
    assert not wangjing.delivery_zone.intersects(zhongguancun.delivery_zone)


def test_the_consumers_home_and_every_drop_off_are_served_by_their_warehouse(seeded_twice):
    home = demo.CONSUMER_HOME
    served = warehouse_serving(longitude=home.longitude, latitude=home.latitude)
    assert served is not None
    assert served.code == demo.WANGJING.code
    for code, places in demo.DROP_OFFS.items():
        for place in places:
            served = warehouse_serving(longitude=place.longitude, latitude=place.latitude)
            assert served is not None, place.address
            assert served.code == code, place.address
    # 新发地, in Fengtai, is outside both.
    assert warehouse_serving(longitude=116.3655, latitude=39.7838) is None


def test_wangjing_is_open_at_every_minute_of_the_day_and_zhongguancun_in_the_day(seeded_twice):
    wangjing, zhongguancun = _warehouse(demo.WANGJING), _warehouse(demo.ZHONGGUANCUN)
    minutes = [time(hour, minute) for hour in range(24) for minute in range(60)]
    assert all(wangjing.is_open_at(moment) for moment in minutes)
    assert [
        zhongguancun.is_open_at(time(h, m)) for h, m in ((6, 59), (7, 0), (22, 59), (23, 0))
    ] == [
        False,
        True,
        True,
        False,
    ]


def test_people_have_their_posts(seeded_twice):
    manager = User.objects.get(username="warehouse")
    assert manager.warehouse_post.warehouse.code == demo.WANGJING.code
    for spec in demo.WAREHOUSES:
        warehouse = _warehouse(spec)
        for username, *_ in spec.couriers:
            courier = Courier.objects.select_related("user").get(user__username=username)
            assert courier.user.role == Role.COURIER
            assert courier.home_warehouse == warehouse
            assert courier.capacity == 3
            assert not courier.is_on_shift
            assert courier.position_at is not None
            # Near his warehouse, well inside its zone.
            assert warehouse.delivery_zone.contains(courier.position)
            assert courier.position.distance(warehouse.site.location) < 0.01


def test_every_listed_product_is_in_stock_with_varied_expiry_and_from_a_demo_farm(seeded_twice):
    now = timezone.now()
    for spec in demo.WAREHOUSES:
        warehouse = _warehouse(spec)
        prices = _own(ShopPrice.objects.filter(warehouse=warehouse, is_listed=True))
        assert prices.count() == len(demo.PRODUCTS)
        usable = dict(
            _own(
                StockLot.objects.filter(warehouse=warehouse, expires_at__gt=now + timedelta(days=1))
            )
            .values_list("product__code")
            .annotate(kg=Sum("quantity_kg"))
        )
        assert set(usable) == {p.code for p in demo.PRODUCTS}
        assert all(kg >= 50 for kg in usable.values())
        expiries = _own(StockLot.objects.filter(warehouse=warehouse)).values_list(
            "expires_at", flat=True
        )
        assert max(expiries) - min(expiries) > timedelta(days=20)
        farms = {p.code: p.farm for p in demo.PRODUCTS}
        stock = _own(StockLot.objects.filter(warehouse=warehouse)).select_related(
            "lot__farm__farmer", "product"
        )
        for row in stock:
            farm = row.lot.farm
            assert (farm.farmer.username, farm.name) == farms[row.product.code]
            assert row.lot.product_id == row.product_id
    # At 望京 an older tomato lot is picked first, and it is near its end.
    tomatoes = StockLot.objects.filter(
        warehouse__code=demo.WANGJING.code, product__code="VEG-TOMATO"
    ).order_by("expires_at")
    assert tomatoes.count() == 2
    assert tomatoes[0].expires_at < tomatoes[1].expires_at
    # Harvest dates are whole Beijing days, so what is left of its shelf life depends on the
    # hour of the seeding: between 2 and 3 days and some hours.
    assert tomatoes[0].expires_at < now + timedelta(days=4)


def test_two_losses_are_recorded_with_their_reasons(seeded_twice):
    write_offs = StockWriteOff.objects.select_related("stock_lot__product", "recorded_by")
    assert sorted((w.stock_lot.product.code, w.reason) for w in write_offs) == [
        ("VEG-LETTUCE", "damaged"),
        ("VEG-TOMATO", "spoiled"),
    ]
    assert {w.recorded_by.username for w in write_offs} == {"warehouse"}


def test_the_consumers_wallet_is_funded_once(seeded_twice):
    consumer = User.objects.get(username="consumer")
    assert balance_of(wallet_of(consumer)).amount == demo.WALLET_TOP_UP


def test_eight_weeks_of_delivered_sales_every_past_day_with_a_weekly_pattern(seeded_twice):
    today = business_today()
    for spec in demo.WAREHOUSES:
        history = DeliveryOrder.objects.filter(
            warehouse__code=spec.code, number__startswith=demo.HISTORY_PREFIX
        )
        assert set(history.values_list("status", flat=True)) == {DeliveryOrderStatus.DELIVERED}
        days = {
            placed.astimezone(BUSINESS_TIME_ZONE).date()
            for placed in history.values_list("placed_at", flat=True)
        }
        assert days == {today - timedelta(days=n) for n in range(1, 7 * demo.HISTORY_WEEKS + 1)}
        by_weekday = {}
        for placed in history.values_list("placed_at", flat=True):
            weekday = placed.astimezone(BUSINESS_TIME_ZONE).weekday()
            by_weekday[weekday] = by_weekday.get(weekday, 0) + 1
        assert by_weekday[5] > 1.2 * by_weekday[1]  # Saturdays busier than Tuesdays
        # Every order adds up, is delivered after it was placed, mostly within the promise.
        totals = history.annotate(lines_total=Sum("lines__amount"), line_count=Count("lines"))
        assert all(o.lines_total == o.total.amount and o.line_count >= 1 for o in totals)
        assert not history.filter(delivered_at__lte=F("placed_at")).exists()
        late = history.filter(delivered_at__gt=F("promised_by")).count()
        assert 0 < late < 0.15 * history.count()
    # 林小姐 has a few past orders of her own, all to her home; the rest are regulars'.
    consumer = User.objects.get(username="consumer")
    own = DeliveryOrder.objects.filter(consumer=consumer)
    assert 2 <= own.count() <= 25
    assert set(own.values_list("address", flat=True)) == {demo.CONSUMER_HOME.address}
    regulars = User.objects.filter(username__contains=".customer")
    assert regulars.count() == 2 * len(demo.NEIGHBOURS)
    assert not any(user.has_usable_password() for user in regulars)
    # Besides the history, only traceability's demo order of its followed lot (spinach).
    live = DeliveryOrder.objects.filter(~Q(number__startswith=demo.HISTORY_PREFIX))
    assert not live.exclude(lines__product__code="VEG-SPINACH").exists()


def test_every_past_order_shows_its_steps_placed_packed_and_carried_by_the_warehouses_people(
    seeded_twice,
):
    history = DeliveryOrder.objects.filter(number__startswith=demo.HISTORY_PREFIX)
    steps = DeliveryOrderEvent.objects.filter(order__in=history)

    assert steps.count() == 5 * history.count()
    placed = steps.filter(to_status=DeliveryOrderStatus.PLACED)
    assert not placed.exclude(actor=F("order__consumer")).exists()
    packers = set(steps.filter(to_status="packed").values_list("actor__role", flat=True))
    carriers = set(steps.filter(to_status="delivered").values_list("actor__role", flat=True))
    assert (packers, carriers) == ({Role.WAREHOUSE_MANAGER}, {Role.COURIER})
    assert not steps.exclude(at__gte=F("order__placed_at")).exists()


def _context() -> dict:
    return {
        "people": {user.username: user for user in User.objects.all()},
        "farms": {(farm.farmer.username, farm.name): farm for farm in Farm.objects.all()},
    }


def test_a_later_day_adds_the_missing_sales_days_and_fresh_stock_once(seeded_twice):
    before = DeliveryOrder.objects.count()
    lots = set(StockLot.objects.values_list("pk", flat=True))
    # A week on: the tomatoes, eggplants and cucumbers are near their end.
    with time_machine.travel(timezone.now() + timedelta(days=7), tick=False):
        demo.seed(_context())
        today = business_today()
        added = DeliveryOrder.objects.count() - before
        fresh = StockLot.objects.exclude(pk__in=lots).select_related("lot", "product")
        fresh_products = {stock.product.code for stock in fresh}
        demo.seed(_context())  # and again that day: nothing more
        assert DeliveryOrder.objects.count() - before == added
        assert StockLot.objects.exclude(pk__in=lots).count() == fresh.count()
    assert 7 * 30 < added < 7 * 80  # seven more days at two warehouses
    newest = DeliveryOrder.objects.order_by("-placed_at").first()
    assert newest.placed_at.astimezone(BUSINESS_TIME_ZONE).date() == today - timedelta(days=1)
    assert {"VEG-TOMATO", "VEG-EGGPLANT"} <= fresh_products
    assert "FRT-APPLE" not in fresh_products  # apples keep for weeks
    assert all(stock.lot.lot_code.startswith(f"DEMO-FW-{today:%y%m%d}-") for stock in fresh)


def test_one_courier_invitation_waits_at_wangjing(seeded_twice):
    [invitation] = CourierInvitation.objects.all()
    assert invitation.warehouse.code == demo.WANGJING.code
    assert invitation.status == CourierInvitationStatus.PENDING
    assert invitation.phone == demo.INVITED_COURIER_PHONE
    assert invitation.invited_by.username == demo.WANGJING.manager
    assert not User.objects.filter(phone=demo.INVITED_COURIER_PHONE).exists()
