"""The shapes a lot's journey is read in. `selectors.downstream.downstream_of(lot)` answers
"what is downstream of this lot" (a recall's scope, the journey page's forward half, the
trace bench); `selectors.upstream.upstream_of_order(order)` answers "where did this consumer
order come from". Pages draw `JourneyStep`s; every source of steps returns them.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .choices import DownstreamKind


@dataclass(slots=True)
class DownstreamRecord:
    """One record that holds some of the lot: a listing, a buyer's order line, a counter trade,
    a shipment, a warehouse's stock, a consumer's order line.

    Read-only by convention, not frozen: a trace builds a hundred thousand of them, and a
    frozen dataclass's __init__ costs about four times a slotted one's."""

    kind: DownstreamKind
    id: int  # the record's id in its own app
    at: datetime  # when the lot reached it
    quantity_kg: Decimal
    holder: str  # who holds it: a business or a warehouse; a consumer's name is never shown
    user_ids: tuple[int, ...] = ()  # whom a recall tells
    # The record it came from, e.g. a stock lot's trade: (kind, id).
    parent: tuple[DownstreamKind, int] | None = None
    reference: str = ""  # what people call it: an order number, a shipment code, a market
    status: str = ""  # the record's own status in its app (an order's, a shipment's), if any
    remaining_kg: Decimal | None = None  # what is still there (a listing's or stock's) if known
    # Further records it came from (a stock lot received twice): (kind, id) each.
    other_parents: tuple[tuple[DownstreamKind, int], ...] = ()
    # Who holds it among user_ids (seller, buyer, consumer), None when staff only: the rest
    # of user_ids are told as staff (the market's, the cold chain's, the warehouse's).
    party_id: int | None = None


@dataclass
class Downstream:
    lot_id: int
    records: list[DownstreamRecord] = field(default_factory=list)

    def of_kind(self, kind: DownstreamKind) -> list[DownstreamRecord]:
        return [record for record in self.records if record.kind == kind]

    def quantity_kg(self, kind: DownstreamKind) -> Decimal:
        return sum((record.quantity_kg for record in self.of_kind(kind)), Decimal("0"))

    def user_ids(self) -> set[int]:
        return {user_id for record in self.records for user_id in record.user_ids}


@dataclass(frozen=True)
class JourneyStep:
    """One step of a lot's journey as a timeline and a map draw it."""

    at: datetime
    kind: str  # harvest, certificate, market_entry, rapid_test, laboratory, marketplace_order,
    # trade, shipment, handover, stock_receipt, consumer_order, recall
    title: str  # translated
    detail: str = ""  # translated, one line
    quantity_kg: Decimal | None = None
    place: str = ""  # a site's or a county's name; never a home address
    point: tuple[float, float] | None = None  # (lon, lat) on the map; None for private places
    url: str = ""  # where a signed-in person who may see it opens it
    public: bool = False  # shown on the public trace page
