"""Demo wholesale market: 北京新发地 with its operator, rules, stalls, traders and a month of
counter trades, every one of them settled through the real services.

`manage.py seed_demo` calls seed(context) after accounts.demo and farms.demo. The past days
are played back on their own dates (time-machine moves the clock to each morning): buyers'
cards are topped up when low, the day's trades are settled at the counter, and in the
afternoon the business day is closed, so payouts, statements and daily reports exist as end
of day wrote them. A day already closed is skipped and every write carries an idempotency key
derived from its date, so running the seed again changes nothing, and running it on a later
day only plays the days not yet closed. Today stays open with a few early trades.
"""

import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.db import transaction
from django.utils import timezone

from common.dates import BUSINESS_TIME_ZONE, business_today
from common.money import CENT
from farms.models import Product
from marketplace.markets.trades import reverse_trade, settle_trade
from settlement.accounts import wallet_of
from settlement.choices import FundingMethod
from settlement.funding import top_up
from settlement.selectors import balance_of

from .card_models import TraderCardApplication
from .cards import apply_for_card
from .choices import DayStatus, TraderKind
from .end_of_day import close_business_day
from .funding import approve_funding_request, top_up_card, withdraw_from_card
from .funding_models import FundingRequest
from .models import CommissionRule, Market, MarketDay, Stall, Trade, Trader
from .services import (
    add_staff,
    create_market,
    register_trader,
    set_trader_active,
    settlement_account,
)

MARKET_CODE = "xinfadi"
MARKET_NAME = "北京新发地农产品批发市场"
MARKET_ADDRESS = "北京市丰台区京开高速新发地桥西"
HISTORY_DAYS = 30
# Maker–checker: a cash top-up above ¥5,000 waits for a supervisor. The supervisor (陈静)
# funds the bulk buyers by bank transfer, so her own limits are above the market's.
APPROVAL_THRESHOLD = Decimal("5000.00")
SUPERVISOR_LIMITS = {
    "transaction_limit": Decimal("200000.00"),
    "daily_limit": Decimal("1000000.00"),
}
TODAY_TRADES = 4  # settled this morning; the rest of today is the demo's to record

# (hall, stall number)
STALLS = (
    ("蔬菜一区", "A-018"),
    ("蔬菜一区", "A-026"),
    ("蔬菜二区", "B-105"),
    ("果品区", "F-302"),
    ("果品区", "F-311"),
)


@dataclass(frozen=True)
class DemoTrader:
    card: str
    kind: str
    name: str
    user: str = ""  # demo username, when the trader signs in
    cooperative: str = ""  # the co-operative's English name (farms.demo)
    stall: str = ""
    phone: str = ""


TRADERS = (
    DemoTrader("6210000000000001", TraderKind.SELLER, "王秀英", "farmer",
               "Shouguang Xianfeng Vegetable Co-operative", "A-018", "13800000001"),
    DemoTrader("6210000000000002", TraderKind.SELLER, "寿光市鲜丰蔬菜专业合作社", "coop",
               "Shouguang Xianfeng Vegetable Co-operative", "A-026", "13800000010"),
    DemoTrader("6210000000000003", TraderKind.SELLER, "寿光市红椒种植专业合作社", "coop2",
               "Shouguang Red Pepper Co-operative", "B-105", "13800000011"),
    DemoTrader("6210000000000004", TraderKind.SELLER, "洛川县金果苹果专业合作社", "apple.coop",
               "Luochuan Golden Fruit Apple Co-operative", "F-302", "13800000012"),
    DemoTrader("6210000000000005", TraderKind.SELLER, "张家口坝上蔬菜批发部", stall="B-105",
               phone="13931300001"),
    DemoTrader("6220000000000001", TraderKind.BUYER, "鲜味餐厅", "buyer", phone="13600000001"),
    DemoTrader("6220000000000002", TraderKind.BUYER, "邻里超市", "buyer2", phone="13600000002"),
    DemoTrader("6220000000000003", TraderKind.BUYER, "丰台区四季青食堂", phone="13601100003"),
    DemoTrader("6220000000000004", TraderKind.BUYER, "海淀万家福配送中心", phone="13601100004"),
)  # fmt: skip
DEMO_BUYER_CARD = "6220000000000001"
FARMER_CARD = "6210000000000001"
BUYER_CARDS = tuple(t.card for t in TRADERS if t.kind == TraderKind.BUYER)
BIG_BUYER_CARDS = tuple(card for card in BUYER_CARDS if card != DEMO_BUYER_CARD)


@dataclass(frozen=True)
class DemoLine:
    """What one seller brings of one product, and the month's price band in ¥/kg."""

    product: str
    seller: str  # card number
    low: str
    high: str
    gross_kg: tuple[int, int]
    per_day: float  # trades on an average day


# Beijing wholesale prices (新发地 price lists, late autumn), in ¥/kg.
LINES = (
    DemoLine("VEG-CHINESE-CABBAGE", "6210000000000005", "0.90", "1.80", (800, 2400), 1.4),
    DemoLine("VEG-TOMATO", "6210000000000001", "4.20", "6.80", (150, 600), 0.6),
    DemoLine("VEG-TOMATO", "6210000000000002", "4.00", "6.60", (300, 1200), 0.6),
    DemoLine("VEG-CUCUMBER", "6210000000000002", "3.00", "5.00", (200, 900), 0.7),
    DemoLine("VEG-CUCUMBER", "6210000000000001", "3.20", "5.20", (100, 400), 0.5),
    DemoLine("VEG-SWEET-PEPPER", "6210000000000003", "4.00", "6.50", (200, 700), 0.5),
    DemoLine("VEG-POTATO", "6210000000000005", "1.40", "2.40", (1000, 3000), 0.4),
    DemoLine("VEG-SPINACH", "6210000000000005", "3.00", "5.50", (80, 300), 0.4),
    DemoLine("FRT-APPLE", "6210000000000004", "6.00", "10.00", (300, 1500), 0.6),
)
TARE_PER_100_KG = Decimal("1.2")  # crates and pallets


@dataclass(frozen=True)
class PlannedTrade:
    key: str
    product: str
    seller: str
    buyer: str
    gross_kg: Decimal
    tare_kg: Decimal
    unit_price: Decimal
    at: datetime


# --- The plan: deterministic per day, so a rerun asks for exactly the same trades ---------


def _price(line: DemoLine, day: date, rng: random.Random) -> Decimal:
    """The day's price: a slow swing through the band, dearer at the weekend, and noise."""
    low, high = Decimal(line.low), Decimal(line.high)
    phase = sum(map(ord, line.product)) % 17
    swing = 0.5 + 0.3 * math.sin((day.toordinal() + phase) * 2 * math.pi / 19)
    weekend = 0.06 if day.weekday() >= 5 else 0.0
    share = min(max(swing + weekend + rng.uniform(-0.08, 0.08), 0.0), 1.0)
    return (low + (high - low) * Decimal(str(round(share, 4)))).quantize(CENT)


def day_plan(day: date) -> list[PlannedTrade]:
    """The counter trades of one business day, in the order they happen (03:00–08:30)."""
    rng = random.Random(f"xinfadi-demo:{day.isoformat()}")
    trades = []
    for line in LINES:
        count = int(line.per_day) + (rng.random() < line.per_day % 1)
        for _ in range(count):
            gross = Decimal(rng.randrange(*line.gross_kg)) + Decimal(rng.randrange(10)) / 10
            tare = (gross * TARE_PER_100_KG / 100).quantize(Decimal("0.1"))
            # Each trade a little above or below the day's price.
            price = _price(line, day, rng) * Decimal(str(round(rng.uniform(0.95, 1.05), 3)))
            at = datetime.combine(day, time(3, 0), BUSINESS_TIME_ZONE) + timedelta(
                minutes=rng.randrange(0, 330), seconds=rng.randrange(60)
            )
            trades.append(
                PlannedTrade(
                    key="",
                    product=line.product,
                    seller=line.seller,
                    # The restaurant buys small lots; the canteen, the supermarket and the
                    # distributors take the truckloads.
                    buyer=rng.choice(BUYER_CARDS if gross * price < 1500 else BIG_BUYER_CARDS),
                    gross_kg=gross,
                    tare_kg=tare,
                    unit_price=max(price.quantize(CENT), CENT),
                    at=at,
                )
            )
    trades.sort(key=lambda t: t.at)
    return [replace(t, key=f"demo-{day.isoformat()}-{n:03d}") for n, t in enumerate(trades)]


# --- Seeding -------------------------------------------------------------------------------


@transaction.atomic
def seed(context: dict) -> None:
    """The market, its staff, rules, stalls and traders, a month of closed days and an open
    today; context["market"] holds the market."""
    people = context["people"]
    operator = people["operator"]
    market = Market.objects.filter(code=MARKET_CODE).first() or create_market(
        code=MARKET_CODE, name=MARKET_NAME, city="北京", address=MARKET_ADDRESS
    )
    if market.approval_threshold.amount != APPROVAL_THRESHOLD:
        market.approval_threshold = APPROVAL_THRESHOLD
        market.save(update_fields=["approval_threshold_currency", "approval_threshold"])
    add_staff(market=market, user=operator, is_supervisor=True, **SUPERVISOR_LIMITS)
    add_staff(market=market, user=people["cashier"])
    CommissionRule.objects.get_or_create(
        market=market,
        category="",
        defaults={
            "buyer_pct": Decimal("1.00"),
            "seller_pct": Decimal("1.50"),
            "minimum_fee": Decimal("1.00"),
        },
    )
    # Leafy vegetables ride the "green channel": a lower commission on both sides.
    CommissionRule.objects.get_or_create(
        market=market,
        category="leafy_vegetable",
        defaults={
            "buyer_pct": Decimal("0.50"),
            "seller_pct": Decimal("0.80"),
            "minimum_fee": Decimal("1.00"),
        },
    )
    stalls = {
        code: Stall.objects.get_or_create(market=market, code=code, defaults={"hall": hall})[0]
        for hall, code in STALLS
    }
    cooperatives = context.get("cooperatives", {})
    for spec in TRADERS:
        trader = Trader.objects.filter(card_number=spec.card).first()
        if trader is not None:
            # A card suspended at the counter while playing with the demo is reinstated:
            # the demo's top-ups and trades need every card usable.
            if not trader.is_active:
                set_trader_active(market=market, by=operator, trader_id=trader.pk, is_active=True)
            continue
        register_trader(
            market=market,
            kind=spec.kind,
            name=spec.name,
            card_number=spec.card,
            user=people.get(spec.user),
            cooperative=cooperatives.get(spec.cooperative),
            stall=stalls.get(spec.stall),
            phone=spec.phone,
        )

    today = business_today()
    products = {p.code: p for p in Product.objects.filter(code__in={x.product for x in LINES})}
    lots = context.get("lots", {})
    for days_ago in range(HISTORY_DAYS, 0, -1):
        _play_day(market, operator, today - timedelta(days=days_ago), products, lots, close=True)
    _play_day(market, operator, today, products, lots, close=False)
    _cashier_morning(market, cashier=people["cashier"], supervisor=operator)

    # Placing a marketplace order holds its total in the buyer's platform wallet (no hold,
    # no order); hand-over pays it from the hold.
    for username in ("buyer", "buyer2"):
        top_up(
            account=wallet_of(people[username]),
            amount=Decimal("50000.00"),
            method=FundingMethod.BANK,
            by=people["admin"],
            idempotency_key=f"demo-wallet-{username}",
        )
    _card_application(market, people["buyer3"])
    context["market"] = market


# A restaurant that has asked the market for a buyer's card: the operator's queue shows it.
CARD_APPLICANT = {
    "business_name": "北京市丰台区老街坊饺子馆",
    "licence_number": "92110106MA01K3QB5Q",
    "contact_name": "赵红梅",
    "contact_phone": "13600000003",
}


def _card_application(market: Market, applicant) -> None:
    """Once: after the demo operator issued or declined it, a rerun leaves it decided."""
    if TraderCardApplication.objects.filter(market=market, applicant=applicant).exists():
        return
    apply_for_card(applicant=applicant, market_id=market.pk, **CARD_APPLICANT)


def _play_day(market, operator, day: date, products, lots, *, close: bool) -> None:
    """One business day at the counter: top-ups, trades, now and then a reversal, and (for a
    past day) end of day. Today's trades are never dated after the present moment."""
    status = (
        MarketDay.objects.filter(market=market, business_date=day)
        .values_list("status", flat=True)
        .first()
    )
    if status == DayStatus.CLOSED:
        return
    now = timezone.now()
    plan = day_plan(day) if close else day_plan(day)[:TODAY_TRADES]
    morning = datetime.combine(day, time(2, 30), BUSINESS_TIME_ZONE)
    with time_machine.travel(min(morning, now), tick=False):
        _fund_buyers(market, operator, day)
    for trade in plan:
        with time_machine.travel(min(trade.at, now), tick=False):
            _settle(market, operator, trade, products, lots)
    if close and plan and day.toordinal() % 9 == 0:
        # A trade keyed in against the wrong card, noticed after the morning rush: the
        # supervisor reverses it and the operator records it again for the right buyer.
        mistake = plan[len(plan) // 2]
        trade = Trade.objects.get(entry__idempotency_key=f"trade:{market.pk}:{mistake.key}")
        noticed = plan[-1].at + timedelta(minutes=10)
        with time_machine.travel(noticed, tick=False):
            reverse_trade(
                trade_id=trade.pk,
                by=operator,
                reason="买方卡号录错，撤销后按正确卡号重录",
                idempotency_key=f"demo-reversal-{day.isoformat()}",
            )
        others = [card for card in BIG_BUYER_CARDS if card != mistake.buyer]
        right_buyer = others[day.toordinal() % len(others)]
        redo = replace(mistake, key=f"{mistake.key}-redo", buyer=right_buyer)
        with time_machine.travel(noticed + timedelta(minutes=2), tick=False):
            _settle(market, operator, redo, products, lots)
    if close:
        afternoon = datetime.combine(day, time(14, 0), BUSINESS_TIME_ZONE)
        with time_machine.travel(afternoon, tick=False):
            close_business_day(market=market, business_date=day, by=operator)


def _settle(market, operator, trade: PlannedTrade, products, lots) -> Trade:
    # The farmer's own tomatoes carry her harvest lot once it has been picked.
    lot = lots.get("DEMO-SG-0001")
    if not (
        lot is not None
        and trade.product == lot.product.code
        and trade.seller == FARMER_CARD
        and trade.at.date() >= lot.harvest_date
    ):
        lot = None
    return settle_trade(
        market=market,
        by=operator,
        buyer_card=trade.buyer,
        seller_card=trade.seller,
        product=products[trade.product],
        gross_kg=trade.gross_kg,
        tare_kg=trade.tare_kg,
        unit_price=trade.unit_price,
        idempotency_key=trade.key,
        lot=lot,
    )


def _fund_buyers(market, operator, day: date) -> None:
    """Top a buyer's card up by bank transfer when it runs low: the demo restaurant by
    ¥20,000 below ¥15,000, the bulk buyers by ¥150,000 below ¥60,000."""
    for card in BUYER_CARDS:
        floor, amount = (
            (Decimal("15000"), Decimal("20000.00"))
            if card == DEMO_BUYER_CARD
            else (Decimal("60000"), Decimal("150000.00"))
        )
        trader = Trader.objects.get(card_number=card)
        if balance_of(settlement_account(trader)).amount >= floor:
            continue
        top_up_card(
            market=market,
            by=operator,
            card_number=card,
            amount=amount,
            method=FundingMethod.BANK,
            idempotency_key=f"demo-{day.isoformat()}-{card}",
        )


def _cashier_morning(market, *, cashier, supervisor) -> None:
    """Today at the cashier's counter: a small cash top-up booked at once, a large one the
    supervisor approved, and one large top-up and a withdrawal left waiting in her queue."""
    today = business_today().isoformat()
    small = ("6220000000000001", "800.00", "cash", f"demo-{today}-cash-small")
    top_up_card(market=market, by=cashier, card_number=small[0], amount=small[1],
                method=small[2], idempotency_key=small[3])  # fmt: skip
    approved = top_up_card(market=market, by=cashier, card_number="6220000000000003",
                           amount="12000.00", method="cash",
                           idempotency_key=f"demo-{today}-cash-large")  # fmt: skip
    if isinstance(approved, FundingRequest):
        approve_funding_request(market=market, by=supervisor, request_id=approved.pk)
    top_up_card(market=market, by=cashier, card_number="6220000000000002", amount="8000.00",
                method="cash", idempotency_key=f"demo-{today}-cash-waiting")  # fmt: skip
    withdraw_from_card(market=market, by=cashier, card_number="6220000000000001",
                       amount="3000.00", method="bank",
                       idempotency_key=f"demo-{today}-withdrawal")  # fmt: skip
