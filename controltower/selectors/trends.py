"""The tower's 30-day trends, one value per Asia/Shanghai day, in a scope.

- volume: kilograms traded at the markets (trades not reversed, by business date);
- price index: a fixed basket's price against the window's start, 100 = the start. The
  basket is every product traded in the window, each weighted by its share of the window's
  kilograms; a product's price on a day is its volume-weighted mean (amount ÷ kilograms). On
  day d, over the products traded that day, index = 100 × Σ w·price(d) ÷ Σ w·price(first
  day the product traded in the window). None on a day without trades;
- loss rate: kilograms written off at the front warehouses over kilograms received there
  (stock receipts), over the seven days ending that day (delivery's LOSS_RATE_DAYS, the
  warehouse page's period), in percent; None when nothing was received;
- on-time rate: of the consumer orders delivered that day, those delivered by their promise
  (delivery's rule, see .deliveries), in percent; None when none was delivered;
- excursion minutes: minutes of cold-chain excursions (not disputed) within that day, the
  open ones counted up to now.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate

from common.dates import BUSINESS_TIME_ZONE, business_date_of
from delivery.models import StockReceipt, StockWriteOff
from delivery.selectors.warehouse import LOSS_RATE_DAYS, business_day_bounds
from marketplace.models import Trade

from .deliveries import delivered_between, with_on_time_counts
from .scope import TowerScope, excursions_in, markets_in, warehouses_in

TREND_DAYS = 30
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Trends:
    days: list[date]
    volume_kg: list[Decimal]
    price_index: list[Decimal | None]
    loss_rate_percent: list[Decimal | None]
    on_time_percent: list[Decimal | None]
    excursion_minutes: list[int]

    def last(self) -> dict[str, Decimal | int | None]:
        """Each series' value on the last day (today, or the digest's day)."""
        return {
            "volume_kg": self.volume_kg[-1],
            "price_index": self.price_index[-1],
            "loss_rate_percent": self.loss_rate_percent[-1],
            "on_time_percent": self.on_time_percent[-1],
            "excursion_minutes": self.excursion_minutes[-1],
        }


def window(last_day: date, days: int = TREND_DAYS) -> list[date]:
    return [last_day - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(Decimal("0.1"))


def _trades(scope: TowerScope, days: list[date]):
    return Trade.objects.filter(
        market__in=markets_in(scope),
        business_date__gte=days[0],
        business_date__lte=days[-1],
        reversal__isnull=True,
    )


def volume_series(scope: TowerScope, days: list[date]) -> list[Decimal]:
    per_day = dict(
        _trades(scope, days)
        .values("business_date")
        .annotate(kg=Sum("net_kg"))
        .values_list("business_date", "kg")
    )
    return [per_day.get(day) or Decimal("0.000") for day in days]


def price_index_series(scope: TowerScope, days: list[date]) -> list[Decimal | None]:
    rows = (
        _trades(scope, days)
        .values("business_date", "product")
        .annotate(kg=Sum("net_kg"), amount=Sum("amount"))
        .order_by("business_date", "product")
    )
    prices: dict[date, dict[int, Decimal]] = defaultdict(dict)
    kg_of: dict[int, Decimal] = defaultdict(Decimal)
    base: dict[int, Decimal] = {}
    for row in rows:
        amount = getattr(row["amount"], "amount", row["amount"])  # Money or Decimal
        price = Decimal(amount) / row["kg"]
        prices[row["business_date"]][row["product"]] = price
        kg_of[row["product"]] += row["kg"]
        base.setdefault(row["product"], price)  # rows come in date order
    total_kg = sum(kg_of.values(), Decimal(0))
    series: list[Decimal | None] = []
    for day in days:
        traded = prices.get(day)
        if not traded or not total_kg:
            series.append(None)
            continue
        weights = {product: kg_of[product] / total_kg for product in traded}
        now = sum((weights[p] * traded[p] for p in traded), Decimal(0))
        then = sum((weights[p] * base[p] for p in traded), Decimal(0))
        series.append((now * HUNDRED / then).quantize(Decimal("0.1")) if then else None)
    return series


def _kg_per_day(queryset, moment_field: str) -> dict[date, Decimal]:
    return dict(
        queryset.annotate(day=TruncDate(moment_field, tzinfo=BUSINESS_TIME_ZONE))
        .values("day")
        .annotate(kg=Sum("quantity_kg"))
        .values_list("day", "kg")
    )


def loss_rate_series(scope: TowerScope, days: list[date]) -> list[Decimal | None]:
    start, _ = business_day_bounds(days[0] - timedelta(days=LOSS_RATE_DAYS - 1))
    _, end = business_day_bounds(days[-1])
    warehouses = warehouses_in(scope)
    received = _kg_per_day(
        StockReceipt.objects.filter(
            stock_lot__warehouse__in=warehouses, received_at__gte=start, received_at__lt=end
        ),
        "received_at",
    )
    written_off = _kg_per_day(
        StockWriteOff.objects.filter(
            stock_lot__warehouse__in=warehouses, recorded_at__gte=start, recorded_at__lt=end
        ),
        "recorded_at",
    )
    series: list[Decimal | None] = []
    for day in days:
        period = window(day, LOSS_RATE_DAYS)
        series.append(
            _percent(
                sum((written_off.get(d, Decimal(0)) for d in period), Decimal(0)),
                sum((received.get(d, Decimal(0)) for d in period), Decimal(0)),
            )
        )
    return series


def on_time_series(scope: TowerScope, days: list[date]) -> list[Decimal | None]:
    start, _ = business_day_bounds(days[0])
    _, end = business_day_bounds(days[-1])
    delivered = delivered_between(warehouses_in(scope), start, end).annotate(
        day=TruncDate("delivered_at", tzinfo=BUSINESS_TIME_ZONE)
    )
    per_day = {row["day"]: row for row in with_on_time_counts(delivered.values("day"))}
    return [
        _percent(Decimal(per_day[day]["on_time"]), Decimal(per_day[day]["delivered"]))
        if day in per_day
        else None
        for day in days
    ]


def excursion_minutes_series(scope: TowerScope, days: list[date], *, now: datetime) -> list[int]:
    start, _ = business_day_bounds(days[0])
    _, end = business_day_bounds(days[-1])
    excursions = (
        excursions_in(scope)
        .filter(refuted_at__isnull=True, started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
        .values_list("started_at", "ended_at")
    )
    seconds: dict[date, float] = defaultdict(float)
    for started_at, ended_at in excursions:
        finish = min(ended_at or now, now)
        for day in days:
            day_start, day_end = business_day_bounds(day)
            overlap = (min(finish, day_end) - max(started_at, day_start)).total_seconds()
            if overlap > 0:
                seconds[day] += overlap
    return [round(seconds[day] / 60) for day in days]


def trends_of(scope: TowerScope, *, now: datetime, last_day: date | None = None) -> Trends:
    """The 30 days ending `last_day` (today by default)."""
    days = window(last_day or business_date_of(now))
    return Trends(
        days=days,
        volume_kg=volume_series(scope, days),
        price_index=price_index_series(scope, days),
        loss_rate_percent=loss_rate_series(scope, days),
        on_time_percent=on_time_series(scope, days),
        excursion_minutes=excursion_minutes_series(scope, days, now=now),
    )
