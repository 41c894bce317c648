"""A harvest lot in the cold chain: the legs that carried it, each leg's temperature record
(summary and excursions), the sites of the markets, and its remaining shelf life. Traceability
draws a lot's journey and its public page from these."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from farms.models import HarvestLot

from ..models import Excursion, Handover, LotCondition, Shipment, ShipmentLot, Site
from ..shelf_life import TemperatureSummary, assess_lot_condition, temperature_summary


@dataclass(frozen=True)
class LegRecord:
    """What a leg's loggers recorded while it was under way: the temperature summary (min,
    max, mean, mean kinetic temperature) and the excursions that stand (late readings that
    refuted one leave it out)."""

    summary: TemperatureSummary
    excursions: tuple[Excursion, ...]

    @property
    def excursion_minutes(self) -> int:
        total = 0.0
        for excursion in self.excursions:
            if excursion.ended_at is not None:
                total += (excursion.ended_at - excursion.started_at).total_seconds() / 60
        return round(total)


def legs_of_lot(lot_id: int) -> QuerySet[ShipmentLot]:
    """Every shipment that carried (or is to carry) some of the lot, by departure, with its
    sites, vehicle and handovers."""
    return (
        ShipmentLot.objects.filter(lot_id=lot_id)
        .select_related("shipment__origin", "shipment__destination", "shipment__vehicle")
        .prefetch_related(
            Prefetch("shipment__handovers", queryset=Handover.objects.order_by("recorded_at"))
        )
        .order_by("shipment__departed_at", "shipment__planned_departure_at", "pk")
    )


def leg_record(shipment: Shipment) -> LegRecord:
    """The leg's readings from departure to arrival (so far, while under way)."""
    start = shipment.departed_at
    summary = temperature_summary(subject=shipment, start=start, end=shipment.arrived_at)
    excursions = Excursion.objects.filter(shipment=shipment, refuted_at__isnull=True).order_by(
        "started_at"
    )
    return LegRecord(summary=summary, excursions=tuple(excursions))


def sites_of_markets(market_ids: Iterable[int]) -> dict[int, Site]:
    """Each market's cold-chain site (where its map pin stands), by market id."""
    sites: dict[int, Site] = {}
    for site in Site.objects.filter(market_id__in=list(market_ids)).order_by("pk"):
        if site.market_id is not None:
            sites.setdefault(site.market_id, site)
    return sites


def condition_of_lot(lot: HarvestLot, *, now: datetime) -> LotCondition | None:
    """The lot's remaining shelf life: as last stored, or assessed now (nothing written) when
    it has not been evaluated yet; None for a product without a storage profile."""
    stored = LotCondition.objects.filter(lot_id=lot.pk).first()
    return stored if stored is not None else assess_lot_condition(lot=lot, now=now)
