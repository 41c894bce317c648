"""What is upstream of a consumer order: its lines, the stock lots each was picked from (with
kilograms), the harvest lots behind them, and each lot's path to that warehouse: harvest,
certificates, gate checks, the marketplace order or counter trade that brought it, the cold
legs that carried it there.

A lot's path is followed through the records that name each other: a warehouse's receipt
names the marketplace order line or the counter trade it came from, a shipment's lot names
its order or trade. Legs before any sale (farm to market) belong to every path of the lot.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from coldchain.selectors.lots import legs_of_lot
from delivery.models import DeliveryOrder
from delivery.selectors.lots import picks_of_order
from delivery.selectors.shop import orders_visible_to, product_name
from farms.models import HarvestLot

from ..trail import JourneyStep
from . import journey_steps as steps
from .journey import gate_steps_of, in_order
from .journey_steps import Scope


@dataclass(frozen=True)
class UpstreamLot:
    """One harvest lot some of an order line was picked from."""

    lot_id: int
    lot_code: str
    product: str
    cooperative: str
    county: str
    stock_lot_id: int
    warehouse: str
    quantity_kg: Decimal  # picked for this order
    steps: tuple[JourneyStep, ...]  # the lot's path to this warehouse, in time order


@dataclass(frozen=True)
class UpstreamLine:
    line_id: int
    product: str
    quantity_kg: Decimal
    lots: tuple[UpstreamLot, ...]


@dataclass
class OrderUpstream:
    order_id: int
    number: str
    warehouse: str
    lines: list[UpstreamLine] = field(default_factory=list)

    def lot_ids(self) -> set[int]:
        return {lot.lot_id for line in self.lines for lot in line.lots}


def orders_with_upstream_visible_to(user):
    """The consumer her own orders, a warehouse's staff its orders, the admin all (delivery's
    rule for who sees an order)."""
    return orders_visible_to(user)


def path_scope(lot: HarvestLot, stock_lot) -> Scope:
    """The records that brought the lot into this stock lot."""
    receipts = list(stock_lot.receipts.all())
    order_line_ids = {r.order_line_id for r in receipts if r.order_line_id}
    trade_ids = {r.trade_id for r in receipts if r.trade_id}
    shipment_ids = set()
    for leg in legs_of_lot(lot.pk):
        before_any_sale = leg.trade_id is None and leg.order_id is None
        if (
            before_any_sale
            or leg.trade_id in trade_ids
            or (
                leg.order_id is not None
                and leg.shipment.destination_id == stock_lot.warehouse.site_id
            )
        ):
            shipment_ids.add(leg.shipment_id)
    return Scope(
        order_line_ids=order_line_ids,
        trade_ids=trade_ids,
        shipment_ids=shipment_ids,
        stock_lot_ids={stock_lot.pk},
        pick_ids=(),
    )


def path_to(lot: HarvestLot, stock_lot) -> list[JourneyStep]:
    scope = path_scope(lot, stock_lot)
    backward = [steps.harvest_step(lot), *steps.certificate_steps(lot), *gate_steps_of(lot)]
    forward = [
        *steps.marketplace_order_steps(lot, scope),
        *steps.trade_steps(lot, scope),
        *steps.shipment_steps(lot, scope),
        *steps.stock_steps(lot, scope),
    ]
    return in_order(backward + forward)


def upstream_of_order(order: DeliveryOrder) -> OrderUpstream:
    """The order's lines → picks → stock lots → harvest lots, with the kilograms at each
    step and each lot's path to the warehouse. The caller checks who may see the order."""
    upstream = OrderUpstream(order_id=order.pk, number=order.number, warehouse=str(order.warehouse))
    paths: dict[int, tuple[JourneyStep, ...]] = {}
    by_line: dict[int, list] = {}
    lines = {}
    for pick in picks_of_order(order.pk):
        by_line.setdefault(pick.line_id, []).append(pick)
        lines[pick.line_id] = pick.line
    for line_id, picks in by_line.items():
        line = lines[line_id]
        lots = []
        for pick in picks:
            stock = pick.stock_lot
            lot = stock.lot
            if stock.pk not in paths:
                paths[stock.pk] = tuple(path_to(lot, stock))
            lots.append(
                UpstreamLot(
                    lot_id=lot.pk,
                    lot_code=lot.lot_code,
                    product=product_name(lot.product),
                    cooperative=lot.farm.cooperative.name,
                    county=steps.county_of(lot),
                    stock_lot_id=stock.pk,
                    warehouse=stock.warehouse.name,
                    quantity_kg=pick.quantity_kg,
                    steps=paths[stock.pk],
                )
            )
        upstream.lines.append(
            UpstreamLine(
                line_id=line.pk,
                product=product_name(line.product),
                quantity_kg=line.quantity_kg,
                lots=tuple(lots),
            )
        )
    return upstream
