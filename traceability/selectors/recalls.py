"""Reads of recalls, and who may see and run them.

Who runs a recall (opens, closes, sees its whole scope and its report): the platform admin, a
manager of the lot's co-operative, a supervisor of a market where the lot was checked in or
traded. Who else sees it: each party it told (a buyer, a warehouse manager, a consumer, market
or cold-chain staff), and of its scope only the records she was told of. Anyone else: not
found.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from accounts.choices import Role
from accounts.models import User
from accounts.permissions import is_admin
from farms.models import HarvestLot
from farms.selectors import cooperative_managed_by, lots_visible_to
from marketplace.markets.selectors.lot_trail import (
    lot_ids_seen_at_market,
    markets_of_lot,
    supervised_market_id,
)

from ..choices import DownstreamKind
from ..exceptions import RecallNotFound
from ..models import Recall, RecallNotice, RecallScopeKind, RecallScopeRow
from ..trail import Downstream, KindTotal
from .downstream import downstream_within, totals_from_rows

ZERO = Decimal("0.000")


def _active(user: User) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def lots_recallable_by(user: User) -> QuerySet[HarvestLot]:
    """The lots this user may open a recall of."""
    if not _active(user):
        return HarvestLot.objects.none()
    if is_admin(user):
        return HarvestLot.objects.select_related("product", "farm__cooperative")
    if user.role == Role.COOPERATIVE_MANAGER:
        return lots_visible_to(user)
    market_id = supervised_market_id(user)
    if market_id is not None:
        return HarvestLot.objects.filter(pk__in=lot_ids_seen_at_market(market_id)).select_related(
            "product", "farm__cooperative"
        )
    return HarvestLot.objects.none()


def may_open_recalls(user: User) -> bool:
    """Whether this user may recall lots at all (which ones: lots_recallable_by)."""
    if not _active(user):
        return False
    return (
        is_admin(user)
        or cooperative_managed_by(user) is not None
        or supervised_market_id(user) is not None
    )


def may_recall_lot(user: User, lot: HarvestLot) -> bool:
    if not _active(user):
        return False
    if is_admin(user):
        return True
    cooperative = cooperative_managed_by(user)
    if cooperative is not None:
        return cooperative.pk == lot.farm.cooperative_id
    market_id = supervised_market_id(user)
    return market_id is not None and market_id in markets_of_lot(lot.pk)


def _runner_filter(user: User) -> Q | None:
    """Q over recalls this user runs; None for all of them."""
    if is_admin(user):
        return None
    runs = Q(pk__in=[])
    cooperative = cooperative_managed_by(user)
    if cooperative is not None:
        runs |= Q(cooperative=cooperative)
    market_id = supervised_market_id(user)
    if market_id is not None:
        runs |= Q(market_ids__contains=[market_id])
    return runs


def recalls_visible_to(user: User) -> QuerySet[Recall]:
    recalls = Recall.objects.select_related(
        "lot__product", "lot__farm__cooperative", "opened_by", "closed_by", "hold"
    )
    if not _active(user):
        return recalls.none()
    runs = _runner_filter(user)
    if runs is None:
        return recalls
    told = RecallNotice.objects.filter(user=user).values("recall_id")
    return recalls.filter(runs | Q(pk__in=told))


def runs_recall(user: User, recall: Recall) -> bool:
    if not _active(user):
        return False
    runs = _runner_filter(user)
    return runs is None or Recall.objects.filter(runs, pk=recall.pk).exists()


def recall_visible_to(user: User, recall_id) -> Recall:
    """The recall, if this user may see it; RecallNotFound otherwise."""
    try:
        recall_id = int(recall_id)
    except (TypeError, ValueError):
        raise RecallNotFound() from None
    recall = recalls_visible_to(user).filter(pk=recall_id).first()
    if recall is None:
        raise RecallNotFound()
    return recall


def frozen_totals(recall: Recall) -> dict[DownstreamKind, KindTotal]:
    """The recall's frozen scope (RecallScopeKind): each kind's count, kilograms and ids."""
    rows = RecallScopeKind.objects.filter(recall=recall).values_list(
        "step", "records", "quantity_kg", "record_ids", "source_ids"
    )
    return totals_from_rows(
        [
            (step, records, kg, bytes(ids or b""), None if sources is None else bytes(sources))
            for step, records, kg, ids, sources in rows
        ]
    )


def frozen_downstream(recall: Recall) -> Downstream:
    """The records of the recall's frozen scope, as they are now (who holds them, whom to
    tell), and its totals as frozen."""
    return downstream_within(recall.lot_id, frozen_totals(recall))


def with_dispositions(rows: QuerySet[RecallScopeRow]) -> QuerySet[RecallScopeRow]:
    """Each row with the kilograms returned and destroyed so far."""
    return rows.annotate(
        returned_kg=Coalesce(Sum("dispositions__returned_kg"), Value(ZERO)),
        destroyed_kg=Coalesce(Sum("dispositions__destroyed_kg"), Value(ZERO)),
    ).order_by("position")


def scope_visible_to(user: User, recall: Recall) -> QuerySet[RecallScopeRow]:
    """The whole scope for who runs the recall; a party's own records for a party."""
    rows = RecallScopeRow.objects.filter(recall=recall)
    if not runs_recall(user, recall):
        rows = rows.filter(user_ids__contains=[user.pk])
    return with_dispositions(rows)


def notices_of(recall: Recall) -> QuerySet[RecallNotice]:
    return recall.notices.select_related("user").order_by("user__role", "id")


def notice_of(user: User, recall: Recall) -> RecallNotice | None:
    return RecallNotice.objects.filter(recall=recall, user=user).first()


def party_label(user: User) -> str:
    """How a party is named on a recall's page and report: a consumer only by number."""
    if user.role == Role.CONSUMER:
        return gettext("Consumer #%(id)s") % {"id": user.pk}
    return str(user)


@dataclass
class KindTotals:
    kind: DownstreamKind
    records: int = 0
    quantity_kg: Decimal = ZERO
    returned_kg: Decimal = ZERO
    destroyed_kg: Decimal = ZERO

    @property
    def label(self) -> str:
        return str(self.kind.label)


@dataclass
class RecallSummary:
    by_kind: list[KindTotals] = field(default_factory=list)
    reached: int = 0
    acknowledged: int = 0
    returned_kg: Decimal = ZERO
    destroyed_kg: Decimal = ZERO


def recall_summary(recall: Recall) -> RecallSummary:
    """Records and kilograms by kind, returned and destroyed, parties reached and
    acknowledged: in three queries."""
    totals = {kind: KindTotals(kind=DownstreamKind(kind)) for kind in DownstreamKind.values}
    if recall.listed_at is None:  # not listed yet: the scope as frozen
        for frozen_kind, frozen in frozen_totals(recall).items():
            totals[frozen_kind].records = len(set(frozen.ids))
            totals[frozen_kind].quantity_kg = frozen.quantity_kg
    rows = (
        RecallScopeRow.objects.filter(recall=recall)
        .values("kind")
        .annotate(records=Sum(Value(1)), quantity=Sum("quantity_kg"))
        .order_by()
    )
    for row in rows:
        totals[row["kind"]].records = row["records"]
        totals[row["kind"]].quantity_kg = row["quantity"]
    done = (
        recall.dispositions.values("scope_row__kind")
        .annotate(returned=Sum("returned_kg"), destroyed=Sum("destroyed_kg"))
        .order_by()
    )
    summary = RecallSummary()
    for row in done:
        of_kind = totals[row["scope_row__kind"]]
        of_kind.returned_kg, of_kind.destroyed_kg = row["returned"], row["destroyed"]
        summary.returned_kg += row["returned"]
        summary.destroyed_kg += row["destroyed"]
    notices = recall.notices.aggregate(
        reached=Sum(Value(1)),
        acknowledged=Sum(Value(1), filter=Q(acknowledged_at__isnull=False)),
    )
    summary.reached = notices["reached"] or 0
    summary.acknowledged = notices["acknowledged"] or 0
    summary.by_kind = [kind for kind in totals.values() if kind.records]
    return summary
