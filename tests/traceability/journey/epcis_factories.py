"""Partners' captured events in bulk, for the EPCIS query tests (cheap: no capture run)."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from delivery.models import DeliveryOrder, DeliveryOrderStatus
from delivery.services.orders import pack_order
from traceability.epcis.partners import issue_partner_key
from traceability.models import CapturedEvent, CaptureJob

START = datetime(2026, 3, 1, tzinfo=UTC)


def captured_events(lot, *, count: int, created_by, same_time_every: int = 3) -> list[str]:
    """`count` ObjectEvents a partner reported about the lot, several at each moment (so
    (eventTime, eventID) is what orders them); their eventIDs."""
    partner, _key = issue_partner_key(name="包装线", created_by=created_by)
    job = CaptureJob.objects.create(partner=partner, received_at=START, success=True)
    lot_class = f"urn:example:lot:{lot.lot_code}"
    rows = []
    for n in range(count):
        moment = START + timedelta(minutes=n // same_time_every)
        event_id = f"urn:uuid:00000000-0000-4000-8000-{(count - n):012d}"  # IDs against time
        rows.append(
            CapturedEvent(
                event_id=event_id,
                partner=partner,
                job=job,
                lot=lot,
                event_type="ObjectEvent",
                event_time=moment,
                record_time=moment,
                biz_step="packing",
                epcs=[lot_class],
                event={
                    "type": "ObjectEvent",
                    "eventID": event_id,
                    "eventTime": moment.isoformat().replace("+00:00", "Z"),
                    "eventTimeZoneOffset": "+08:00",
                    "action": "OBSERVE",
                    "bizStep": "packing",
                    "epcList": [],
                    "quantityList": [{"epcClass": lot_class, "quantity": 1.0, "uom": "KGM"}],
                },
            )
        )
    CapturedEvent.objects.bulk_create(rows, batch_size=2000)
    return [row.event_id for row in rows]


def packed_and_delivered(world) -> None:
    """The warehouse packs the journey's consumer order; the courier's delivery is recorded."""
    pack_order(by=world.warehouse_manager, order_id=world.order.pk)
    DeliveryOrder.objects.filter(pk=world.order.pk).update(
        status=DeliveryOrderStatus.DELIVERED, delivered_at=timezone.now()
    )
