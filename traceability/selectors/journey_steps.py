"""The steps of a lot's journey, one builder per kind of record, read through the owning apps'
selectors. `journey.journey_of` puts them together for the journey page, `upstream` for a
consumer order, `public` keeps the public ones for the trace page.

Places follow one privacy rule: a farm is shown as its co-operative and county, its point
rounded to 0.1° (about 10 km), never the field or a home; markets, cold stores and warehouses
are businesses and are shown where they are. A consumer is never named: her order is
"consumer order #id, district", with no point on the map.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _

from coldchain.choices import SiteKind
from coldchain.models import Shipment, Site
from coldchain.selectors.lots import LegRecord, leg_record, legs_of_lot, sites_of_markets
from common.dates import BUSINESS_TIME_ZONE
from delivery.selectors.lots import picks_of_lot, stock_of_lot
from delivery.selectors.shop import product_name
from farms.models import HarvestLot
from marketplace.markets.selectors.lots import trades_of_lot
from marketplace.selectors.lots import order_lines_of_lot

from ..trail import JourneyStep

ROUNDING_DEGREES = 1  # decimals kept of a private place's coordinates: 0.1° ≈ 10 km
# A district (区/县/旗) right after its city: 北京市朝阳区… → 朝阳区. Anything shorter than
# that (a compound, "望京西园三区") is too close to a home to show.
DISTRICT = re.compile(r"市([^省市区县旗\s]{1,6}?(?:区|县|旗))")


# --- Places -----------------------------------------------------------------------------------


def rounded(point) -> tuple[float, float] | None:
    if point is None:
        return None
    return (round(point.x, ROUNDING_DEGREES), round(point.y, ROUNDING_DEGREES))


def exact(point) -> tuple[float, float] | None:
    return None if point is None else (round(point.x, 6), round(point.y, 6))


def county_of(lot: HarvestLot) -> str:
    """The co-operative's province and county (寿光市, 潍坊市寿光市…), never a village."""
    cooperative = lot.farm.cooperative
    return " ".join(part for part in (cooperative.province, cooperative.region) if part)


def farm_place(lot: HarvestLot) -> tuple[str, tuple[float, float] | None]:
    """Where a lot was grown, as the public may see it: the co-operative, its county, and a
    point rounded to about 10 km (the co-operative's, else the farm's)."""
    cooperative = lot.farm.cooperative
    place = f"{cooperative.name} · {county_of(lot)}".strip(" ·")
    return place, rounded(cooperative.location or lot.farm.location)


def site_place(site: Site) -> tuple[str, tuple[float, float] | None]:
    if site.kind == SiteKind.FARM:
        return _("A farm near %(site)s") % {"site": site.cooperative or ""}, rounded(site.location)
    return site.name, exact(site.location)


def district_of(*addresses: str) -> str:
    """The district (区/县) of the first address that names one after its city: the delivery
    address, else the warehouse's (which serves the homes around it); never finer."""
    for address in addresses:
        found = DISTRICT.search(address or "")
        if found:
            return found.group(1)
    return ""


def _kg(value) -> Decimal | None:
    return None if value is None else Decimal(value)


# --- Backward: the lot itself, its certificates and its gate checks ---------------------------


def harvest_step(lot: HarvestLot) -> JourneyStep:
    place, point = farm_place(lot)
    grade = lot.get_grade_display()
    return JourneyStep(
        at=datetime.combine(lot.harvest_date, time(8), tzinfo=BUSINESS_TIME_ZONE),
        kind="harvest",
        title=_("Harvested: %(product)s, %(grade)s")
        % {"product": product_name(lot.product), "grade": grade},
        detail=_("Lot %(code)s from %(farm)s") % {"code": lot.lot_code, "farm": lot.farm.name},
        quantity_kg=lot.quantity_kg,
        place=place,
        point=point,
        url=reverse("farms:lot_detail", args=[lot.pk]),
        public=True,
    )


def certificate_steps(lot: HarvestLot) -> list[JourneyStep]:
    steps = []
    for certificate in lot.certificates.select_related("trace_code").order_by("issued_on", "pk"):
        valid = certificate.is_valid
        steps.append(
            JourneyStep(
                at=datetime.combine(certificate.issued_on, time(9), tzinfo=BUSINESS_TIME_ZONE),
                kind="certificate",
                title=_("Compliance certificate issued")
                if valid
                else _("Compliance certificate (revoked)"),
                detail=_("Basis: %(basis)s") % {"basis": certificate.get_basis_display()},
                quantity_kg=certificate.quantity_kg,
                place=farm_place(lot)[0],
                public=valid,
            )
        )
    return steps


# --- Forward: what the lot went on to ---------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which of the lot's downstream records to draw (None: all of that kind)."""

    order_line_ids: Collection[int] | None = None
    trade_ids: Collection[int] | None = None
    shipment_ids: Collection[int] | None = None
    stock_lot_ids: Collection[int] | None = None
    pick_ids: Collection[int] | None = None


def _within(ids: Collection[int] | None, pk: int) -> bool:
    return ids is None or pk in ids


def marketplace_order_steps(lot: HarvestLot, scope: Scope) -> list[JourneyStep]:
    steps = []
    for line in order_lines_of_lot(lot.pk):
        if not _within(scope.order_line_ids, line.pk):
            continue
        order = line.order
        steps.append(
            JourneyStep(
                at=order.created_at,
                kind="marketplace_order",
                title=_("Ordered by %(buyer)s") % {"buyer": order.buyer},
                detail=_("Marketplace order #%(id)s · %(status)s")
                % {"id": order.pk, "status": order.get_status_display()},
                quantity_kg=line.packed_kg or line.quantity_kg,
                url=reverse("marketplace:order_detail", args=[order.pk]),
            )
        )
    return steps


def trade_steps(lot: HarvestLot, scope: Scope) -> list[JourneyStep]:
    trades = [t for t in trades_of_lot(lot.pk) if _within(scope.trade_ids, t.pk)]
    sites = sites_of_markets({t.market_id for t in trades})
    steps = []
    for trade in trades:
        site = sites.get(trade.market_id)
        detail = _("%(seller)s to %(buyer)s") % {"seller": trade.seller, "buyer": trade.buyer}
        if trade.is_reversed:
            detail += " · " + _("reversed")
        steps.append(
            JourneyStep(
                at=trade.recorded_at,
                kind="trade",
                title=_("Traded at %(market)s") % {"market": trade.market.name},
                detail=detail,
                quantity_kg=trade.net_kg,
                place=trade.market.name,
                point=exact(site.location) if site else None,
                public=not trade.is_reversed,
            )
        )
    return steps


def temperature_line(record: LegRecord) -> str:
    """One line a reader takes in at a glance: range, MKT, excursions."""
    summary = record.summary
    if not summary.readings:
        text = _("no temperature readings")
    else:
        text = _("%(min)s–%(max)s °C, mean kinetic temperature %(mkt)s °C") % {
            "min": summary.min_c,
            "max": summary.max_c,
            "mkt": summary.mkt_c,
        }
    count = len(record.excursions)
    if count:
        text += " · " + _("%(count)s excursion(s), %(minutes)s min") % {
            "count": count,
            "minutes": record.excursion_minutes,
        }
    else:
        text += " · " + _("no excursion")
    return text


def shipment_steps(lot: HarvestLot, scope: Scope, *, records: dict | None = None) -> list:
    """A departure step per leg (with its temperature line) and a step per handover; the leg
    records are kept in `records` (shipment id → LegRecord) when given."""
    steps = []
    for leg in legs_of_lot(lot.pk):
        shipment: Shipment = leg.shipment
        if not _within(scope.shipment_ids, shipment.pk):
            continue
        record = leg_record(shipment)
        if records is not None:
            records[shipment.pk] = record
        origin, origin_point = site_place(shipment.origin)
        destination, destination_point = site_place(shipment.destination)
        vehicle = f" · {shipment.vehicle.plate}" if shipment.vehicle is not None else ""
        steps.append(
            JourneyStep(
                at=shipment.departed_at or shipment.planned_departure_at,
                kind="shipment",
                title=_("Cold shipment %(origin)s → %(destination)s")
                % {"origin": origin, "destination": destination},
                detail=f"{shipment.get_status_display()}{vehicle} · {temperature_line(record)}",
                quantity_kg=leg.quantity_kg,
                place=origin,
                point=origin_point,
                url=reverse("coldchain:shipment_detail", args=[shipment.pk]),
                public=True,
            )
        )
        for handover in shipment.handovers.all():
            loading = handover.kind == "loading"
            steps.append(
                JourneyStep(
                    at=handover.recorded_at,
                    kind="handover",
                    title=(_("Loaded at %(site)s") if loading else _("Unloaded at %(site)s"))
                    % {"site": origin if loading else destination},
                    detail=_("%(decision)s, probe %(temperature)s °C")
                    % {
                        "decision": handover.get_decision_display(),
                        "temperature": handover.probe_temperature_c,
                    },
                    place=origin if loading else destination,
                    point=origin_point if loading else destination_point,
                    public=True,
                )
            )
    return steps


def stock_steps(lot: HarvestLot, scope: Scope) -> list[JourneyStep]:
    steps = []
    for stock in stock_of_lot(lot.pk):
        if not _within(scope.stock_lot_ids, stock.pk):
            continue
        received = sum((r.quantity_kg for r in stock.receipts.all()), Decimal("0"))
        warehouse = stock.warehouse
        steps.append(
            JourneyStep(
                at=stock.received_at,
                kind="stock_receipt",
                title=_("Received at %(warehouse)s") % {"warehouse": warehouse.name},
                detail=_("%(left)s kg left, best before %(expiry)s")
                % {"left": stock.quantity_kg, "expiry": f"{stock.expires_at:%Y-%m-%d}"},
                quantity_kg=received or stock.quantity_kg,
                place=warehouse.name,
                point=exact(warehouse.site.location),
                public=True,
            )
        )
    return steps


def consumer_order_steps(lot: HarvestLot, scope: Scope) -> list[JourneyStep]:
    steps = []
    for pick in picks_of_lot(lot.pk):
        if not _within(scope.pick_ids, pick.pk):
            continue
        order = pick.line.order
        district = district_of(order.address, order.warehouse.address)
        title = _("Consumer order #%(id)s") % {"id": order.pk}
        if district:
            title += f", {district}"
        steps.append(
            JourneyStep(
                at=order.delivered_at or order.placed_at,
                kind="consumer_order",
                title=title,
                detail=_("%(status)s · from %(warehouse)s")
                % {"status": order.get_status_display(), "warehouse": order.warehouse.name},
                quantity_kg=pick.quantity_kg,
                place=district,
            )
        )
    return steps
