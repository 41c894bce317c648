"""Run by `manage.py shell` (tests/cluster/test_workers_killed.py), never imported: a consumer's
order packed at the demo warehouse of the latest demo order and not yet dispatched, written
straight to its table (the demo's orders are all delivered, and the warehouse may be closed at
this hour). Prints one JSON line: the order and its warehouse."""

import json
import sys
from datetime import timedelta

from django.utils import timezone

from delivery.models import DeliveryOrder

template = DeliveryOrder.objects.order_by("-id").first()
now = timezone.now()
order = DeliveryOrder.objects.create(
    number=f"CL{now:%y%m%d%H%M%S%f}"[:24],
    consumer=template.consumer,
    warehouse=template.warehouse,
    address=template.address,
    location=template.location,
    status="packed",
    total=template.total,
    placed_at=now,
    promised_by=now + timedelta(minutes=30),
    packed_at=now,
    delivery_code="2468",
)
sys.stdout.write(json.dumps({"order": order.pk, "warehouse": order.warehouse_id}) + "\n")
