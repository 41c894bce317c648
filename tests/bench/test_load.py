"""`manage.py prepare_load` (bench/load/fixtures.py) on the test database: the load's pool is
made on top of the demo's people, farms, front warehouse and market, once however often it
runs, and its credentials sign in; the locustfile reads the file it wrote."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import override_settings
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import demo as accounts_demo
from accounts.models import User
from bench.load import fixtures
from coldchain.models import DataLogger, LoggerAssignment
from delivery import demo as delivery_demo
from delivery.models import Courier, StockLot, WarehouseStaff
from farms import demo as farms_demo
from marketplace.markets import demo as market_demo
from marketplace.markets.models import MarketStaff, Trader
from marketplace.markets.services import create_market
from marketplace.models import Listing
from settlement.models import JournalEntry

ROOT = Path(__file__).resolve().parent.parent.parent
POOL = fixtures.Pool(
    loggers=2, couriers=2, consumers=2, operators=1, buyer_cards=2, buyers=1, listings=3
)

pytestmark = pytest.mark.django_db


def _figures() -> dict:
    load = User.objects.filter(username__startswith=fixtures.PREFIX)
    return {
        "people": load.count(),
        "couriers": Courier.objects.filter(user__in=load).count(),
        "staff": MarketStaff.objects.filter(user__in=load).count()
        + WarehouseStaff.objects.filter(user__in=load).count(),
        "cards": Trader.objects.filter(card_number__startswith="62299").count(),
        "loggers": DataLogger.objects.filter(device_id__startswith="LOAD-LOG-").count(),
        "watching": LoggerAssignment.objects.filter(ends_at=None, store__code=fixtures.STORE_CODE)
        .values("logger")
        .distinct()
        .count(),
        "listings": Listing.objects.filter(lot__lot_code__startswith="LOAD-MK-").count(),
        "stock_kg": StockLot.objects.filter(lot__lot_code__startswith="LOAD-FW-").aggregate(
            kg=Sum("quantity_kg")
        )["kg"],
        "entries": JournalEntry.objects.count(),
        "tokens": AuthToken.objects.filter(user__in=load).count(),
    }


@pytest.fixture(scope="module")
def prepared_twice(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo's people and farms, 望京 and 新发地 (what the pool builds on), then the pool
    prepared twice."""
    folder = tmp_path_factory.mktemp("load")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=folder / "media"):
        from django.db import transaction

        with transaction.atomic():
            context: dict = {}
            accounts_demo.seed(context)
            farms_demo.seed(context)
            delivery_demo._warehouse(delivery_demo.WANGJING, context["people"]["controller"])
            create_market(code=market_demo.MARKET_CODE, name=market_demo.MARKET_NAME, city="北京")
            first_file, second_file = folder / "first.json", folder / "second.json"
            fixtures.prepare(POOL, output=first_file)
            first = _figures()
            data = fixtures.prepare(POOL, output=second_file)
            second = _figures()
            yield first, second, data, second_file
            transaction.set_rollback(True)


def test_preparing_again_adds_nothing_and_replaces_the_tokens(prepared_twice):
    first, second, _data, _path = prepared_twice
    assert first == second
    assert first["people"] == 2 + 2 + 1 + 1 + 1  # couriers, consumers, packer, operator, buyer
    assert first["couriers"] == 2
    assert first["staff"] == 2
    assert first["cards"] == 2
    assert first["loggers"] == first["watching"] == 2
    assert first["listings"] == 3
    assert first["tokens"] == first["people"]  # one each: the earlier run's are revoked


def test_the_credentials_sign_in(prepared_twice):
    _first, _second, data, path = prepared_twice
    assert json.loads(path.read_text()) == data
    client = APIClient()
    for kind in ("couriers", "consumers", "operators", "buyers"):
        for account in data[kind]:
            client.credentials(HTTP_AUTHORIZATION=f"Token {account['token']}")
            me = client.get("/api/me/")
            assert me.status_code == 200, kind
            assert me.json()["username"] == account["username"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {data['packer']['token']}")
    assert client.get("/api/delivery/warehouse/orders/").status_code == 200
    client.credentials()
    client.cookies["sessionid"] = data["controller"]["session"]
    assert client.get("/api/coldchain/screen/").status_code == 200
    logger = data["loggers"][0]
    posted = client.post(
        "/api/coldchain/readings/",
        {"readings": [{"recorded_at": data["prepared_at"], "temperature_c": 4.0}]},
        format="json",
        HTTP_AUTHORIZATION=f"Device {logger['device_id']}:{logger['secret']}",
    )
    assert posted.status_code == 201


def test_the_buyers_cards_and_the_consumers_wallets_hold_money(prepared_twice):
    from marketplace.markets.services import settlement_account
    from settlement.accounts import wallet_of
    from settlement.selectors import balance_of

    _first, _second, data, _path = prepared_twice
    for card in data["buyer_cards"]:
        trader = Trader.objects.get(card_number=card)
        assert balance_of(settlement_account(trader)).amount == fixtures.CARD_TOP_UP
    for account in data["consumers"]:
        wallet = wallet_of(User.objects.get(username=account["username"]))
        assert balance_of(wallet).amount == fixtures.WALLET_TOP_UP


def test_the_locustfile_reads_the_pool_in_a_process_of_its_own(prepared_twice):
    _first, _second, _data, path = prepared_twice
    script = (
        "from bench.load import locustfile as f; from bench.load.roles import screens as s;"
        "print(sum(getattr(f, n).fixed_count for n in f.__all__), len(s.screens()))"
    )
    env = {**os.environ, "LOAD_ACCOUNTS": str(path), "PYTHONPATH": str(ROOT),
           "LOAD_LOGGERS": "2", "LOAD_COURIERS": "2", "LOAD_CONSUMERS": "2",
           "LOAD_COUNTERS": "1", "LOAD_BUYERS": "1"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    users, screens = map(int, done.stdout.split())
    assert screens == 2 + 2 + 2  # the controller, the warehouse, the couriers, the consumers
    assert users == 2 + 2 + 2 + 1 + 1 + 1 + screens


def test_prepare_load_refuses_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("prepare_load", stdout=StringIO())
