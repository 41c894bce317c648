"""Demo: this morning at Xinfadi's gate, recorded through the gate's services by the market's
counter clerk (刘芳).

The demo farmer's tomatoes and cucumbers came with their certificates (traceability/demo/
certificates.py) and were admitted on them; a lot that has no valid certificate is
rapid-tested instead, negative, and admitted. Her neighbour's eggplants came without one and
tested positive (62.5 % inhibition): they are held at Xinfadi's counter, the supervisor (陈静)
has the alert, and they wait for the laboratory.

Only lots the demo's counter never names are held, and the market keeps
entry_check_required off (a month of demo trades name no lot), so the market's demo plays
back as before. A lot already checked in at Xinfadi is left alone: running seed_demo again
creates nothing.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from common.dates import BUSINESS_TIME_ZONE, business_today
from farms.models import HarvestLot

from ..models import Certificate, MarketEntry
from ..models.gate import RapidTestMethod
from ..services.gate import (
    check_in_with_certificate,
    check_in_without_certificate,
    record_rapid_test,
)

TEST_AFTER = timedelta(minutes=12)  # a sample's rapid test takes about ten minutes


@dataclass(frozen=True)
class DemoArrival:
    lot_code: str
    at: time  # Beijing time, this morning
    plate: str
    gross_weight_kg: str
    # For a batch without a valid certificate: the rapid test's reading.
    sample: str = ""
    inhibition_pct: str = ""


ARRIVALS = (
    DemoArrival("DEMO-SG-0001", time(4, 10), "鲁G·D52810", "640", "番茄 1 kg，取自 3 筐", "8.4"),
    DemoArrival("DEMO-SG-0002", time(4, 35), "鲁G·3K751", "905", "黄瓜 1 kg，取自 4 筐", "11.2"),
    DemoArrival("DEMO-SG-0004", time(5, 20), "鲁G12345F", "1020", "彩椒 1 kg，取自 3 箱", "6.9"),
    DemoArrival("DEMO-SG-0003", time(5, 50), "鲁G·8N266", "675", "茄子 1 kg，取自 4 筐", "62.5"),
)


def _this_morning(at: time) -> datetime:
    return min(datetime.combine(business_today(), at, BUSINESS_TIME_ZONE), timezone.now())


@transaction.atomic
def seed(context: dict) -> None:
    market = context["market"]
    clerk = context["people"]["cashier"]
    lots: dict[str, HarvestLot] = context["lots"]
    for arrival in ARRIVALS:
        lot = lots.get(arrival.lot_code)
        if lot is None or MarketEntry.objects.filter(market=market, lot=lot).exists():
            continue
        arrived_at = _this_morning(arrival.at)
        certificate = (
            Certificate.objects.filter(lot=lot, revoked_at__isnull=True).order_by("id").first()
        )
        if certificate is not None:
            check_in_with_certificate(
                market=market,
                by=clerk,
                code=certificate.trace_code.code,
                vehicle_plate=arrival.plate,
                gross_weight_kg=arrival.gross_weight_kg,
                arrived_at=arrived_at,
            )
            continue
        entry = check_in_without_certificate(
            market=market,
            by=clerk,
            lot_code=lot.lot_code,
            vehicle_plate=arrival.plate,
            gross_weight_kg=arrival.gross_weight_kg,
            arrived_at=arrived_at,
        )
        record_rapid_test(
            entry_id=entry.pk,
            by=clerk,
            method=RapidTestMethod.ENZYME_INHIBITION,
            sample=arrival.sample,
            inhibition_pct=arrival.inhibition_pct,
            tested_at=min(arrived_at + TEST_AFTER, timezone.now()),
        )
