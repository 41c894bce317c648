"""One lot's whole journey, backward and forward, and who may open it.

Backward: harvest, certificates, the markets' gate checks and rapid tests. Forward: marketplace
orders, counter trades, cold shipments (legs, handovers, temperature summary, excursions),
front-warehouse stock and consumer orders. Every step comes from the owning app's selectors
(`journey_steps`); this module decides which records belong to the lot and who may see them.

Who may open a lot's journey: the lot's farmer and her co-operative's manager (farms'
visibility), the staff of a market that traded it or checked it in at its gate, the platform
admin and the cold-chain controllers. Each sees every step; no step names a consumer.
"""

from django.db.models import Q, QuerySet

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin
from delivery.selectors.lots import picks_of_lot
from farms.models import HarvestLot
from farms.selectors import lots_admitted_at, lots_visible_to, markets_that_admitted
from marketplace.markets.models import MarketStaff
from marketplace.markets.selectors.lots import lots_traded_at, markets_that_traded

from ..choices import DownstreamKind
from ..trail import Downstream, JourneyStep
from . import journey_steps as steps
from .downstream import downstream_of
from .epcis_partners import captured_steps_of
from .gate import gate_steps
from .journey_steps import Scope


def _active(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def sees_every_journey(user: User) -> bool:
    return _active(user) and (is_admin(user) or user.role == Role.COLDCHAIN_CONTROLLER)


def lots_with_journey_visible_to(user: User) -> QuerySet[HarvestLot]:
    """The lots whose journey the user may open (another's is simply not found)."""
    lots = HarvestLot.objects.select_related("product", "farm__cooperative")
    if sees_every_journey(user):
        return lots
    if not _active(user):
        return lots.none()
    if user.role == Role.MARKET_OPERATOR:
        market_ids = MarketStaff.objects.filter(user=user).values("market_id")
        return lots.filter(
            Q(pk__in=lots_traded_at(market_ids)) | Q(pk__in=lots_admitted_at(market_ids))
        )
    return lots.filter(pk__in=lots_visible_to(user).values("pk"))


def may_open_journey(user: User, lot: HarvestLot) -> bool:
    if sees_every_journey(user):
        return True
    if not _active(user):
        return False
    if user.role == Role.MARKET_OPERATOR:
        post = MarketStaff.objects.filter(user=user).values_list("market_id", flat=True).first()
        return post is not None and (
            markets_that_traded(lot.pk).filter(market_id=post).exists()
            or markets_that_admitted(lot.pk).filter(market_id=post).exists()
        )
    return lots_visible_to(user).filter(pk=lot.pk).exists()


def may_see_copy_warnings(user: User, lot: HarvestLot) -> bool:
    """The co-operative's manager (whose labels they are) and the platform admin."""
    if is_admin(user):
        return True
    return (
        _active(user)
        and user.role == Role.COOPERATIVE_MANAGER
        and lots_visible_to(user).filter(pk=lot.pk).exists()
    )


# --- Gate checks --------------------------------------------------------------------------------


def gate_steps_of(lot: HarvestLot) -> list[JourneyStep]:
    """The lot's market entries, rapid tests and laboratory results."""
    return list(gate_steps(lot))


# --- The forward scope ----------------------------------------------------------------------------


def scope_from_downstream(downstream: Downstream) -> Scope:
    """The records `downstream_of(lot)` found, as the step builders take them: ids only (no
    record is built), the consumers' picks as the trail found them (else read by lot)."""

    def ids(kind: DownstreamKind) -> set[int]:
        return set(downstream.ids(kind))

    consumer_lines = downstream.total(DownstreamKind.CONSUMER_ORDER_LINE)
    if consumer_lines.source_ids is not None:
        picks = set(consumer_lines.source_ids)
    else:
        line_ids = set(consumer_lines.ids)
        picks = {pick.pk for pick in picks_of_lot(downstream.lot_id) if pick.line_id in line_ids}
    return Scope(
        order_line_ids=ids(DownstreamKind.MARKETPLACE_ORDER_LINE),
        trade_ids=ids(DownstreamKind.MARKET_TRADE),
        shipment_ids=ids(DownstreamKind.SHIPMENT),
        stock_lot_ids=ids(DownstreamKind.STOCK_LOT),
        pick_ids=picks,
    )


def forward_scope(lot: HarvestLot) -> Scope:
    """Everything downstream of the lot, as the recall's scope finds it."""
    return scope_from_downstream(downstream_of(lot))


def forward_steps(lot: HarvestLot, scope: Scope, *, records: dict | None = None) -> list:
    return [
        *steps.marketplace_order_steps(lot, scope),
        *steps.trade_steps(lot, scope),
        *steps.shipment_steps(lot, scope, records=records),
        *steps.stock_steps(lot, scope),
        *steps.consumer_order_steps(lot, scope),
    ]


def in_order(found: list[JourneyStep]) -> list[JourneyStep]:
    """By time; at the same moment, in the order of the chain (a harvest before its
    certificate, a departure before its loading)."""
    rank = {kind: n for n, kind in enumerate(JOURNEY_ORDER)}
    return sorted(found, key=lambda step: (step.at, rank.get(step.kind, len(rank))))


JOURNEY_ORDER = (
    "harvest",
    "certificate",
    "market_entry",
    "rapid_test",
    "laboratory",
    "marketplace_order",
    "trade",
    "shipment",
    "handover",
    "stock_receipt",
    "consumer_order",
    "recall",
    "partner_event",
)


def journey_of(lot: HarvestLot, *, viewer: User) -> list[JourneyStep]:
    """The lot's whole journey in time order, for someone `may_open_journey` lets in (the
    caller checks; every such viewer sees every step)."""
    backward = [steps.harvest_step(lot), *steps.certificate_steps(lot), *gate_steps_of(lot)]
    reported = captured_steps_of(lot)  # what partners' systems reported about the lot
    return in_order(backward + forward_steps(lot, forward_scope(lot)) + reported)
