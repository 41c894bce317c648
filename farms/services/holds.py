"""Holds and admissions on lots: written by traceability (entry checks, tests, recalls), read by
every app that sells a lot, each in the transaction of the sale.

Locking, so that a hold and a sale never cross: placing a hold locks the lot's row FOR UPDATE;
a sale locks the lots it sells FOR SHARE (`lock_lots_for_sale`) before anything that belongs to
them (listings, stock) and reads the holds after the lock. A sale that committed first is in a
recall's scope; a sale that started after waits for the hold's commit and then sees it. Sales
of the same lot do not wait for each other (shared locks).
"""

from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User

from ..choices import HoldSource
from ..exceptions import LotHeld, LotNotAdmitted
from ..models import HarvestLot, LotAdmission, LotHold
from ..selectors import open_holds_applying


def lock_lots_for_sale(
    *, lot_ids: Iterable[int], market_id: int | None = None, admission_required: bool = False
) -> None:
    """Refuse the sale if any of these lots is held (or, at a market that asks for entry
    checks, not admitted there); otherwise keep them locked for share until the caller's
    transaction ends. Call it inside the sale's transaction, before locking listings or stock.
    """
    ids = sorted({int(i) for i in lot_ids if i is not None})
    if not ids:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("lock_lots_for_sale must run inside the sale's transaction")
    with connection.cursor() as cursor:
        # Django has no FOR SHARE; sorted ids keep the lock order fixed.
        cursor.execute(
            "SELECT id FROM farms_harvestlot WHERE id = ANY(%s) ORDER BY id FOR SHARE", [ids]
        )
    hold = open_holds_applying(lot_ids=ids, market_id=market_id).order_by("placed_at", "id").first()
    if hold is not None:
        raise LotHeld(hold.reason, lot_id=hold.lot_id, hold_id=hold.pk)
    if admission_required and market_id is not None:
        admitted = set(
            LotAdmission.objects.filter(lot_id__in=ids, market_id=market_id).values_list(
                "lot_id", flat=True
            )
        )
        missing = [i for i in ids if i not in admitted]
        if missing:
            raise LotNotAdmitted(lot_id=missing[0])


@transaction.atomic
def place_hold(
    *,
    lot: HarvestLot,
    source: HoldSource,
    reference: str,
    reason: str,
    market_id: int | None = None,
    placed_by: User | None = None,
) -> LotHold:
    """Hold the lot (everywhere, or at one market's counter). Placing the same hold again
    (same source and reference, still open) returns the first one."""
    # FOR UPDATE waits for sales in flight (FOR SHARE) and blocks new ones until commit.
    HarvestLot.objects.select_for_update(of=("self",)).filter(pk=lot.pk).first()
    existing = LotHold.objects.filter(
        source=source, reference=reference, released_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    return LotHold.objects.create(
        lot=lot,
        market_id=market_id,
        source=source,
        reference=reference,
        reason=str(reason)[:300],
        placed_at=timezone.now(),
        placed_by=placed_by,
    )


@transaction.atomic
def release_hold(*, hold: LotHold, released_by: User | None, note: str = "") -> LotHold:
    """Lift a hold (a laboratory cleared the lot, a recall was closed as a false alarm).
    Releasing one already released changes nothing."""
    hold = LotHold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at = timezone.now()
        hold.released_by = released_by
        hold.release_note = str(note)[:300]
        hold.save(update_fields=["released_at", "released_by", "release_note"])
    return hold


@transaction.atomic
def admit_lot(*, lot: HarvestLot, market_id: int, reference: str) -> LotAdmission:
    """Record that the lot passed this market's gate check; the first admission stands."""
    admission, _created = LotAdmission.objects.get_or_create(
        lot=lot,
        market_id=market_id,
        defaults={"admitted_at": timezone.now(), "reference": reference},
    )
    return admission
