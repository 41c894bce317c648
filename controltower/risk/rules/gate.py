"""Repeated positive rapid tests (traceability's market gate) of one co-operative's lots:
`positives` or more within the last `window_days` days, at any market or the rule's one."""

from datetime import datetime, timedelta

from django.db.models import Count
from django.utils.translation import gettext as _

from farms.models import Cooperative
from traceability.models import RapidTest

from . import Finding


def evaluate(rule, *, now: datetime) -> list[Finding]:
    least = int(rule.threshold("positives"))
    days = int(rule.threshold("window_days"))
    positives = RapidTest.objects.filter(
        is_positive=True, tested_at__gt=now - timedelta(days=days), tested_at__lte=now
    )
    if rule.market_id is not None:
        positives = positives.filter(entry__market_id=rule.market_id)
    counts = (
        positives.values("entry__lot__farm__cooperative_id")
        .annotate(count=Count("id"))
        .filter(count__gte=least)
        .order_by("entry__lot__farm__cooperative_id")
    )
    found = []
    cooperatives = Cooperative.objects.in_bulk(
        [row["entry__lot__farm__cooperative_id"] for row in counts]
    )
    for row in counts:
        cooperative = cooperatives[row["entry__lot__farm__cooperative_id"]]
        lots = sorted(
            set(
                positives.filter(entry__lot__farm__cooperative=cooperative).values_list(
                    "entry__lot__lot_code", flat=True
                )
            )
        )
        found.append(
            Finding(
                subject=cooperative,
                key=f"positive_tests:{cooperative.pk}",
                figures={
                    "cooperative_id": cooperative.pk,
                    "cooperative": cooperative.name,
                    "positives": row["count"],
                    "window_days": days,
                    "lots": lots,
                },
            )
        )
    return found


def describe(figures: dict) -> str:
    return _(
        "%(cooperative)s: %(count)s positive rapid tests in the last %(days)s days (lots %(lots)s)."
    ) % {
        "cooperative": figures["cooperative"],
        "count": figures["positives"],
        "days": figures["window_days"],
        "lots": ", ".join(figures["lots"]),
    }
