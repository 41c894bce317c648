"""Maker–checker at the counter: a cash top-up above the market's threshold and every
withdrawal wait for a supervisor other than the operator who asked; each operator's limits;
the cash-drawer count at the end of the day and its place in the day's report.

The buyer's card holds ¥10,000.00 (cash booked by the operator, see conftest).
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from moneyed import Money

from accounts.choices import Role
from common.dates import business_today
from common.exceptions import RefusalKind
from marketplace.exceptions import (
    AboveOperatorDailyLimit,
    AboveOperatorLimit,
    DeclineReasonRequired,
    DrawerAlreadyCounted,
    DrawerCounted,
    FundingRequestNotFound,
    NotMarketStaff,
    OwnFundingRequest,
    RequestAlreadyDecided,
)
from marketplace.markets import drawers, funding
from marketplace.markets import services as markets
from marketplace.markets.funding_models import DrawerCount, FundingRequest, RequestStatus
from marketplace.markets.selectors.counter import card_balance
from settlement.choices import EntryKind
from settlement.exceptions import InsufficientBalance
from settlement.models import JournalEntry
from tests.accounts.factories import UserFactory

from .fixtures import BUYER_CARD

pytestmark = pytest.mark.django_db


def yuan(amount: str) -> Money:
    return Money(Decimal(amount), "CNY")


def ask(market, by, amount="6000.00", *, kind="top_up", method="cash", key="k1"):
    service = funding.top_up_card if kind == "top_up" else funding.withdraw_from_card
    return service(
        market=market,
        by=by,
        card_number=BUYER_CARD,
        amount=amount,
        method=method,
        idempotency_key=key,
    )


def entries() -> int:
    return JournalEntry.objects.count()


@pytest.fixture
def second_supervisor(market):
    user = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=user, is_supervisor=True)
    return user


@pytest.fixture
def page_as():
    def sign_in(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return sign_in


# --- What waits, what goes through ---------------------------------------------------------


def test_a_cash_top_up_above_the_threshold_waits_and_leaves_the_card_as_it_was(
    market, operator, buyer_trader
):
    before = entries()

    request = ask(market, operator, "5000.01")

    assert isinstance(request, FundingRequest)
    assert request.status == RequestStatus.PENDING
    assert request.requested_by == operator
    assert card_balance(buyer_trader) == yuan("10000.00")
    assert entries() == before


def test_a_cash_top_up_at_the_threshold_and_a_bank_top_up_are_booked_at_once(
    market, operator, buyer_trader
):
    at_threshold = ask(market, operator, "5000.00", key="cash")
    by_bank = ask(market, operator, "6000.00", method="bank", key="bank")

    assert at_threshold.kind == EntryKind.TOP_UP
    assert by_bank.kind == EntryKind.TOP_UP
    assert card_balance(buyer_trader) == yuan("21000.00")
    assert not FundingRequest.objects.exists()


@pytest.mark.parametrize("method", ["cash", "bank"])
def test_every_withdrawal_waits_for_approval(market, operator, buyer_trader, method):
    before = entries()

    request = ask(market, operator, "10.00", kind="withdrawal", method=method)

    assert request.status == RequestStatus.PENDING
    assert card_balance(buyer_trader) == yuan("10000.00")
    assert entries() == before


def test_the_threshold_is_the_markets_own(market, operator, buyer_trader):
    market.approval_threshold = yuan("100.00")
    market.save()

    assert isinstance(ask(market, operator, "100.01"), FundingRequest)


# --- The supervisor's decision -------------------------------------------------------------


def test_a_supervisors_approval_posts_the_top_up_once(market, operator, supervisor, buyer_trader):
    request = ask(market, operator)

    approved = funding.approve_funding_request(market=market, by=supervisor, request_id=request.pk)
    posted = entries()
    again = funding.approve_funding_request(market=market, by=supervisor, request_id=request.pk)

    assert approved.status == RequestStatus.APPROVED
    assert approved.decided_by == supervisor
    assert approved.entry.kind == EntryKind.TOP_UP
    assert approved.entry.created_by == supervisor
    assert again.entry_id == approved.entry_id
    assert entries() == posted
    assert card_balance(buyer_trader) == yuan("16000.00")


def test_a_retried_request_is_the_same_request(market, operator, buyer_trader):
    first = ask(market, operator, key="same")
    again = ask(market, operator, key="same")

    assert again.pk == first.pk
    assert FundingRequest.objects.count() == 1


def test_the_requester_never_approves_her_own(market, supervisor, second_supervisor, buyer_trader):
    request = ask(market, supervisor)

    with pytest.raises(OwnFundingRequest) as refused:
        funding.approve_funding_request(market=market, by=supervisor, request_id=request.pk)
    with pytest.raises(OwnFundingRequest):
        funding.decline_funding_request(
            market=market, by=supervisor, request_id=request.pk, reason="算了"
        )

    assert refused.value.kind == RefusalKind.FORBIDDEN
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert card_balance(buyer_trader) == yuan("10000.00")
    approved = funding.approve_funding_request(
        market=market, by=second_supervisor, request_id=request.pk
    )
    assert approved.status == RequestStatus.APPROVED


def test_an_operator_who_is_not_a_supervisor_cannot_approve(market, operator, buyer_trader):
    clerk = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=clerk)
    request = ask(market, operator)

    with pytest.raises(NotMarketStaff):
        funding.approve_funding_request(market=market, by=clerk, request_id=request.pk)

    assert card_balance(buyer_trader) == yuan("10000.00")


def test_another_markets_supervisor_does_not_find_the_request(
    market, other_market, operator, other_operator, buyer_trader
):
    request = ask(market, operator)

    with pytest.raises(FundingRequestNotFound) as refused:
        funding.approve_funding_request(
            market=other_market, by=other_operator, request_id=request.pk
        )

    assert refused.value.kind == RefusalKind.NOT_FOUND
    assert card_balance(buyer_trader) == yuan("10000.00")


def test_a_declined_request_posts_nothing_and_keeps_its_reason(
    market, operator, supervisor, buyer_trader
):
    request = ask(market, operator, "300.00", kind="withdrawal")
    before = entries()

    declined = funding.decline_funding_request(
        market=market, by=supervisor, request_id=request.pk, reason="本人未到场"
    )

    assert declined.status == RequestStatus.DECLINED
    assert declined.reason == "本人未到场"
    assert declined.entry is None
    assert entries() == before
    assert card_balance(buyer_trader) == yuan("10000.00")
    with pytest.raises(RequestAlreadyDecided) as refused:
        funding.approve_funding_request(market=market, by=supervisor, request_id=request.pk)
    assert refused.value.kind == RefusalKind.CONFLICT
    assert entries() == before


def test_declining_needs_a_reason(market, operator, supervisor, buyer_trader):
    request = ask(market, operator)

    with pytest.raises(DeclineReasonRequired) as refused:
        funding.decline_funding_request(
            market=market, by=supervisor, request_id=request.pk, reason="  "
        )

    assert refused.value.field == "reason"
    request.refresh_from_db()
    assert request.is_pending


def test_a_withdrawal_the_card_no_longer_covers_stays_pending(
    market, operator, supervisor, second_supervisor, buyer_trader
):
    """The money was there when she asked; a second withdrawal took most of it first."""
    first = ask(market, operator, "9000.00", kind="withdrawal", key="w1")
    second = ask(market, operator, "2000.00", kind="withdrawal", key="w2")
    funding.approve_funding_request(market=market, by=supervisor, request_id=second.pk)
    before = entries()

    with pytest.raises(InsufficientBalance) as refused:
        funding.approve_funding_request(market=market, by=second_supervisor, request_id=first.pk)

    assert "8000.00" in str(refused.value.message)
    first.refresh_from_db()
    assert first.status == RequestStatus.PENDING
    assert entries() == before
    assert card_balance(buyer_trader) == yuan("8000.00")


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_approving_at_once_post_once(
    market, operator, supervisor, second_supervisor, buyer_trader
):
    request = ask(market, operator)
    start = threading.Barrier(2)
    outcomes: list = [None, None]

    def approve(n: int, by) -> None:
        try:
            start.wait(timeout=30)
            outcomes[n] = funding.approve_funding_request(
                market=market, by=by, request_id=request.pk
            ).entry_id
        except Exception as error:  # asserted below
            outcomes[n] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(n, by))
        for n, by in enumerate((supervisor, second_supervisor))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert outcomes[0] == outcomes[1]
    assert JournalEntry.objects.filter(kind=EntryKind.TOP_UP, book=market.book).count() == 2
    assert card_balance(buyer_trader) == yuan("16000.00")


# --- Each operator's limits ----------------------------------------------------------------


def test_a_top_up_above_the_operators_limit_is_refused(market, operator, buyer_trader):
    before = entries()

    with pytest.raises(AboveOperatorLimit) as refused:
        ask(market, operator, "50000.01", method="bank")

    assert refused.value.field == "amount"
    assert "50000.00" in str(refused.value.message)
    assert entries() == before
    assert not FundingRequest.objects.exists()


def test_an_operators_own_limit_wins_over_the_markets(market, operator, buyer_trader):
    markets.add_staff(market=market, user=operator, transaction_limit=Decimal("1000.00"))

    with pytest.raises(AboveOperatorLimit):
        ask(market, operator, "1000.01", method="bank")

    assert ask(market, operator, "1000.00", method="bank", key="ok").kind == EntryKind.TOP_UP


def test_the_daily_limit_counts_what_she_booked_and_asked_for_today(market, operator, buyer_trader):
    """¥10,000 booked by the fixture, ¥6,000 asked for: ¥4,000 of a ¥20,000 day is left."""
    markets.add_staff(market=market, user=operator, daily_limit=Decimal("20000.00"))
    ask(market, operator, "6000.00", key="asked")
    ask(market, operator, "4000.00", method="bank", key="last")

    with pytest.raises(AboveOperatorDailyLimit) as refused:
        ask(market, operator, "0.01", method="bank", key="over")

    assert refused.value.field == "amount"
    assert "20000.00" in str(refused.value.message)
    assert card_balance(buyer_trader) == yuan("14000.00")


# --- The cash drawer -----------------------------------------------------------------------


def test_the_drawer_count_records_the_difference_and_the_report_shows_it(
    market, operator, supervisor, buyer_trader, page_as
):
    """Her drawer took ¥10,000 (the fixture), ¥6,000 approved and paid ¥200 out: ¥15,800."""
    top_up = ask(market, operator, key="in")
    withdrawal = ask(market, operator, "200.00", kind="withdrawal", key="out")
    for request in (top_up, withdrawal):
        funding.approve_funding_request(market=market, by=supervisor, request_id=request.pk)
    ask(market, supervisor, "100.00", method="bank", key="not-cash")

    count = drawers.record_drawer_count(market=market, by=operator, counted="15790.00")
    again = drawers.record_drawer_count(market=market, by=operator, counted="15790")

    assert count.expected == yuan("15800.00")
    assert count.difference == yuan("-10.00")
    assert again.pk == count.pk
    assert DrawerCount.objects.count() == 1
    with pytest.raises(DrawerAlreadyCounted):
        drawers.record_drawer_count(market=market, by=operator, counted="15800.00")
    day = business_today().isoformat()
    markets_page = page_as(supervisor).get(f"/market/days/{day}/")
    page = markets_page.content.decode()
    assert f'data-operator="{operator.pk}"' in page
    assert "¥-10.00" in page
    assert page.count('data-testid="drawer-missing"') == 1  # the supervisor has not counted


def test_no_cash_goes_through_a_counted_drawer(market, operator, supervisor, buyer_trader):
    request = ask(market, operator, key="late")
    drawers.record_drawer_count(market=market, by=operator, counted="10000.00")

    with pytest.raises(DrawerCounted):
        ask(market, operator, "10.00", key="after")
    with pytest.raises(DrawerCounted):
        funding.approve_funding_request(market=market, by=supervisor, request_id=request.pk)

    assert card_balance(buyer_trader) == yuan("10000.00")


def test_only_a_supervisor_counts_another_operators_drawer(
    market, operator, supervisor, buyer_trader
):
    with pytest.raises(NotMarketStaff):
        drawers.record_drawer_count(
            market=market, by=operator, counted="0", operator_id=supervisor.pk
        )

    count = drawers.record_drawer_count(
        market=market, by=supervisor, counted="10000.00", operator_id=operator.pk
    )
    assert count.difference == yuan("0.00")
    assert count.recorded_by == supervisor


# --- Through the API -----------------------------------------------------------------------


def _pay(client, url, amount, *, key="p-1", method="cash"):
    return client.post(
        url,
        {"card_number": BUYER_CARD, "amount": amount, "method": method},
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_the_api_queues_a_large_top_up_for_another_supervisor(
    api_as, market, operator, supervisor, buyer_trader
):
    asked = _pay(api_as(operator), "/api/market/top-ups/", "8000.00")
    queue = api_as(supervisor).get("/api/market/requests/")
    approved = api_as(supervisor).post(f"/api/market/requests/{asked.json()['id']}/approve/")

    assert asked.status_code == 202
    assert asked.json()["status"] == "pending"
    assert [row["id"] for row in queue.json()["results"]] == [asked.json()["id"]]
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["entry"] is not None
    assert card_balance(buyer_trader) == yuan("18000.00")


def test_the_api_refuses_the_requesters_approval_and_a_top_up_above_her_limit(
    api_as, market, supervisor, buyer_trader
):
    asked = _pay(api_as(supervisor), "/api/market/top-ups/", "8000.00")
    own = api_as(supervisor).post(f"/api/market/requests/{asked.json()['id']}/approve/")
    too_much = _pay(api_as(supervisor), "/api/market/top-ups/", "50000.01", key="p-2")

    assert own.status_code == 403
    assert too_much.status_code == 400
    assert set(too_much.json()) == {"amount"}
    assert card_balance(buyer_trader) == yuan("10000.00")


def test_another_markets_operator_gets_404_from_the_api(
    api_as, market, operator, other_operator, buyer_trader
):
    asked = _pay(api_as(operator), "/api/market/top-ups/", "8000.00")
    request_id = asked.json()["id"]
    client = api_as(other_operator)

    assert client.get(f"/api/market/requests/{request_id}/").status_code == 404
    assert client.post(f"/api/market/requests/{request_id}/approve/").status_code == 404
    declined = client.post(f"/api/market/requests/{request_id}/decline/", {"reason": "x"})
    assert declined.status_code == 404
    assert client.get("/api/market/requests/").json()["results"] == []
    assert card_balance(buyer_trader) == yuan("10000.00")


def test_the_api_declines_with_a_reason(api_as, market, operator, supervisor, buyer_trader):
    asked = _pay(api_as(operator), "/api/market/withdrawals/", "100.00")
    url = f"/api/market/requests/{asked.json()['id']}/decline/"

    no_reason = api_as(supervisor).post(url, {})
    declined = api_as(supervisor).post(url, {"reason": "卡主未到场"})

    assert no_reason.status_code == 400
    assert set(no_reason.json()) == {"reason"}
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    assert declined.json()["reason"] == "卡主未到场"
    assert card_balance(buyer_trader) == yuan("10000.00")


def test_the_api_records_a_drawer_count_and_the_day_shows_it(
    api_as, market, operator, supervisor, buyer_trader
):
    counted = api_as(operator).post("/api/market/drawers/", {"counted": "9999.50"})
    again = api_as(operator).post("/api/market/drawers/", {"counted": "9999.50"})
    listed = api_as(supervisor).get("/api/market/drawers/")

    assert counted.status_code == 201
    assert counted.json()["expected"] == "10000.00"
    assert counted.json()["difference"] == "-0.50"
    assert again.status_code == 200
    lines = {line["operator"]["id"]: line for line in listed.json()}
    assert lines[operator.pk]["counted"] == "9999.50"
    assert lines[supervisor.pk]["is_missing"] is True


# --- Pages ---------------------------------------------------------------------------------


def test_the_supervisor_approves_from_her_queue_and_the_operator_sees_the_outcome(
    page_as, market, operator, supervisor, buyer_trader
):
    clerk = page_as(operator)
    done = clerk.post(
        "/market/cards/top-up/",
        {
            "card_number": BUYER_CARD,
            "amount": "7000",
            "method": "cash",
            "idempotency_key": "page-1",
            "step": "confirm",
        },
    )
    request = FundingRequest.objects.get()
    queue = page_as(supervisor).get("/market/requests/").content.decode()
    approve = page_as(supervisor).post(f"/market/requests/{request.pk}/approve/")
    mine = clerk.get("/market/requests/").content.decode()

    assert done["Location"] == "/market/requests/"
    assert f'data-request="{request.pk}"' in queue
    assert 'data-testid="approve"' in queue
    assert approve.status_code == 302
    assert "Approved" in mine
    assert card_balance(buyer_trader) == yuan("17000.00")


def test_the_top_up_page_refuses_an_amount_above_the_operators_limit(
    page_as, market, operator, buyer_trader
):
    response = page_as(operator).post(
        "/market/cards/top-up/",
        {
            "card_number": BUYER_CARD,
            "amount": "60000",
            "method": "bank",
            "idempotency_key": "page-2",
            "step": "review",
        },
    )

    errors = list(response.context["form"].errors.get("amount", []))
    assert errors
    assert "50000.00" in errors[0]
    assert card_balance(buyer_trader) == yuan("10000.00")


def test_another_markets_supervisor_gets_404_from_the_pages(
    page_as, market, operator, other_operator, buyer_trader
):
    request = ask(market, operator)
    client = page_as(other_operator)

    assert client.post(f"/market/requests/{request.pk}/approve/").status_code == 404
    assert client.get(f"/market/requests/{request.pk}/decline/").status_code == 404
    assert f'data-request="{request.pk}"' not in client.get("/market/requests/").content.decode()
    request.refresh_from_db()
    assert request.is_pending


def test_a_supervisor_declines_from_the_page(page_as, market, operator, supervisor, buyer_trader):
    request = ask(market, operator, "50.00", kind="withdrawal")

    response = page_as(supervisor).post(
        f"/market/requests/{request.pk}/decline/", {"reason": "金额有误"}
    )

    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.DECLINED
    mine = page_as(operator).get("/market/requests/").content.decode()
    assert "金额有误" in mine
    assert card_balance(buyer_trader) == yuan("10000.00")


def test_the_drawer_page_records_the_count(page_as, market, operator, buyer_trader):
    response = page_as(operator).post("/market/drawer/", {"counted": "10010.00"})

    assert response.status_code == 302
    count = DrawerCount.objects.get()
    assert count.difference == yuan("10.00")
    assert "¥10.00" in page_as(operator).get("/market/drawer/").content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"counted": "-1"}, "counted"),
        ({"counted": "10.001"}, "counted"),
        ({"counted": "一百"}, "counted"),
        ({"counted": "10", "business_date": "2999-01-01"}, "business_date"),
    ],
    ids=["negative", "3-decimals", "text", "a-day-ahead"],
)
def test_a_bad_drawer_count_is_refused_on_its_field(api_as, market, operator, data, field):
    response = api_as(operator).post("/api/market/drawers/", data)

    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not DrawerCount.objects.exists()
