"""Demo: a past recall, closed, with its report. A lot of eggplant from 北洼茄子地 (李建国, of
the Shouguang Xianfeng co-operative) was listed, ordered by 鲜味餐厅 and stocked at the
Zhongguancun warehouse when a provincial spot check found chlorpyrifos above the national
limit; the co-op's manager recalled it, every party acknowledged, the goods were returned or
destroyed, and the recall was closed ten days ago. (No counter trade: the market's demo counts
today's trades.) Seeding again changes nothing."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from common.dates import business_today
from delivery.services.stock import receive_stock
from farms.choices import Grade
from farms.models import HarvestLot, Product
from farms.services.lots import record_harvest_lot
from marketplace.services.listings import create_listing
from marketplace.services.orders import accept_order, hand_over, mark_ready, place_order

from ..choices import DownstreamKind
from ..models import Recall, RecallSeverity
from ..services.recalls import (
    acknowledge_recall,
    close_recall,
    list_recall_scope,
    open_recall,
    record_disposition,
)

LOT_CODE = "DEMO-RC-0001"
REASON = (
    "山东省市场监管局抽检：该批茄子毒死蜱残留 0.12 mg/kg，超过 GB 2763-2021 限量 0.02 mg/kg。"
    "请立即停止销售，退回或销毁。"
)
CLOSING_NOTE = "全部追回：餐厅退回 30 kg，前置仓的货物经市场监管部门监督销毁。"
HARVESTED_DAYS_AGO = 16
CLOSED_DAYS_AGO = 10


def seed(context: dict) -> None:
    if Recall.objects.filter(lot__lot_code=LOT_CODE).exists():
        return
    people = context["people"]
    farmer, manager = people["farmer2"], people["coop"]
    lot = _lot(context, farmer)
    now = timezone.now()
    listing = create_listing(
        listed_by=farmer,
        lot=lot,
        price_per_kg=Decimal("3.80"),
        available_kg=Decimal("200"),
        minimum_order_kg=Decimal("5"),
        available_until=now + timedelta(days=2),
    )
    order = place_order(
        buyer=people["buyer"],
        lines=[(listing.pk, Decimal("30"))],
        idempotency_key=f"demo-recall-{LOT_CODE}",
    )
    # The restaurant had its 30 kg (paid) before the test came back: it returns them below.
    accept_order(by=farmer, order_id=order.pk)
    mark_ready(by=farmer, order_id=order.pk)
    hand_over(
        by=farmer,
        order_id=order.pk,
        packed_kg={line.pk: line.quantity_kg for line in order.lines.all()},
    )
    receive_stock(
        warehouse=context["front_warehouses"]["zhongguancun"],
        lot=lot,
        quantity_kg="40",
        received_at=now - timedelta(hours=6),
    )

    recall = open_recall(
        lot_id=lot.pk, reason=REASON, severity=RecallSeverity.CLASS_II, opened_by=manager
    )
    list_recall_scope(recall_id=recall.pk)  # the worker's part, done here at once
    for notice in recall.notices.select_related("user"):
        acknowledge_recall(recall_id=recall.pk, by=notice.user, note="已收到，已停售")
    for row in recall.scope.exclude(kind=DownstreamKind.LISTING).exclude(
        kind=DownstreamKind.SHIPMENT
    ):
        returned = row.quantity_kg if row.kind == DownstreamKind.MARKETPLACE_ORDER_LINE else 0
        record_disposition(
            recall_id=recall.pk,
            scope_row_id=row.pk,
            returned_kg=returned,
            destroyed_kg=row.quantity_kg - returned,
            by=manager,
        )
    close_recall(recall_id=recall.pk, by=manager, note=CLOSING_NOTE)
    _move_into_the_past(recall)


def _lot(context: dict, farmer) -> HarvestLot:
    existing = HarvestLot.objects.filter(lot_code=LOT_CODE).first()
    if existing is not None:
        return existing
    return record_harvest_lot(
        recorded_by=farmer,
        farm=context["farms"][("farmer2", "北洼茄子地")],
        product=Product.objects.get(code="VEG-EGGPLANT"),
        harvest_date=business_today() - timedelta(days=HARVESTED_DAYS_AGO),
        quantity_kg=Decimal("400"),
        grade=Grade.FIRST,
        lot_code=LOT_CODE,
    )


def _move_into_the_past(recall: Recall) -> None:
    """The recall ran two days, ending ten days ago (its records keep their own times)."""
    closed = timezone.now() - timedelta(days=CLOSED_DAYS_AGO)
    opened = closed - timedelta(days=2)
    Recall.objects.filter(pk=recall.pk).update(opened_at=opened, closed_at=closed)
    recall.notices.update(notified_at=opened)
    recall.notices.update(acknowledged_at=opened + timedelta(hours=3))
    recall.dispositions.update(recorded_at=opened + timedelta(days=1))
