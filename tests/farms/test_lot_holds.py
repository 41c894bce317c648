"""Holds and admissions on lots (farms.services.holds): what every door that sells a lot reads.

A hold with no market holds the lot everywhere (a recall); one with a market only at that
market's counter (a failed entry check there). Placing and releasing are idempotent; a sale
locks its lots FOR SHARE and is refused while a hold applies.
"""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import OuterRef

from common.exceptions import RefusalKind
from farms.choices import HoldSource
from farms.exceptions import LotHeld, LotNotAdmitted
from farms.models import HarvestLot, LotAdmission, LotHold
from farms.selectors import everywhere_hold_reason, held_everywhere, open_holds_applying
from farms.services.holds import admit_lot, lock_lots_for_sale, place_hold, release_hold
from marketplace.markets import services as markets
from tests.farms.factories import HarvestLotFactory

pytestmark = pytest.mark.django_db

RECALL_REASON = "Recall: chlorpyrifos above the national limit"


@pytest.fixture
def lot(db):
    return HarvestLotFactory()


@pytest.fixture
def xinfadi(db):
    return markets.create_market(code="xinfadi-h", name="北京新发地", city="北京")


@pytest.fixture
def jiangnan(db):
    return markets.create_market(code="jiangnan-h", name="广州江南", city="广州")


def recall(lot, reference: str = "recall:RC-1"):
    return place_hold(lot=lot, source=HoldSource.RECALL, reference=reference, reason=RECALL_REASON)


def failed_check(lot, market, reference: str = "rapid_test:1"):
    return place_hold(
        lot=lot,
        source=HoldSource.RAPID_TEST,
        reference=reference,
        reason="Rapid test positive: 62 % inhibition",
        market_id=market.pk,
    )


def sale(lot_ids, **where):
    with transaction.atomic():
        lock_lots_for_sale(lot_ids=lot_ids, **where)


# --- Placing and releasing ----------------------------------------------------------------


def test_placing_the_same_hold_twice_keeps_one_open_hold(lot, admin_user):
    first = recall(lot)
    again = place_hold(
        lot=lot,
        source=HoldSource.RECALL,
        reference="recall:RC-1",
        reason="another wording",
        placed_by=admin_user,
    )

    assert again.pk == first.pk
    assert LotHold.objects.filter(lot=lot, released_at__isnull=True).count() == 1
    assert again.reason == RECALL_REASON


def test_releasing_twice_changes_nothing_the_second_time(lot, admin_user):
    hold = recall(lot)

    released = release_hold(hold=hold, released_by=admin_user, note="Laboratory: all clear")
    again = release_hold(hold=hold, released_by=None, note="second click")

    assert released.released_at is not None
    assert again.released_at == released.released_at
    assert again.released_by == admin_user
    assert again.release_note == "Laboratory: all clear"
    assert not released.is_open


def test_a_released_reference_may_be_held_again(lot, admin_user):
    release_hold(hold=recall(lot), released_by=admin_user)

    second = recall(lot)

    assert second.is_open
    assert LotHold.objects.filter(lot=lot).count() == 2


def test_the_database_keeps_one_open_hold_per_reference(lot):
    recall(lot)
    with pytest.raises(IntegrityError), transaction.atomic():
        LotHold.objects.create(
            lot=lot,
            source=HoldSource.RECALL,
            reference="recall:RC-1",
            reason="bypassing the service",
            placed_at=LotHold.objects.get().placed_at,
        )


def test_admitting_a_lot_twice_keeps_the_first_admission(lot, xinfadi):
    first = admit_lot(lot=lot, market_id=xinfadi.pk, reference="entry:1")
    again = admit_lot(lot=lot, market_id=xinfadi.pk, reference="entry:2")

    assert again.pk == first.pk
    assert again.reference == "entry:1"
    assert LotAdmission.objects.count() == 1


# --- Which holds apply where --------------------------------------------------------------


def test_a_hold_everywhere_applies_at_every_market_and_off_the_market(lot, xinfadi):
    hold = recall(lot)

    assert list(open_holds_applying(lot_ids=[lot.pk])) == [hold]
    assert list(open_holds_applying(lot_ids=[lot.pk], market_id=xinfadi.pk)) == [hold]
    assert HarvestLot.objects.filter(pk=lot.pk).filter(held_everywhere(OuterRef("pk"))).exists()
    annotated = HarvestLot.objects.annotate(reason=everywhere_hold_reason(lot_ref=OuterRef("pk")))
    assert annotated.get(pk=lot.pk).reason == RECALL_REASON


def test_a_market_hold_applies_only_at_that_markets_counter(lot, xinfadi, jiangnan):
    hold = failed_check(lot, xinfadi)

    assert list(open_holds_applying(lot_ids=[lot.pk], market_id=xinfadi.pk)) == [hold]
    assert not open_holds_applying(lot_ids=[lot.pk], market_id=jiangnan.pk).exists()
    assert not open_holds_applying(lot_ids=[lot.pk]).exists()
    assert not HarvestLot.objects.filter(pk=lot.pk).filter(held_everywhere(OuterRef("pk"))).exists()


# --- Locking lots for a sale --------------------------------------------------------------


def test_a_sale_of_a_held_lot_is_refused_with_the_holds_reason(lot):
    hold = recall(lot)

    with pytest.raises(LotHeld) as refusal:
        sale([lot.pk])

    assert str(refusal.value.message) == RECALL_REASON
    assert refusal.value.field == "lot"
    assert refusal.value.kind == RefusalKind.CONFLICT
    assert refusal.value.details == {"lot_id": lot.pk, "hold_id": hold.pk}


def test_a_sale_of_several_lots_is_refused_when_any_is_held(lot):
    clean = HarvestLotFactory()
    recall(lot)

    with pytest.raises(LotHeld) as refusal:
        sale([clean.pk, lot.pk])

    assert refusal.value.details["lot_id"] == lot.pk


def test_held_at_market_a_does_not_stop_market_b(lot, xinfadi, jiangnan):
    failed_check(lot, xinfadi)

    with pytest.raises(LotHeld):
        sale([lot.pk], market_id=xinfadi.pk)
    sale([lot.pk], market_id=jiangnan.pk)
    sale([lot.pk])  # the marketplace and the shop: not held there


def test_a_released_hold_lets_the_lot_be_sold_again(lot, admin_user):
    hold = recall(lot)
    release_hold(hold=hold, released_by=admin_user, note="false alarm")

    sale([lot.pk])


def test_a_market_that_checks_lots_refuses_one_not_admitted_there(lot, xinfadi, jiangnan):
    admit_lot(lot=lot, market_id=jiangnan.pk, reference="entry:9")

    with pytest.raises(LotNotAdmitted) as refusal:
        sale([lot.pk], market_id=xinfadi.pk, admission_required=True)

    assert refusal.value.field == "lot"
    assert refusal.value.details == {"lot_id": lot.pk}
    admit_lot(lot=lot, market_id=xinfadi.pk, reference="entry:10")
    sale([lot.pk], market_id=xinfadi.pk, admission_required=True)


def test_an_admitted_lot_that_is_held_is_still_refused(lot, xinfadi):
    admit_lot(lot=lot, market_id=xinfadi.pk, reference="entry:1")
    failed_check(lot, xinfadi)

    with pytest.raises(LotHeld):
        sale([lot.pk], market_id=xinfadi.pk, admission_required=True)


def test_no_lots_is_no_refusal():
    lock_lots_for_sale(lot_ids=[])
    lock_lots_for_sale(lot_ids=[None])
