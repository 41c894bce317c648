"""Opening a recall: the lot held, the scope frozen, listings paused, every party told; bad
input refused with a field error and nothing saved."""

from decimal import Decimal

import pytest

from accounts.models import Notification
from farms.choices import HoldSource
from farms.models import LotHold
from marketplace.choices import ListingStatus
from marketplace.services.listings import LISTING_PAUSED
from tests.marketplace.factories import ListingFactory
from tests.traceability.recall_factories import open_and_list
from tests.traceability.trail_factories import consumer_line
from traceability.choices import DownstreamKind as Kind
from traceability.exceptions import InvalidRecall, RecallAlreadyOpen, RecallLotNotFound
from traceability.models import Recall, RecallReach, RecallSeverity
from traceability.services.recalls import RECALL_OPENED, list_recall_scope, open_recall


def test_opening_a_recall_holds_the_lot_freezes_the_scope_and_tells_everyone(
    recall, journey, coop_manager, operator, buyer_trader
):
    hold = LotHold.objects.get(lot=journey.lot, released_at__isnull=True)
    assert (hold.source, hold.reference, hold.market_id) == (
        HoldSource.RECALL,
        f"recall:{recall.pk}",
        None,
    )
    assert recall.hold == hold
    assert "毒死蜱" in hold.reason

    scope = {(row.kind, row.record_id): row for row in recall.scope.all()}
    assert set(scope) == {
        (Kind.LISTING, journey.listing.pk),
        (Kind.MARKETPLACE_ORDER_LINE, journey.order_line.pk),
        (Kind.MARKET_TRADE, journey.trade.pk),
        (Kind.SHIPMENT, journey.shipment.pk),
        (Kind.STOCK_LOT, journey.stock.pk),
        *((Kind.CONSUMER_ORDER_LINE, line.pk) for line in journey.consumer_lines),
    }
    line = scope[(Kind.CONSUMER_ORDER_LINE, journey.consumer_lines[0].pk)]
    assert line.quantity_kg == Decimal("1.500")
    assert line.party_user == journey.consumers[0]
    assert (line.parent_kind, line.parent_id) == (Kind.STOCK_LOT, journey.stock.pk)

    journey.listing.refresh_from_db()
    assert journey.listing.status == ListingStatus.PAUSED

    reached = {notice.user_id: set(notice.reached_as) for notice in recall.notices.all()}
    assert reached[journey.order_line.order.buyer_id] == {RecallReach.BUYER}
    assert reached[buyer_trader.user_id] == {RecallReach.BUYER}
    assert reached[operator.pk] == {RecallReach.MARKET}
    assert reached[journey.warehouse_manager.pk] == {RecallReach.WAREHOUSE}
    assert reached[journey.listing.seller_id] == {RecallReach.SELLER}
    for consumer in journey.consumers:
        assert reached[consumer.pk] == {RecallReach.CONSUMER}
    assert coop_manager.pk not in reached  # she opened it
    told = Notification.objects.filter(kind=RECALL_OPENED, payload__recall_id=recall.pk)
    assert set(told.values_list("user_id", flat=True)) == set(reached)
    assert all("大白菜" in n.title for n in told)


def test_the_scope_is_frozen_later_records_do_not_join_it(journey, coop_manager):
    recall = open_recall(
        lot_id=journey.lot.pk, reason="抽检不合格", severity="class_ii", opened_by=coop_manager
    )
    # A sale written after the opening committed, before the worker lists the scope (in life
    # the hold refuses it; here it is written behind the hold's back).
    consumer_line(journey.warehouse, journey.stock, "1")
    assert not recall.scope.exists()  # listed by the worker, after the commit

    list_recall_scope(recall_id=recall.pk)
    consumer_line(journey.warehouse, journey.stock, "1")

    assert recall.scope.filter(kind=Kind.CONSUMER_ORDER_LINE).count() == 2
    assert list_recall_scope(recall_id=recall.pk) == 0  # a second run changes nothing
    assert recall.scope.filter(kind=Kind.CONSUMER_ORDER_LINE).count() == 2


def test_a_market_supervisor_where_the_lot_traded_may_recall_it(journey, supervisor):
    recall = open_recall(
        lot_id=journey.lot.pk, reason="抽检不合格", severity="class_ii", opened_by=supervisor
    )

    assert recall.market_ids == [journey.trade.market_id]


def test_the_co_operative_managers_are_told_when_someone_else_opens_it(
    journey, supervisor, coop_manager
):
    recall = open_and_list(
        lot_id=journey.lot.pk, reason="抽检不合格", severity="class_ii", opened_by=supervisor
    )

    notice = recall.notices.get(user=coop_manager)
    assert notice.reached_as == [RecallReach.COOPERATIVE]


@pytest.mark.parametrize(
    ("reason", "severity", "field"),
    [("", "class_i", "reason"), ("   ", "class_i", "reason"), ("x", "class_iv", "severity")],
)
def test_bad_input_is_a_field_error_and_nothing_is_saved(
    journey, coop_manager, reason, severity, field
):
    with pytest.raises(InvalidRecall) as refusal:
        open_recall(lot_id=journey.lot.pk, reason=reason, severity=severity, opened_by=coop_manager)

    assert refusal.value.field == field
    assert not Recall.objects.exists()
    assert not LotHold.objects.exists()


def test_a_second_open_recall_of_the_lot_is_refused(recall, journey, coop_manager):
    with pytest.raises(RecallAlreadyOpen) as refusal:
        open_recall(
            lot_id=journey.lot.pk, reason="again", severity="class_i", opened_by=coop_manager
        )

    assert refusal.value.field == "lot"
    assert Recall.objects.count() == 1
    assert LotHold.objects.count() == 1


def test_a_lot_the_user_cannot_see_is_not_found(
    journey, other_coop_manager, other_operator, farmer, buyer, consumer
):
    for user in (other_coop_manager, other_operator, farmer, buyer, consumer):
        with pytest.raises(RecallLotNotFound) as refusal:
            open_recall(
                lot_id=journey.lot.pk, reason="x", severity=RecallSeverity.CLASS_I, opened_by=user
            )
        assert refusal.value.field == "lot"
    with pytest.raises(RecallLotNotFound):
        open_recall(lot_id="nope", reason="x", severity="class_i", opened_by=other_coop_manager)
    assert not Recall.objects.exists()
    assert not LotHold.objects.exists()


def test_only_listings_on_sale_are_paused_and_their_seller_hears_why(journey, coop_manager):
    draft = ListingFactory(lot=journey.lot, status=ListingStatus.DRAFT, available_kg=Decimal("5"))

    open_recall(
        lot_id=journey.lot.pk, reason="抽检不合格", severity="class_ii", opened_by=coop_manager
    )

    draft.refresh_from_db()
    journey.listing.refresh_from_db()
    assert (journey.listing.status, draft.status) == (ListingStatus.PAUSED, ListingStatus.DRAFT)
    news = Notification.objects.get(user=journey.listing.seller, kind=LISTING_PAUSED)
    assert "抽检不合格" in news.body
    assert news.payload["listing_id"] == journey.listing.pk
