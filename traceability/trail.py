"""The shapes a lot's journey is read in. `selectors.downstream.downstream_of(lot)` answers
"what is downstream of this lot" (a recall's scope, the journey page's forward half, the
trace bench); `selectors.upstream.upstream_of_order(order)` answers "where did this consumer
order come from". Pages draw `JourneyStep`s; every source of steps returns them.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class KindTotal:
    """One kind of record downstream of a lot, as the trail's aggregate read counts it."""

    count: int
    quantity_kg: Decimal  # what the kind's records hold, together (a stock lot: what it received)
    ids: Sequence[int]  # the records' ids, in no particular order (a record picked twice: twice)
    # The rows behind the records, where a trace needs them: a consumer order line's picks
    # (None: not read, e.g. a total counted from records).
    source_ids: Sequence[int] | None = None


NO_TOTAL = KindTotal(0, Decimal("0"), ())


class Downstream:
    """What is downstream of a lot, read as it is asked for, like a queryset.

    `downstream_of` reads nothing at once. Asked for a kind's count, kilograms or ids
    (`total`), it reads them all in one aggregate read of the lot's trail: what the journey
    needs, in tens of ms. Asked for `records` (or `of_kind`, `user_ids`), it reads and builds
    every record, a hundred thousand of them for a big lot, in one more read: what a recall
    needs. Once the records are read, totals are counted from them. Each read is made once.

    Both reads see the same rows inside one transaction (the recall reads under the lot's
    lock); outside one, a record written in between may show in the records and not in the
    totals. Ask for the records before opening a COPY on the connection (freeze_scope does):
    their read cannot run while it is open.
    """

    __slots__ = ("_load", "_load_totals", "_records", "_totals", "lot_id")

    def __init__(
        self,
        lot_id: int,
        records: list[DownstreamRecord] | None = None,
        *,
        load: Callable[[], list[DownstreamRecord]] | None = None,
        load_totals: Callable[[], dict[DownstreamKind, KindTotal]] | None = None,
    ) -> None:
        self.lot_id = lot_id
        self._records = records if records is not None or load is not None else []
        self._load = load
        self._totals: dict[DownstreamKind, KindTotal] | None = None
        self._load_totals = load_totals

    @property
    def records(self) -> list[DownstreamRecord]:
        """Every record, kind by kind in the order the lot reached them (read on first use)."""
        if self._records is None:
            assert self._load is not None
            self._records, self._load = self._load(), None
        return self._records

    def total(self, kind: DownstreamKind) -> KindTotal:
        """A kind's count, kilograms and ids, without building a record if none was built."""
        if self._totals is None and self._records is None and self._load_totals is not None:
            self._totals, self._load_totals = self._load_totals(), None
        if self._totals is not None:
            return self._totals.get(kind, NO_TOTAL)
        of_kind = self.of_kind(kind)
        return KindTotal(
            len(of_kind),
            sum((record.quantity_kg for record in of_kind), Decimal("0")),
            [record.id for record in of_kind],
        )

    def ids(self, kind: DownstreamKind) -> Sequence[int]:
        return self.total(kind).ids

    def count(self, kind: DownstreamKind) -> int:
        return self.total(kind).count

    def quantity_kg(self, kind: DownstreamKind) -> Decimal:
        return self.total(kind).quantity_kg

    def of_kind(self, kind: DownstreamKind) -> list[DownstreamRecord]:
        return [record for record in self.records if record.kind == kind]

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
