"""What the public trace page shows (`/t/<code>`, the GS1 Digital Link paths and the JSON twin),
to anyone, without sign-in: product, grade, co-operative and county, harvest date, the
certificate with its commitments and basis, the test results, each cold leg's temperature
summary, the days at market and at the warehouse, the shelf life left while in stock.

Never shown: a phone number, a person's contact, a farm's or a home's coordinates, a buyer's
or a consumer's name. The content is cached for a few minutes per lot, code and language
(the temperature summaries are the costly part); the scans are counted by the doors, per view.
"""

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from coldchain.choices import SiteKind
from coldchain.selectors.lots import condition_of_lot, legs_of_lot
from delivery.selectors.lots import picks_of_lot, stock_of_lot
from delivery.selectors.shop import product_name
from farms.choices import PesticideTestResult
from farms.models import HarvestLot
from marketplace.markets.selectors.lots import trades_of_lot

from ..choices import TraceCodeKind
from ..codes import grouped, trace_path
from ..exceptions import UnknownTraceCode
from ..models import Certificate, TraceCode, TraceScan
from . import journey_steps as steps
from .codes import trace_code_named
from .epcis_partners import captured_steps_of
from .journey import gate_steps_of, in_order
from .journey_steps import Scope

CACHE_SECONDS = 300
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class PublicCertificate:
    code: str
    product_name: str
    quantity_kg: Decimal
    origin: str
    producer_name: str
    issued_on: date
    commitments: tuple[str, ...]
    basis: str
    laboratory: str
    report_number: str
    tested_on: date | None


@dataclass(frozen=True)
class PublicTest:
    kind: str  # pesticide_test (the lot's own), rapid_test, laboratory, market_entry
    title: str
    result: str
    on: date | None
    passed: bool | None


@dataclass(frozen=True)
class PublicLeg:
    origin: str
    destination: str
    departed_at: datetime | None
    arrived_at: datetime | None
    readings: int
    min_c: float | None
    max_c: float | None
    mean_kinetic_c: float | None
    excursions: int
    excursion_minutes: int


@dataclass(frozen=True)
class PublicStep:
    at: datetime
    kind: str
    title: str
    place: str


@dataclass
class PublicTrace:
    code: str  # grouped for reading, "" for a Digital Link path without a serial
    label: str  # what the label was printed for
    lot_code: str
    product: str
    grade: str
    certifications: list[str]
    farm: str
    cooperative: str
    county: str
    harvest_date: date
    digital_link: str
    certificates: list[PublicCertificate] = field(default_factory=list)
    tests: list[PublicTest] = field(default_factory=list)
    legs: list[PublicLeg] = field(default_factory=list)
    days_at_market: float | None = None
    days_at_warehouse: float | None = None
    in_stock: bool = False
    shelf_life_days: float | None = None
    steps: list[PublicStep] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


# --- Finding the lot a path names ---------------------------------------------------------------


def lot_of_digital_link(*, gtin: str, lot_code: str, serial: str = "") -> tuple:
    """(lot, code) of /01/<gtin>/10/<lot>[/21/<serial>]; UnknownTraceCode when the product's
    GTIN, the lot or the serial do not match each other."""
    if serial:
        code = trace_code_named(serial)
        lot = code.lot
        if lot.lot_code != lot_code or (lot.product.gtin or "").zfill(14) != gtin.zfill(14):
            raise UnknownTraceCode()
        return lot, code
    named = (
        HarvestLot.objects.select_related("product", "farm__cooperative")
        .filter(lot_code=lot_code)
        .first()
    )
    if named is None or not named.product.gtin or named.product.gtin.zfill(14) != gtin.zfill(14):
        raise UnknownTraceCode()
    return named, None


# --- The page's content ----------------------------------------------------------------------------


def _commitments(certificate: Certificate) -> tuple[str, ...]:
    names = ("no_banned_substances", "residues_within_limits", "truthful")
    return tuple(
        str(getattr(Certificate._meta.get_field(name), "verbose_name", name))
        for name in names
        if getattr(certificate, name)
    )


def _certificates(lot: HarvestLot, code: TraceCode | None) -> list[PublicCertificate]:
    valid = lot.certificates.filter(revoked_at__isnull=True).select_related("trace_code")
    if code is not None and code.kind == TraceCodeKind.CERTIFICATE:
        valid = valid.filter(trace_code=code)
    return [
        PublicCertificate(
            code=grouped(c.trace_code.code),
            product_name=c.product_name,
            quantity_kg=c.quantity_kg,
            origin=c.origin,
            producer_name=c.producer_name,
            issued_on=c.issued_on,
            commitments=_commitments(c),
            basis=str(c.get_basis_display()),
            laboratory=c.test_laboratory,
            report_number=c.test_report_number,
            tested_on=c.tested_on,
        )
        for c in valid.order_by("issued_on", "pk")
    ]


def _tests(lot: HarvestLot) -> list[PublicTest]:
    tested = lot.pesticide_test_result != PesticideTestResult.NOT_TESTED
    found = [
        PublicTest(
            kind="pesticide_test",
            title=_("Pesticide residue test of the lot"),
            result=str(lot.get_pesticide_test_result_display()),
            on=lot.tested_on,
            passed=(lot.pesticide_test_result == PesticideTestResult.PASSED) if tested else None,
        )
    ]
    found.extend(
        PublicTest(
            kind=step.kind,
            title=step.title,
            result=step.detail,
            on=timezone.localdate(step.at),
            passed=None,
        )
        for step in gate_steps_of(lot)
        if step.public and step.kind in ("rapid_test", "laboratory", "market_entry")
    )
    return found


def _legs(lot: HarvestLot, records: dict, legs_found: list) -> list[PublicLeg]:
    legs = []
    for leg in legs_of_lot(lot.pk):
        shipment = leg.shipment
        record = records.get(shipment.pk)
        if record is None:
            continue
        legs_found.append(shipment)
        summary = record.summary
        legs.append(
            PublicLeg(
                origin=steps.site_place(shipment.origin)[0],
                destination=steps.site_place(shipment.destination)[0],
                departed_at=shipment.departed_at,
                arrived_at=shipment.arrived_at,
                readings=summary.readings,
                min_c=summary.min_c,
                max_c=summary.max_c,
                mean_kinetic_c=summary.mkt_c,
                excursions=len(record.excursions),
                excursion_minutes=record.excursion_minutes,
            )
        )
    return legs


def _days(start: datetime, end: datetime) -> float:
    return round(max((end - start).total_seconds(), 0) / SECONDS_PER_DAY, 1)


def _days_at_market(lot: HarvestLot, shipments: list, now: datetime) -> float | None:
    """From each arrival at a market to the next departure from it (or the last trade there,
    or now)."""
    total = None
    for arrival in shipments:
        if arrival.destination.kind != SiteKind.MARKET or arrival.arrived_at is None:
            continue
        departures = [
            s.departed_at
            for s in shipments
            if s.origin_id == arrival.destination_id
            and s.departed_at
            and s.departed_at >= arrival.arrived_at
        ]
        if departures:
            end = min(departures)
        else:
            trades = [
                t.recorded_at for t in trades_of_lot(lot.pk) if t.recorded_at >= arrival.arrived_at
            ]
            end = max(trades) if trades else now
        total = (total or 0) + _days(arrival.arrived_at, end)
    return total


def _stock(lot: HarvestLot, code: TraceCode | None, now: datetime):
    """(days at the warehouse, in stock) for the label's stock lot, the order's picks or, for
    a certificate, the lot's stock anywhere."""
    stock = list(stock_of_lot(lot.pk))
    if code is not None and code.stock_lot_id:
        stock = [s for s in stock if s.pk == code.stock_lot_id]
    if code is not None and code.delivery_order_id:
        picks = [p for p in picks_of_lot(lot.pk) if p.line.order_id == code.delivery_order_id]
        order = picks[0].line.order if picks else None
        stock = [s for s in stock if s.pk in {p.stock_lot_id for p in picks}]
        if not stock or order is None:
            return None, False
        end = order.picked_up_at or order.packed_at or order.placed_at
        return max(_days(s.received_at, end) for s in stock), False
    if not stock:
        return None, False
    in_stock = any(s.quantity_kg > 0 for s in stock)
    days = []
    for s in stock:
        if s.quantity_kg > 0:
            days.append(_days(s.received_at, now))
        else:
            last = [p.line.order.placed_at for p in picks_of_lot(lot.pk) if p.stock_lot_id == s.pk]
            days.append(_days(s.received_at, max(last) if last else s.received_at))
    return max(days), in_stock


def public_trace(*, lot: HarvestLot, code: TraceCode | None, now: datetime | None = None):
    """The public page's content (see the module docstring for what it never holds)."""
    now = now or timezone.now()
    records: dict = {}
    shipments: list = []
    timeline = [steps.harvest_step(lot), *steps.certificate_steps(lot), *gate_steps_of(lot)]
    timeline += captured_steps_of(
        lot, public=True
    )  # what partners reported, "reported by <partner>"
    scope = Scope()
    timeline += steps.trade_steps(lot, scope)
    timeline += steps.shipment_steps(lot, scope, records=records)
    timeline += steps.stock_steps(lot, scope)
    legs = _legs(lot, records, shipments)
    days_at_warehouse, in_stock = _stock(lot, code, now)
    condition = condition_of_lot(lot, now=now) if in_stock else None
    farm_place = steps.farm_place(lot)[0]
    return PublicTrace(
        code=grouped(code.code) if code else "",
        label=str(code.get_kind_display()) if code else _("Product lot"),
        lot_code=lot.lot_code,
        product=product_name(lot.product),
        grade=str(lot.get_grade_display()),
        certifications=[str(label) for label in lot.certification_labels()],
        farm=lot.farm.name,
        cooperative=lot.farm.cooperative.name,
        county=steps.county_of(lot),
        harvest_date=lot.harvest_date,
        digital_link=trace_path(
            code=code.code if code else "", gtin=lot.product.gtin or "", lot_code=lot.lot_code
        )
        if lot.product.gtin
        else "",
        certificates=_certificates(lot, code),
        tests=_tests(lot),
        legs=legs,
        days_at_market=_days_at_market(lot, shipments, now),
        days_at_warehouse=days_at_warehouse,
        in_stock=in_stock,
        shelf_life_days=round(condition.remaining_days, 1) if condition else None,
        steps=[
            PublicStep(at=s.at, kind=s.kind, title=s.title, place=s.place or farm_place)
            for s in in_order(timeline)
            if s.public
        ],
    )


def cache_key(lot_id: int, code_id: int | None, language: str) -> str:
    return f"trace:public:{lot_id}:{code_id or 0}:{language}"


def public_trace_cached(*, lot: HarvestLot, code: TraceCode | None) -> PublicTrace:
    key = cache_key(lot.pk, code.pk if code else None, translation.get_language())
    found = cache.get(key)
    if found is None:
        found = public_trace(lot=lot, code=code)
        cache.set(key, found, CACHE_SECONDS)
    return found


# --- Scans, as the co-operative sees them on the journey page ----------------------------------


def scans_of_lot(lot_id: int) -> dict:
    """How often the lot's page was opened, in all and per code."""
    rows = TraceScan.objects.filter(lot_id=lot_id).values("code__code").annotate(n=Count("id"))
    per_code = {row["code__code"] or "": row["n"] for row in rows}
    return {"total": sum(per_code.values()), "per_code": per_code}


def suspected_copies_of(lot_id: int) -> QuerySet[TraceScan]:
    """The lot's scans flagged as a possibly copied label, newest first."""
    return (
        TraceScan.objects.filter(lot_id=lot_id, copy_suspected=True)
        .select_related("code", "previous")
        .order_by("-scanned_at")
    )
