"""The daily digest's figures: one business day's counters, the trends' values on that day,
and the recalls and excursions open when it is compiled, as JSON (decimals as strings) so
that a DailyDigest keeps them as they were."""

from datetime import date, datetime

from django.utils import timezone

from common.dates import BUSINESS_TIME_ZONE

from ..models import DailyDigest
from .scope import TowerScope, excursions_in, recalls_in
from .screen import counters_on, markets_on, warehouses_on
from .trends import trends_of

# The digest lists at most this many open recalls and excursions (the screen has the rest).
DIGEST_MAX_ROWS = 50


def _text(value) -> str | None:
    return None if value is None else str(value)


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment, BUSINESS_TIME_ZONE).strftime("%Y-%m-%d %H:%M")


def digest_figures(scope: TowerScope, *, day: date, now: datetime) -> dict:
    counters = counters_on(scope, day)
    trends = trends_of(scope, now=now, last_day=day)
    recalls = recalls_in(scope).filter(closed_at__isnull=True).order_by("opened_at", "id")
    excursions = (
        excursions_in(scope)
        .filter(ended_at__isnull=True, refuted_at__isnull=True)
        .order_by("started_at", "id")
    )
    return {
        "day": day.isoformat(),
        "area": scope.area_name,
        "compiled_at": _when(now),
        "counters": {
            "trades": counters.trades,
            "tonnes": str(counters.tonnes),
            "orders": counters.orders,
            "delivered": counters.delivered,
            "on_time_percent": _text(counters.on_time_percent),
            "open_excursions": counters.open_excursions,
            "open_recalls": counters.open_recalls,
            "lots_held_at_gates": counters.lots_held_at_gates,
        },
        "markets": [
            {"name": m.name, "trades": m.trades, "tonnes": str(m.tonnes)}
            for m in markets_on(scope, day)
        ],
        "warehouses": [
            {
                "name": w.name,
                "orders": w.orders,
                "delivered": w.delivered,
                "on_time_percent": _text(w.on_time_percent),
            }
            for w in warehouses_on(scope, day)
        ],
        "trends": {name: _text(value) for name, value in trends.last().items()},
        "open_recalls": [
            {
                "lot": recall.lot.lot_code,
                "product": str(recall.lot.product),
                "severity": str(recall.get_severity_display()),
                "opened_at": _when(recall.opened_at),
                "reason": recall.reason,
            }
            for recall in recalls[:DIGEST_MAX_ROWS]
        ],
        "open_excursions": [
            {
                "subject": str(excursion.subject),
                "kind": str(excursion.get_kind_display()),
                "started_at": _when(excursion.started_at),
                "peak_c": round(excursion.peak_c, 1),
            }
            for excursion in excursions[:DIGEST_MAX_ROWS]
        ],
    }


def kept_digest(scope: TowerScope, day: date) -> DailyDigest | None:
    return DailyDigest.objects.filter(business_date=day, area_id=scope.area_id).first()
