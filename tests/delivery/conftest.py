"""Fixtures the delivery tests share: warehouses, couriers, produce, a market to buy at."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.choices import Role
from delivery.models import Courier, WarehouseStaff
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from settlement.funding import top_up
from tests.accounts.factories import UserFactory
from tests.delivery.courier_factories import WAREHOUSE_AT, offset
from tests.delivery.factories import courier_at, front_warehouse, fund_wallet
from tests.delivery.shop_factories import open_warehouse
from tests.delivery.warehouse_factories import OTHER, manager_of
from tests.farms.factories import ProductFactory

# --- The couriers' side: a warehouse on People's Square, riders on shift --------------------


@pytest.fixture
def media_root(settings, tmp_path):
    """A scratch folder holding the public media root (media/) and the private one
    (private/), so a test can look for files left anywhere."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return tmp_path


@pytest.fixture
def warehouse(db):
    return front_warehouse("PSQ", *WAREHOUSE_AT, half_side=0.05, address="人民广场 1 号")


@pytest.fixture
def rider(courier):
    """The `courier` user's courier row: on shift for an hour, at the warehouse, last fix 5
    minutes ago."""
    row = courier_at(*WAREHOUSE_AT, user=courier)
    now = timezone.now()
    Courier.objects.filter(pk=row.pk).update(
        shift_started_at=now - timedelta(hours=1), position_at=now - timedelta(minutes=5)
    )
    row.refresh_from_db()
    return row


@pytest.fixture
def other_rider(db):
    return courier_at(*offset(WAREHOUSE_AT, north_m=500))


# --- The warehouse manager's side (test_warehouse*.py bring their own `warehouse`) ----------

_cards = itertools.count(1)


@pytest.fixture
def other_warehouse(db):
    return front_warehouse("haidian", *OTHER, half_side=0.03)


@pytest.fixture
def manager(warehouse):
    return manager_of(warehouse)


@pytest.fixture
def other_manager(other_warehouse):
    return manager_of(other_warehouse)


@pytest.fixture
def market(db):
    return markets.create_market(code="xinfadi-w", name="新发地 (W)", city="北京")


@pytest.fixture
def market_operator_user(market):
    user = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=user, is_supervisor=True)
    return user


@pytest.fixture
def buy_at_market(market, market_operator_user):
    """buy_at_market(user, lot=…, gross_kg=…) → a settled trade bought on `user`'s card."""
    seller = markets.register_trader(
        market=market, kind="seller", name="王大姐", card_number="6201000000009001"
    )
    buyers = {}

    def trade(user, *, lot=None, product=None, gross_kg="52", tare_kg="2"):
        if user.pk not in buyers:
            buyers[user.pk] = markets.register_trader(
                market=market,
                kind="buyer",
                name=f"前置仓 {user.pk}",
                card_number=f"62000000000{next(_cards):05d}",
                user=user,
            )
            top_up(
                account=markets.settlement_account(buyers[user.pk]),
                amount=Decimal("10000.00"),
                method="cash",
                by=market_operator_user,
                idempotency_key=f"warehouse-test-card:{user.pk}",
            )
        return counter_trades.settle_trade(
            market=market,
            by=market_operator_user,
            buyer_card=buyers[user.pk].card_number,
            seller_card=seller.card_number,
            product=lot.product if lot is not None else product,
            gross_kg=gross_kg,
            tare_kg=tare_kg,
            unit_price="3.00",
            idempotency_key=f"warehouse-test-trade:{next(_cards)}",
            lot=lot,
        )

    return trade


# --- The shop: warehouses open now, produce, a consumer with money -------------------------


@pytest.fixture
def chaoyang(db):
    return open_warehouse("chaoyang", 116.48, 39.92, half_side=0.03)


@pytest.fixture
def haidian(db):
    return open_warehouse("haidian", 116.30, 39.96, half_side=0.03)


@pytest.fixture
def spinach(db):
    return ProductFactory(code="VEG-SPINACH-O", name_zh="菠菜", name_en="Spinach")


@pytest.fixture
def tomato(db):
    return ProductFactory(code="VEG-TOMATO-O", name_zh="番茄", name_en="Tomato")


@pytest.fixture
def funded_consumer(consumer):
    fund_wallet(consumer, "500.00")
    return consumer


@pytest.fixture
def chaoyang_staff(chaoyang, warehouse_manager):
    WarehouseStaff.objects.create(warehouse=chaoyang, user=warehouse_manager)
    return warehouse_manager
