"""After a recall is opened: parties acknowledge and account for their kilograms; who runs it
closes it (keeping the hold, or releasing it for a false alarm) and gets the report."""

from decimal import Decimal

import pypdfium2
import pytest

from farms.models import LotHold
from marketplace.choices import ListingStatus
from traceability.choices import DownstreamKind as Kind
from traceability.exceptions import (
    DispositionTooLarge,
    InvalidRecall,
    NotRecallParty,
    RecallClosed,
    RecallForbidden,
    RecallNotFound,
)
from traceability.reports import recall_report_pdf
from traceability.selectors.recalls import recall_summary
from traceability.services.recalls import (
    acknowledge_recall,
    close_recall,
    record_disposition,
)


def _row(recall, kind, record_id):
    return recall.scope.get(kind=kind, record_id=record_id)


def _pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_a_consumer_acknowledges_and_returns_what_she_received(recall, journey):
    consumer = journey.consumers[0]
    row = _row(recall, Kind.CONSUMER_ORDER_LINE, journey.consumer_lines[0].pk)

    notice = acknowledge_recall(recall_id=recall.pk, by=consumer, note="已收到")
    again = acknowledge_recall(recall_id=recall.pk, by=consumer, note="changed")
    record_disposition(recall_id=recall.pk, scope_row_id=row.pk, returned_kg="1.000", by=consumer)
    record_disposition(recall_id=recall.pk, scope_row_id=row.pk, destroyed_kg="0.500", by=consumer)

    assert notice.acknowledged_at is not None
    assert (again.acknowledged_at, again.acknowledgement_note) == (notice.acknowledged_at, "已收到")
    summary = recall_summary(recall)
    assert summary.acknowledged == 1
    assert (summary.returned_kg, summary.destroyed_kg) == (Decimal("1.000"), Decimal("0.500"))


def test_no_more_than_a_record_held_can_be_accounted_for(recall, journey):
    manager = journey.warehouse_manager
    row = _row(recall, Kind.STOCK_LOT, journey.stock.pk)  # 59.8 kg received
    record_disposition(recall_id=recall.pk, scope_row_id=row.pk, destroyed_kg="50", by=manager)

    with pytest.raises(DispositionTooLarge) as refusal:
        record_disposition(
            recall_id=recall.pk, scope_row_id=row.pk, returned_kg="9.801", by=manager
        )

    assert refusal.value.field == "returned_kg"
    assert "9.800" in str(refusal.value.message)
    assert row.dispositions.count() == 1


@pytest.mark.parametrize(
    ("returned", "destroyed", "field"),
    [
        ("-1", None, "returned_kg"),
        ("abc", None, "returned_kg"),
        ("0", "0", "returned_kg"),
        (None, "1.0001", "destroyed_kg"),
    ],
)
def test_bad_weights_are_field_errors(recall, journey, returned, destroyed, field):
    row = _row(recall, Kind.STOCK_LOT, journey.stock.pk)

    with pytest.raises(InvalidRecall) as refusal:
        record_disposition(
            recall_id=recall.pk,
            scope_row_id=row.pk,
            returned_kg=returned,
            destroyed_kg=destroyed,
            by=journey.warehouse_manager,
        )

    assert refusal.value.field == field
    assert not row.dispositions.exists()


def test_a_party_answers_only_for_her_own_records(recall, journey):
    other_consumers_row = _row(recall, Kind.CONSUMER_ORDER_LINE, journey.consumer_lines[1].pk)

    with pytest.raises(InvalidRecall) as refusal:
        record_disposition(
            recall_id=recall.pk,
            scope_row_id=other_consumers_row.pk,
            returned_kg="1",
            by=journey.consumers[0],
        )

    assert refusal.value.field == "scope_row"


def test_strangers_neither_see_nor_acknowledge_it(recall, buyer, other_coop_manager):
    for stranger in (buyer, other_coop_manager):
        with pytest.raises(RecallNotFound):
            acknowledge_recall(recall_id=recall.pk, by=stranger)


def test_who_runs_it_but_was_not_told_cannot_acknowledge(recall, coop_manager):
    with pytest.raises(NotRecallParty):
        acknowledge_recall(recall_id=recall.pk, by=coop_manager)


def test_closing_keeps_the_hold_and_gives_the_report(recall, journey, coop_manager):
    consumer = journey.consumers[0]
    acknowledge_recall(recall_id=recall.pk, by=consumer)
    row = _row(recall, Kind.CONSUMER_ORDER_LINE, journey.consumer_lines[0].pk)
    record_disposition(recall_id=recall.pk, scope_row_id=row.pk, destroyed_kg="1.5", by=consumer)

    closed = close_recall(recall_id=recall.pk, by=coop_manager, note="全部追回")

    assert closed.closed_at is not None
    assert not closed.false_alarm
    assert LotHold.objects.get(pk=recall.hold_id).released_at is None
    text = _pdf_text(recall_report_pdf(closed))
    assert journey.lot.lot_code in text
    assert "毒死蜱" in text
    assert f"#{consumer.pk}" in text  # a consumer by number
    assert consumer.display_name not in text
    assert journey.shipment.code in text
    assert "1.500" in text
    with pytest.raises(RecallClosed):
        record_disposition(recall_id=recall.pk, scope_row_id=row.pk, returned_kg="1", by=consumer)
    with pytest.raises(RecallClosed):
        close_recall(recall_id=recall.pk, by=coop_manager)


def test_a_false_alarm_releases_the_hold_and_listings_stay_paused(recall, journey, coop_manager):
    with pytest.raises(InvalidRecall) as refusal:
        close_recall(recall_id=recall.pk, by=coop_manager, false_alarm=True)
    assert refusal.value.field == "note"

    close_recall(recall_id=recall.pk, by=coop_manager, false_alarm=True, note="复检合格")

    assert LotHold.objects.get(pk=recall.hold_id).released_at is not None
    journey.listing.refresh_from_db()
    assert journey.listing.status == ListingStatus.PAUSED


def test_only_who_runs_it_closes_it(recall, journey):
    with pytest.raises(RecallForbidden):
        close_recall(recall_id=recall.pk, by=journey.consumers[0])
