"""The load test's people and things, made on top of the demo (`manage.py seed_demo` first).

`manage.py prepare_load` calls prepare(): a pool of load accounts per role, each with what its
work needs, then a JSON file of their credentials for the locustfile (bench/load/roles/):

- loggers LOAD-LOG-nnn watching a cold store at the 望京 front warehouse (device secrets);
- couriers riding for 望京, on shift (API tokens);
- consumers living inside 望京's zone with a funded wallet, and a stock of every shop product
  at 望京 that lasts the run (API tokens);
- one packer: staff of 望京 who packs the placed orders (API token, and a session for the
  warehouse's live page);
- counter operators at 新发地 and buyers' cards with money on them, beside the demo's sellers'
  cards (API tokens, card numbers);
- marketplace buyers searching the listings (API tokens), and extra listings to find;
- the cold-chain controller's screen (a session cookie: the sockets take sessions only).

Running it again adds nothing twice: people, cards, loggers and listings are found by their
names; money and stock are topped up only when a run has spent them down. Every run issues
new tokens and sessions (a token is shown once) and removes the load accounts' earlier ones.
"""

import json
import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.gis.geos import Point
from django.db.models import Sum
from django.utils import timezone
from django.utils.module_loading import import_string
from djmoney.money import Money
from knox.models import AuthToken

from accounts.choices import Role
from accounts.demo import DEMO_PASSWORD
from accounts.models import Consent, User
from accounts.privacy import POLICY_VERSION
from accounts.services.passwords import issue_api_token
from coldchain.models import ColdStore, DataLogger, LoggerAssignment
from coldchain.services.registry import (
    assign_logger,
    create_cold_store,
    hash_logger_secret,
    register_logger,
)
from common.dates import business_today
from delivery import demo as delivery_demo
from delivery.models import Courier, FrontWarehouse, StockLot, VehicleType, WarehouseStaff
from delivery.services.stock import receive_stock
from farms.choices import Grade
from farms.models import Farm, HarvestLot, Product
from farms.services.lots import record_harvest_lot
from marketplace.markets import demo as market_demo
from marketplace.markets.choices import TraderKind
from marketplace.markets.models import Market, Trader
from marketplace.markets.services import add_staff, register_trader, settlement_account
from marketplace.models import Listing
from marketplace.services.listings import create_listing
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import top_up
from settlement.selectors import balance_of

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_OUTPUT = ROOT / "var" / "load" / "accounts.json"
PREFIX = "load."  # usernames of the load accounts
STORE_CODE = "LOAD-WJ-COLD"
WALLET_TOP_UP = Decimal("1000000.00")  # a consumer's, topped up below half of it
CARD_TOP_UP = Decimal("5000000.00")  # a buyer's card at the counter, topped up below half
STOCK_KG = Decimal("5000")  # of each shop product at 望京, received again below a fifth


@dataclass(frozen=True)
class Pool:
    """How many of each the pool holds (the locustfile runs at most as many users)."""

    loggers: int = 40
    couriers: int = 12
    consumers: int = 20
    operators: int = 4
    buyer_cards: int = 8
    buyers: int = 10
    listings: int = 60  # for the buyers to search, beside the demo's nine


def phone(kind: int, number: int) -> str:
    """+86 19k 0000 nnnn: a mobile number per role and person, outside the demo's ranges."""
    return f"+8619{kind}0000{number:04d}"


def _person(username: str, name: str, mobile: str, role: str) -> User:
    user, created = User.objects.update_or_create(
        username=username,
        defaults={
            "display_name": name,
            "phone": mobile,
            "role": role,
            "must_change_password": False,
            "is_active": True,
        },
    )
    # Set once: checking a password costs a key derivation per person and run, and the load
    # signs in with tokens issued here (the password is for a person looking on).
    if created or not user.has_usable_password():
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    Consent.objects.get_or_create(user=user, policy_version=POLICY_VERSION)
    return user


def _people(role: str, kind: int, count: int, label: str) -> list[User]:
    return [
        _person(f"{PREFIX}{label}.{n:03d}", f"负载{label}{n}", phone(kind, n), role)
        for n in range(1, count + 1)
    ]


def _token(user: User) -> str:
    AuthToken.objects.filter(user=user).delete()
    return issue_api_token(user=user)[1]


def _session(user: User) -> str:
    """A signed-in session as the sign-in page makes it (the sockets read sessions only)."""
    engine = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    session = engine()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "accounts.backends.PhoneOrUsernameBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


# --- The cold chain ---------------------------------------------------------------------------


def _loggers(count: int, warehouse: FrontWarehouse, controller: User) -> list[dict]:
    store = ColdStore.objects.filter(code=STORE_CODE).first() or create_cold_store(
        by=controller,
        code=STORE_CODE,
        name="望京前置仓 负载测试冷库",
        site=warehouse.site,
        min_temperature_c=Decimal("0"),
        max_temperature_c=Decimal("8"),
    )
    now = timezone.now()
    rows = []
    for n in range(1, count + 1):
        device_id, secret = f"LOAD-LOG-{n:03d}", f"load-log-{n:03d}-secret"
        logger = DataLogger.objects.filter(device_id=device_id).first()
        if logger is None:
            logger, _ = register_logger(device_id=device_id, label="负载测试", secret=secret)
        elif not logger.is_active or logger.secret_hash != hash_logger_secret(secret):
            logger.secret_hash, logger.is_active = hash_logger_secret(secret), True
            logger.save(update_fields=["secret_hash", "is_active", "updated_at"])
        watching = LoggerAssignment.objects.filter(logger=logger, store=store, ends_at=None)
        if not watching.exists():
            assign_logger(logger=logger, subject=store, starts_at=now - timedelta(minutes=1))
        rows.append({"device_id": device_id, "secret": secret})
    return rows


# --- The front warehouse ----------------------------------------------------------------------


def _stock(warehouse: FrontWarehouse, people: dict) -> None:
    """Enough of every shop product for a run of hours; a fresh lot when a run ate it."""
    today = business_today()
    now = timezone.now()
    farms = {(f.farmer.username, f.name): f for f in Farm.objects.select_related("farmer")}
    for number, spec in enumerate(delivery_demo.PRODUCTS, start=1):
        product = Product.objects.get(code=spec.code)
        usable = StockLot.objects.filter(
            warehouse=warehouse, product=product, expires_at__gt=now + timedelta(days=1)
        ).aggregate(kg=Sum("quantity_kg"))["kg"] or Decimal("0")
        code = f"LOAD-FW-{today:%y%m%d}-{number:02d}"
        if usable >= STOCK_KG / 5 or HarvestLot.objects.filter(lot_code=code).exists():
            continue
        lot = record_harvest_lot(
            recorded_by=people[spec.farm[0]],
            farm=farms[spec.farm],
            product=product,
            harvest_date=today,
            quantity_kg=STOCK_KG,
            grade=Grade.FIRST if product.has_grade(Grade.FIRST) else product.grade_scale[0],
            lot_code=code,
        )
        receive_stock(warehouse=warehouse, lot=lot, quantity_kg=STOCK_KG, received_at=now)


def _fund(account, *, amount: Decimal, by: User, key: str) -> None:
    if balance_of(account).amount < amount / 2:
        top_up(
            account=account,
            amount=amount,
            method=FundingMethod.BANK,
            by=by,
            idempotency_key=f"{key}-{timezone.now():%Y%m%d%H%M%S}",
        )


def _couriers(users: list[User], warehouse: FrontWarehouse) -> None:
    home = warehouse.site.location
    for user in users:
        Courier.objects.get_or_create(
            user=user,
            defaults={
                "home_warehouse": warehouse,
                "capacity": 3,
                "vehicle_type": VehicleType.E_BIKE,
                "is_on_shift": False,
                "position": Point(home.x, home.y, srid=4326),
                "position_at": timezone.now() - timedelta(hours=1),
            },
        )


# --- The market and the marketplace -----------------------------------------------------------


def _cards(market: Market, count: int, admin: User) -> list[str]:
    cards = []
    for n in range(1, count + 1):
        card = f"62299000000{n:05d}"
        trader = Trader.objects.filter(market=market, card_number=card).first()
        if trader is None:
            trader = register_trader(
                market=market, kind=TraderKind.BUYER, name=f"负载测试买家{n}", card_number=card
            )
        _fund(settlement_account(trader), amount=CARD_TOP_UP, by=admin, key=f"load-card-{card}")
        cards.append(card)
    return cards


def _listings(people: dict, count: int) -> None:
    """Listings of the demo farms' produce (the buyers search by name and distance)."""
    have = Listing.objects.filter(lot__lot_code__startswith="LOAD-MK-").count()
    if have >= count:
        return
    rng = random.Random(19)
    farms = list(Farm.objects.select_related("farmer").filter(farmer__username__in=people))
    products = list(Product.objects.filter(code__in=[s.code for s in delivery_demo.PRODUCTS]))
    today = business_today()
    for n in range(have + 1, count + 1):
        farm, product = rng.choice(farms), rng.choice(products)
        lot = HarvestLot.objects.filter(lot_code=f"LOAD-MK-{n:03d}").first() or record_harvest_lot(
            recorded_by=farm.farmer,
            farm=farm,
            product=product,
            harvest_date=today,
            quantity_kg=Decimal("100000"),
            grade=Grade.FIRST if product.has_grade(Grade.FIRST) else product.grade_scale[0],
            lot_code=f"LOAD-MK-{n:03d}",
        )
        create_listing(
            listed_by=farm.farmer,
            lot=lot,
            price_per_kg=Money(Decimal(rng.randrange(200, 1500)) / 100, "CNY"),
            available_kg=Decimal("100000"),
            minimum_order_kg=Decimal("10"),
            available_until=timezone.now() + timedelta(days=30),
        )


# --- All of it --------------------------------------------------------------------------------


def prepare(pool: Pool = Pool(), output: Path = DEFAULT_OUTPUT) -> dict:
    """Make (or top up) the pool and write the credentials file; returns what it wrote."""
    people = {
        u.username: u
        for u in User.objects.filter(
            username__in=["admin", "controller", "farmer", "farmer2", "farmer3", "apple.farmer"]
        )
    }
    missing = {"admin", "controller"} - set(people)
    if missing:
        raise RuntimeError(f"run manage.py seed_demo first ({', '.join(sorted(missing))} missing)")
    admin = people["admin"]
    warehouse = FrontWarehouse.objects.select_related("site").get(code=delivery_demo.WANGJING.code)
    market = Market.objects.get(code=market_demo.MARKET_CODE)

    couriers = _people(Role.COURIER, 2, pool.couriers, "courier")
    _couriers(couriers, warehouse)
    consumers = _people(Role.CONSUMER, 1, pool.consumers, "consumer")
    for user in consumers:
        _fund(wallet_of(user), amount=WALLET_TOP_UP, by=admin, key=f"load-wallet-{user.username}")
    packer = _person(f"{PREFIX}packer", "负载测试打包员", phone(5, 1), Role.WAREHOUSE_MANAGER)
    WarehouseStaff.objects.update_or_create(user=packer, defaults={"warehouse": warehouse})
    _stock(warehouse, people)
    operators = _people(Role.MARKET_OPERATOR, 3, pool.operators, "operator")
    for user in operators:
        add_staff(market=market, user=user)
    cards = _cards(market, pool.buyer_cards, admin)
    buyers = _people(Role.BUYER, 4, pool.buyers, "buyer")
    _listings(people, pool.listings)
    loggers = _loggers(pool.loggers, warehouse, people["controller"])

    home = warehouse.site.location
    data = {
        "prepared_at": timezone.now().isoformat(),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "warehouse": {"code": warehouse.code, "longitude": home.x, "latitude": home.y},
        "home": {
            "longitude": delivery_demo.CONSUMER_HOME.longitude,
            "latitude": delivery_demo.CONSUMER_HOME.latitude,
            "address": delivery_demo.CONSUMER_HOME.address,
        },
        "loggers": loggers,
        "couriers": [
            {"username": u.username, "token": _token(u), "session": _session(u)} for u in couriers
        ],
        "consumers": [
            {"username": u.username, "token": _token(u), "session": _session(u)} for u in consumers
        ],
        "packer": {
            "username": packer.username,
            "token": _token(packer),
            "session": _session(packer),
        },
        "operators": [{"username": u.username, "token": _token(u)} for u in operators],
        "buyer_cards": cards,
        "lines": [
            {
                "product": line.product,
                "seller_card": line.seller,
                "low": line.low,
                "high": line.high,
            }
            for line in market_demo.LINES
        ],
        "buyers": [{"username": u.username, "token": _token(u)} for u in buyers],
        "controller": {"session": _session(people["controller"])},
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    return data
