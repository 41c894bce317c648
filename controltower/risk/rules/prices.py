"""A product's price today at a market outside its 30-day band: a spike or a crash.

Today's price is the volume-weighted average of today's settled counter trades of the product
at the market (the price board's figure, from marketplace.markets.selectors.prices); the band
is the mean of the earlier days' averages (up to 30 days back) ± the wider of `band_factor`
standard deviations and `min_band_pct` % of the mean. The floor keeps a product whose price
never moved from warning of every cent. Fewer than `min_history_days` earlier trading days:
no band yet, no warning.
"""

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils.translation import gettext as _

from common.dates import business_date_of
from farms.models import Product
from marketplace.markets.models import Market
from marketplace.markets.selectors.prices import HISTORY_DAYS, settled_trades

from . import Finding

CENT = Decimal("0.01")
SPIKE = "spike"
CRASH = "crash"


def _daily_averages(
    *, today: date, market_id: int | None, product_id: int | None
) -> dict[tuple[int, int], dict[date, Decimal]]:
    value = ExpressionWrapper(
        F("unit_price") * F("net_kg"), output_field=DecimalField(max_digits=28, decimal_places=5)
    )
    trades = settled_trades().filter(
        business_date__gte=today - timedelta(days=HISTORY_DAYS), business_date__lte=today
    )
    if market_id is not None:
        trades = trades.filter(market_id=market_id)
    if product_id is not None:
        trades = trades.filter(product_id=product_id)
    rows = (
        trades.values("market_id", "product_id", "business_date")
        .annotate(value=Sum(value), kg=Sum("net_kg"))
        .order_by()
    )
    days: dict[tuple[int, int], dict[date, Decimal]] = defaultdict(dict)
    for row in rows:
        amount = getattr(row["value"], "amount", row["value"])
        days[(row["market_id"], row["product_id"])][row["business_date"]] = amount / row["kg"]
    return days


def evaluate(
    rule, *, now: datetime, market_id: int | None = None, product_id: int | None = None
) -> list[Finding]:
    """Spikes and crashes today; `market_id`/`product_id` narrow it to one pair (a trade)."""
    today = business_date_of(now)
    if rule.market_id is not None:
        if market_id is not None and market_id != rule.market_id:
            return []
        market_id = rule.market_id
    found = []
    for (market, product), by_day in _daily_averages(
        today=today, market_id=market_id, product_id=product_id
    ).items():
        price = by_day.get(today)
        history = [float(average) for day, average in by_day.items() if day < today]
        if price is None or len(history) < rule.threshold("min_history_days"):
            continue
        mean = statistics.fmean(history)
        half_width = max(
            rule.threshold("band_factor") * statistics.stdev(history),
            rule.threshold("min_band_pct") / 100 * mean,
        )
        low, high = mean - half_width, mean + half_width
        if low <= float(price) <= high:
            continue
        found.append(
            Finding(
                subject=Market(pk=market),
                key=price_key(market_id=market, product_id=product),
                figures={
                    "direction": SPIKE if float(price) > high else CRASH,
                    "market_id": market,
                    "product_id": product,
                    "business_date": today.isoformat(),
                    "price": str(price.quantize(CENT)),
                    "mean": str(Decimal(mean).quantize(CENT)),
                    "low": str(Decimal(max(low, 0)).quantize(CENT)),
                    "high": str(Decimal(high).quantize(CENT)),
                    "history_days": len(history),
                },
            )
        )
    _name_them(found)
    return found


def price_key(*, market_id: int, product_id: int) -> str:
    return f"price:{market_id}:{product_id}"


def _name_them(found: list[Finding]) -> None:
    """Market and product names for the message (one query each)."""
    markets = dict(
        Market.objects.filter(pk__in={f.figures["market_id"] for f in found}).values_list(
            "pk", "name"
        )
    )
    products = {
        product.pk: product
        for product in Product.objects.filter(pk__in={f.figures["product_id"] for f in found})
    }
    for finding in found:
        product = products[finding.figures["product_id"]]
        finding.figures["market"] = markets[finding.figures["market_id"]]
        finding.figures["product"] = product.name_zh
        finding.figures["product_code"] = product.code


def describe(figures: dict) -> str:
    words = {
        "product": figures["product"],
        "market": figures["market"],
        "price": figures["price"],
        "low": figures["low"],
        "high": figures["high"],
        "days": figures["history_days"],
    }
    if figures["direction"] == SPIKE:
        return (
            _(
                "Price spike: %(product)s at %(market)s averages ¥%(price)s/kg today, above its "
                "band of ¥%(low)s–%(high)s over %(days)s earlier trading days."
            )
            % words
        )
    return (
        _(
            "Price crash: %(product)s at %(market)s averages ¥%(price)s/kg today, below its "
            "band of ¥%(low)s–%(high)s over %(days)s earlier trading days."
        )
        % words
    )
