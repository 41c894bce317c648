"""The daily price board (价格行情): what produce fetched at the markets, per product and day.

Figures come from settled trades only; a reversed trade never happened as far as prices go.
Prices are CNY per kg: the minimum and maximum unit price of the day, and the average
weighted by volume (Σ price × net kg ÷ Σ net kg, so a 1,000 kg lot counts more than a crate).
The board is public: no names, cards or amounts of single traders leave here, and a
product's figures for a day stay hidden (`published` false) until each market that traded
it that day has PRICE_BOARD_MIN_TRADES trades of it or has closed the day: one or two
trades would give away a trader's own price and weight.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Max, Min, Q, QuerySet, Sum
from moneyed import Money

from common.money import price_per_unit
from farms.choices import ProductCategory
from farms.models import Product

from ..choices import DayStatus
from ..models import Market, MarketDay, Trade

HISTORY_DAYS = 30
PRICE_PLACES = 2
CATEGORY_ORDER = {code: index for index, code in enumerate(ProductCategory.values)}


@dataclass(frozen=True)
class DailyPrice:
    """One product's prices on one business day. Prices are CNY per kg, not rounded: round
    once, where shown (common.money.round_money). Unpublished, every figure is None."""

    business_date: date
    product_code: str
    product_name_zh: str
    product_name_en: str
    category: str
    published: bool
    min_price: Decimal | None
    avg_price: Decimal | None
    max_price: Decimal | None
    volume_kg: Decimal | None
    trade_count: int | None

    @property
    def category_label(self) -> str:
        return str(ProductCategory(self.category).label)


def settled_trades(*, market: Market | None = None) -> QuerySet[Trade]:
    """Trades that count for prices: settled and not reversed, at one market or all."""
    trades = Trade.objects.filter(reversal__isnull=True)
    return trades.filter(market=market) if market is not None else trades


def _daily_rows(trades: QuerySet[Trade]) -> list[DailyPrice]:
    value = ExpressionWrapper(
        F("unit_price") * F("net_kg"), output_field=DecimalField(max_digits=28, decimal_places=5)
    )
    grouped = (
        trades.values(
            "business_date",
            "product__code",
            "product__name_zh",
            "product__name_en",
            "product__category",
        )
        .annotate(
            min_price=Min("unit_price"),
            max_price=Max("unit_price"),
            value=Sum(value),
            volume_kg=Sum("net_kg"),
            trade_count=Count("id"),
        )
        .order_by()
    )
    rows = list(grouped)
    dates = {row["business_date"] for row in rows}
    closed = set(
        MarketDay.objects.filter(status=DayStatus.CLOSED, business_date__in=dates).values_list(
            "market_id", "business_date"
        )
    )
    # Each market's share must pass on its own: otherwise the all-markets row minus a
    # published market's row would give away the other market's single trade.
    hidden_shares = {
        (share["business_date"], share["product__code"])
        for share in trades.values("business_date", "product__code", "market_id")
        .annotate(count=Count("id"))
        .order_by()
        if share["count"] < settings.PRICE_BOARD_MIN_TRADES
        and (share["market_id"], share["business_date"]) not in closed
    }
    return [
        _daily_price(
            row, published=(row["business_date"], row["product__code"]) not in hidden_shares
        )
        for row in rows
    ]


def _daily_price(row: dict, *, published: bool) -> DailyPrice:
    names = {
        "business_date": row["business_date"],
        "product_code": row["product__code"],
        "product_name_zh": row["product__name_zh"],
        "product_name_en": row["product__name_en"],
        "category": row["product__category"],
        "published": published,
    }
    if not published:
        return DailyPrice(
            **names,
            min_price=None,
            avg_price=None,
            max_price=None,
            volume_kg=None,
            trade_count=None,
        )
    return DailyPrice(
        **names,
        min_price=_decimal(row["min_price"]),
        avg_price=_decimal(row["value"]) / _decimal(row["volume_kg"]),
        max_price=_decimal(row["max_price"]),
        volume_kg=_decimal(row["volume_kg"]),
        trade_count=row["trade_count"],
    )


def _decimal(value) -> Decimal:
    """An aggregate's value as a Decimal (django-money may hand back a Money)."""
    return getattr(value, "amount", value)


def daily_prices(
    *,
    business_date: date,
    market: Market | None = None,
    product_code: str = "",
    search: str = "",
) -> list[DailyPrice]:
    """The board of one business day: a row per product traded, by category then code.

    `search` finds products by Chinese or English name or code; `product_code` picks one.
    """
    trades = settled_trades(market=market).filter(business_date=business_date)
    if product_code:
        trades = trades.filter(product__code=product_code)
    if search := search.strip():
        trades = trades.filter(
            Q(product__name_zh__icontains=search)
            | Q(product__name_en__icontains=search)
            | Q(product__code__icontains=search)
        )
    rows = _daily_rows(trades)
    return sorted(rows, key=lambda row: (CATEGORY_ORDER.get(row.category, 99), row.product_code))


def price_history(
    *,
    product: Product,
    until: date,
    days: int = HISTORY_DAYS,
    market: Market | None = None,
) -> list[DailyPrice]:
    """The product's daily prices over the `days` business days ending with `until`, oldest
    first. A day without a trade has no row."""
    since = history_start(until=until, days=days)
    trades = settled_trades(market=market).filter(
        product=product, business_date__gte=since, business_date__lte=until
    )
    return sorted(_daily_rows(trades), key=lambda row: row.business_date)


def history_start(*, until: date, days: int = HISTORY_DAYS) -> date:
    return until - timedelta(days=days - 1)


def latest_trading_day(*, before: date, market: Market | None = None) -> date | None:
    """The last day before `before` with a settled trade, for a board that is still empty."""
    trades = settled_trades(market=market).filter(business_date__lt=before)
    return trades.aggregate(latest=Max("business_date"))["latest"]


def price_for_unit(price_per_kg: Decimal | None, unit: str) -> Decimal | None:
    """A price per kg as the reader's unit shows it (per 斤 is half), rounded once to the cent."""
    if price_per_kg is None:
        return None
    return price_per_unit(Money(price_per_kg, "CNY"), unit).amount
