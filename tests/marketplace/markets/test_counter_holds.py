"""The counter refuses a held lot, and at a market that checks lots at its gate, a trade
naming no lot or a lot not checked in there: through the service, the page and the API, with
the hold's reason on the lot field and nothing written. Reversals stay possible.

Fixtures (tests/marketplace/markets/fixtures.py): the buyer's card holds ¥10,000.00; `settle`
records 100 kg gross, 2 kg tare of cabbage at ¥1.20/kg unless told otherwise.
"""

import pytest
from django.test import Client

from farms.choices import HoldSource
from farms.exceptions import LotHeld, LotNotAdmitted
from farms.services.holds import admit_lot, place_hold, release_hold
from marketplace.exceptions import LotRequired
from marketplace.markets import trades as counter_trades
from marketplace.models import Market, Trade
from settlement.models import BalanceSlot, JournalEntry
from tests.farms.factories import HarvestLotFactory

from .fixtures import BUYER_CARD, SELLER_CARD

pytestmark = pytest.mark.django_db

RECALL = "Recall RC-7: chlorpyrifos above the national limit"
POSITIVE = "Rapid test positive at the gate: 62 % inhibition"


@pytest.fixture
def lot(cabbage):
    return HarvestLotFactory(product=cabbage)


@pytest.fixture
def checking_market(market):
    """The market asks for entry checks: only lots checked in at its gate may trade."""
    Market.objects.filter(pk=market.pk).update(entry_check_required=True)
    market.refresh_from_db()
    return market


@pytest.fixture
def page_as():
    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


def recall(lot):
    return place_hold(lot=lot, source=HoldSource.RECALL, reference="recall:RC-7", reason=RECALL)


def failed_check_at(market, lot):
    return place_hold(
        lot=lot,
        source=HoldSource.RAPID_TEST,
        reference=f"rapid_test:{market.pk}",
        reason=POSITIVE,
        market_id=market.pk,
    )


def written() -> tuple:
    return (
        Trade.objects.count(),
        JournalEntry.objects.count(),
        list(BalanceSlot.objects.order_by("account_id", "slot").values_list("amount", flat=True)),
    )


def weighing(lot_code: str = "", **overrides) -> dict:
    return {
        "buyer_card": BUYER_CARD,
        "seller_card": SELLER_CARD,
        "product": "VEG-NAPA-CABBAGE",
        "lot": lot_code,
        "gross_kg": "100",
        "tare_kg": "2",
        "unit_price": "1.20",
        "idempotency_key": "counter-hold-1",
        **overrides,
    }


def api_body(lot_code: str = "") -> dict:
    body = weighing(lot_code)
    del body["idempotency_key"]  # the API takes it as a header
    return body


# --- The service ----------------------------------------------------------------------------


def test_a_recalled_lot_is_refused_with_the_recalls_reason_and_nothing_is_written(settle, lot):
    recall(lot)
    before = written()

    with pytest.raises(LotHeld) as refusal:
        settle("held-1", lot=lot)

    assert str(refusal.value.message) == RECALL
    assert refusal.value.field == "lot"
    assert written() == before


def test_a_hold_at_this_market_refuses_the_trade(settle, market, lot):
    failed_check_at(market, lot)

    with pytest.raises(LotHeld) as refusal:
        settle("held-2", lot=lot)

    assert str(refusal.value.message) == POSITIVE


def test_held_at_another_market_does_not_stop_this_one(settle, other_market, lot):
    failed_check_at(other_market, lot)

    trade = settle("elsewhere", lot=lot)

    assert trade.lot == lot


def test_a_released_hold_lets_the_lot_trade_again(settle, supervisor, lot):
    hold = recall(lot)
    with pytest.raises(LotHeld):
        settle("before-release", lot=lot)

    release_hold(hold=hold, released_by=supervisor, note="Laboratory: all clear")

    assert settle("after-release", lot=lot).lot == lot


def test_a_trade_recorded_before_the_hold_can_still_be_reversed(settle, supervisor, lot):
    trade = settle("before-recall", lot=lot)
    recall(lot)

    reversed_trade = counter_trades.reverse_trade(
        trade_id=trade.pk, by=supervisor, reason="Recalled lot returned", idempotency_key="r-1"
    )

    assert reversed_trade.is_reversed


def test_a_retry_of_a_trade_recorded_before_the_hold_returns_that_trade(settle, lot):
    first = settle("retried", lot=lot)
    recall(lot)

    again = settle("retried", lot=lot)

    assert again.pk == first.pk
    assert Trade.objects.count() == 1


def test_without_entry_checks_a_trade_needs_no_lot_nor_admission(settle, lot):
    assert settle("no-lot").lot is None
    assert settle("unadmitted", lot=lot).lot == lot


def test_a_checking_market_wants_the_lot_named(settle, checking_market):
    before = written()

    with pytest.raises(LotRequired) as refusal:
        settle("no-lot")

    assert refusal.value.field == "lot"
    assert written() == before


def test_a_checking_market_refuses_a_lot_not_checked_in_at_its_gate(
    settle, checking_market, other_market, lot
):
    admit_lot(lot=lot, market_id=other_market.pk, reference="entry:elsewhere")
    before = written()

    with pytest.raises(LotNotAdmitted) as refusal:
        settle("unadmitted", lot=lot)

    assert refusal.value.field == "lot"
    assert written() == before
    admit_lot(lot=lot, market_id=checking_market.pk, reference="entry:1")
    assert settle("admitted", lot=lot).lot == lot


def test_an_admitted_lot_that_failed_a_test_here_is_refused(settle, checking_market, lot):
    admit_lot(lot=lot, market_id=checking_market.pk, reference="entry:1")
    failed_check_at(checking_market, lot)

    with pytest.raises(LotHeld):
        settle("admitted-then-positive", lot=lot)


# --- The page -------------------------------------------------------------------------------


def test_the_review_step_shows_the_holds_reason_on_the_lot(
    page_as, operator, buyer_trader, seller_trader, lot
):
    recall(lot)

    response = page_as(operator).post("/market/counter/", weighing(lot.lot_code))

    assert response.status_code == 200
    assert list(response.context["form"].errors["lot"]) == [RECALL]
    assert RECALL in response.content.decode()
    assert not Trade.objects.exists()


def test_confirming_a_held_lot_shows_the_reason_on_the_lot_and_records_nothing(
    page_as, operator, buyer_trader, seller_trader, lot
):
    recall(lot)
    before = written()

    response = page_as(operator).post(
        "/market/counter/", {**weighing(lot.lot_code), "step": "confirm"}
    )

    assert list(response.context["form"].errors["lot"]) == [RECALL]
    assert written() == before


def test_the_page_asks_a_checking_market_for_the_lot_and_its_gate_check(
    page_as, operator, buyer_trader, seller_trader, checking_market, lot
):
    client = page_as(operator)

    no_lot = client.post("/market/counter/", weighing())
    unadmitted = client.post("/market/counter/", {**weighing(lot.lot_code), "step": "confirm"})

    assert list(no_lot.context["form"].errors["lot"]) == [str(LotRequired.default_message)]
    assert list(unadmitted.context["form"].errors["lot"]) == [str(LotNotAdmitted.default_message)]
    assert not Trade.objects.exists()


def test_the_live_preview_says_why_the_lot_is_refused(page_as, operator, lot):
    recall(lot)

    body = page_as(operator).get("/market/counter/preview/", {"lot": lot.lot_code}).json()

    assert body["errors"] == {"lot": RECALL}


# --- The API --------------------------------------------------------------------------------


def test_the_api_answers_409_with_the_holds_reason_on_the_lot(
    api_as, operator, buyer_trader, seller_trader, lot
):
    recall(lot)
    before = written()

    response = api_as(operator).post(
        "/api/market/trades/",
        api_body(lot.lot_code),
        format="json",
        HTTP_IDEMPOTENCY_KEY="api-held",
    )

    assert response.status_code == 409
    assert response.json() == {"lot": [RECALL]}
    assert written() == before


def test_the_api_of_a_checking_market_wants_an_admitted_lot(
    api_as, operator, buyer_trader, seller_trader, checking_market, lot
):
    client = api_as(operator)
    body = api_body()

    no_lot = client.post("/api/market/trades/", body, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    unadmitted = client.post(
        "/api/market/trades/",
        {**body, "lot": lot.lot_code},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a2",
    )
    admit_lot(lot=lot, market_id=checking_market.pk, reference="entry:1")
    admitted = client.post(
        "/api/market/trades/",
        {**body, "lot": lot.lot_code},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a3",
    )

    assert no_lot.status_code == 400
    assert list(no_lot.json()) == ["lot"]
    assert unadmitted.status_code == 409
    assert list(unadmitted.json()) == ["lot"]
    assert admitted.status_code == 201
    assert admitted.json()["lot"] == lot.lot_code
