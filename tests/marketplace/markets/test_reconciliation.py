"""Reconciliation: the trial balance, balances against postings and a day's trades against
its settlement entries; the command, the operator's page and the API."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import F
from django.test import Client
from django.utils import translation

from common.dates import business_today
from marketplace.markets import funding
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.markets.reconciliation import CHECK_REVERSALS, CHECK_TRADES, reconcile
from marketplace.models import Trade
from settlement.choices import AccountKind
from settlement.findings import CHECK_BALANCES, CHECK_TRIAL_BALANCE
from settlement.models import BalanceSlot

pytestmark = pytest.mark.django_db

URL = "/market/reconciliation/"
API = "/api/market/reconciliation/"

# Two trades at the fixtures' commission (1 % buyer, 2 % seller, at least ¥1 a side), 98 kg net:
# ¥117.60 (fees 1.18 + 2.35) and ¥196.00 (fees 1.96 + 3.92).
BUYERS_PAID = Decimal("316.74")
SELLERS_OWED = Decimal("307.33")
COMMISSION = Decimal("9.41")


@pytest.fixture(autouse=True)
def in_english():
    """Findings carry messages in the active language; these tests read the English ones."""
    with translation.override("en"):
        yield


@pytest.fixture
def trading_day(settle, commission, supervisor, buyer_trader, cabbage):
    """The fixture's ¥10,000 top-up, a ¥500 bank top-up, three trades (the first reversed)."""
    first = settle("t1")
    settle("t2", unit_price="2.00")
    settle("t3", unit_price="1.50")
    counter_trades.reverse_trade(
        trade_id=first.pk, by=supervisor, reason="wrong buyer", idempotency_key="r1"
    )
    funding.top_up_card(
        market=first.market,
        by=supervisor,
        card_number=buyer_trader.card_number,
        amount="500.00",
        method="bank",
        idempotency_key="bank-1",
    )
    return first.market


def codes(result) -> set[str]:
    return {finding.code for finding in result.findings if finding.is_error}


def page_as(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


# The figures


def test_a_day_with_trades_a_reversal_and_top_ups_reconciles(trading_day):
    result = reconcile(market=trading_day)

    assert result.ok, result.findings
    assert result.business_date == business_today()
    (book,) = result.books
    assert book.code == trading_day.book.code
    assert book.balanced
    lines = {line.kind: line for line in book.lines}
    # The cash and bank clearing accounts hold what was paid in: ¥10,000 and ¥500.
    assert lines[AccountKind.CASH].balance == Decimal("10000.00")
    assert lines[AccountKind.BANK].balance == Decimal("500.00")
    # The first trade was undone: the commission kept is that of the other two.
    trades = Trade.objects.filter(reversal__isnull=True)
    kept = sum(t.buyer_fee.amount + t.seller_fee.amount for t in trades)
    assert lines[AccountKind.COMMISSION].balance == -kept
    assert book.debits == book.credits == sum(line.debits for line in book.lines)

    movements = {movement.kind: (movement.count, movement.amount) for movement in book.movements}
    assert movements["top_up"] == (2, Decimal("10500.00"))
    assert movements["trade"][0] == 3
    assert movements["reversal"] == (1, Decimal("118.78"))  # ¥117.60 + the buyer's ¥1.18

    (day,) = result.days
    assert day.market_code == trading_day.code
    assert (day.count.trades, day.count.entries) == (3, 3)
    all_trades = Trade.objects.all()
    pays = sum(t.amount.amount + t.buyer_fee.amount for t in all_trades)
    assert day.buyers_paid.trades == day.buyers_paid.entries == pays
    assert day.sellers_owed.matches
    assert day.commission.matches
    assert day.commission.trades == sum(
        t.buyer_fee.amount + t.seller_fee.amount for t in all_trades
    )
    assert (day.reversals.trades, day.reversals.entries) == (1, 1)
    assert day.trades_ok
    assert day.reversals_ok
    assert result.balances.mismatched == 0


def test_the_fixture_commission_figures(market, settle, commission):
    settle("t1")
    settle("t2", unit_price="2.00")

    (day,) = reconcile(market=market).days

    assert day.buyers_paid.trades == day.buyers_paid.entries == BUYERS_PAID
    assert day.sellers_owed.trades == day.sellers_owed.entries == SELLERS_OWED
    assert day.commission.trades == day.commission.entries == COMMISSION


def test_another_day_has_its_own_figures(trading_day):
    (day,) = reconcile(market=trading_day, business_date=business_today() - timedelta(days=1)).days

    assert (day.count.trades, day.count.entries) == (0, 0)
    assert day.buyers_paid.trades == day.buyers_paid.entries == 0
    assert day.trades_ok
    assert day.reversals_ok


def test_without_a_market_every_book_and_market_is_reconciled(trading_day, other_market):
    result = reconcile()

    assert result.ok
    assert {book.code for book in result.books} >= {
        trading_day.book.code,
        other_market.book.code,
    }
    assert [day.market_code for day in result.days] == sorted([trading_day.code, other_market.code])


# Findings


def test_a_tampered_balance_slot_is_found(trading_day):
    card = markets.settlement_account(Trade.objects.first().buyer)
    BalanceSlot.objects.filter(account=card).update(amount=F("amount") - 100)

    result = reconcile(market=trading_day)

    assert codes(result) == {"balance_mismatch"}
    assert not result.passed(CHECK_BALANCES)
    assert result.passed(CHECK_TRIAL_BALANCE)
    assert result.passed(CHECK_TRADES)
    assert result.balances.mismatched == 1
    assert result.balances.cached == result.balances.posted - 100


def test_a_trade_moved_to_another_day_is_found_on_both_days(trading_day):
    today = business_today()
    yesterday = today - timedelta(days=1)
    moved = Trade.objects.order_by("id").last()
    Trade.objects.filter(pk=moved.pk).update(business_date=yesterday)

    on_the_day = reconcile(market=trading_day, business_date=today)
    the_day_before = reconcile(market=trading_day, business_date=yesterday)

    (day,) = on_the_day.days
    assert (day.count.trades, day.count.entries) == (2, 3)
    assert not day.trades_ok
    assert codes(on_the_day) == {"trade_totals", "entry_without_trade"}
    orphan = next(f for f in on_the_day.findings if f.code == "entry_without_trade")
    assert orphan.ids == (moved.entry_id,)
    (before,) = the_day_before.days
    assert (before.count.trades, before.count.entries) == (1, 0)
    assert codes(the_day_before) == {"trade_totals", "trade_entry_mismatch"}
    unfit = next(f for f in the_day_before.findings if f.code == "trade_entry_mismatch")
    assert unfit.ids == (moved.pk,)


def test_a_trade_whose_amount_was_changed_no_longer_matches_its_entry(trading_day):
    changed = Trade.objects.order_by("id").last()
    Trade.objects.filter(pk=changed.pk).update(amount=F("amount") + 1)

    result = reconcile(market=trading_day)

    (day,) = result.days
    assert day.buyers_paid.trades == day.buyers_paid.entries + 1
    assert next(f for f in result.findings if f.code == "trade_entry_mismatch").ids == (changed.pk,)


def test_a_reversal_no_trade_records_is_found(trading_day):
    reversed_trade = Trade.objects.get(reversal__isnull=False)
    reversal_id = reversed_trade.reversal_id
    Trade.objects.filter(pk=reversed_trade.pk).update(reversal=None)

    result = reconcile(market=trading_day)

    (day,) = result.days
    assert (day.reversals.trades, day.reversals.entries) == (0, 1)
    assert not day.reversals_ok
    assert day.trades_ok
    assert not result.passed(CHECK_REVERSALS)
    assert codes(result) == {"reversal_count", "reversal_without_trade"}
    unrecorded = next(f for f in result.findings if f.code == "reversal_without_trade")
    assert unrecorded.ids == (reversal_id,)


def test_a_trade_marked_reversed_by_another_entry_is_found(trading_day):
    reversed_trade = Trade.objects.get(reversal__isnull=False)
    other = Trade.objects.filter(reversal__isnull=True).first()
    # The reversal is moved to a trade it does not undo.
    Trade.objects.filter(pk=reversed_trade.pk).update(reversal=None)
    Trade.objects.filter(pk=other.pk).update(reversal=reversed_trade.reversal_id)

    result = reconcile(market=trading_day)

    assert codes(result) == {"reversal_missing", "reversal_without_trade"}
    missing = next(f for f in result.findings if f.code == "reversal_missing")
    assert missing.ids == (other.pk,)


# The command


def run_reconcile(*args) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("reconcile", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_the_command_prints_the_figures_of_a_clean_day(trading_day):
    output = run_reconcile("--market", trading_day.code)

    assert f"Reconciliation of {business_today().isoformat()}" in output
    assert f"Book {trading_day.name} ({trading_day.book.code})" in output
    assert "✓ Trial balance: debits" in output
    assert "✓ Balances equal postings" in output
    assert "✓ Trades against settlement entries" in output
    assert "✓ Reversals: trades reversed 1, reversal entries 1" in output
    assert "✗" not in output
    assert output.rstrip().endswith("The ledger reconciles.")


def test_the_command_fails_on_a_finding_and_says_which(trading_day):
    card = markets.settlement_account(Trade.objects.first().buyer)
    BalanceSlot.objects.filter(account=card).update(amount=F("amount") - 100)
    out = StringIO()

    with translation.override("en"), pytest.raises(CommandError) as failure:
        call_command("reconcile", stdout=out, no_color=True)

    assert failure.value.returncode == 1
    output = out.getvalue()
    assert "✗ Balances equal postings" in output
    assert "[balance_mismatch]" in output
    assert f"ids: {card.pk}" in output


def test_the_command_refuses_an_unknown_market_and_a_bad_date(db):
    with translation.override("en"), pytest.raises(CommandError, match="no market"):
        call_command("reconcile", "--market", "nowhere", stdout=StringIO())
    with translation.override("en"), pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("reconcile", "--date", "28.11.2026", stdout=StringIO())


def test_the_command_takes_a_date(trading_day):
    yesterday = business_today() - timedelta(days=1)

    output = run_reconcile("--market", trading_day.code, "--date", yesterday.isoformat())

    assert f"Reconciliation of {yesterday.isoformat()}" in output
    assert "The ledger reconciles." in output


# The page


def test_the_operator_sees_his_market_reconciled(trading_day, operator):
    response = page_as(operator).get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert trading_day.name in page
    assert "Everything reconciles for" in page
    assert 'data-check="fail"' not in page
    assert page.count('data-check="ok"') == 8  # four sections, four comparisons
    figures = reconcile(market=trading_day).days[0]
    assert f'<td class="num">{figures.buyers_paid.trades}</td>' in page
    assert f'<td class="num">{figures.commission.entries}</td>' in page
    assert "Top-up" in page
    assert "Reversal" in page


def test_the_page_shows_a_finding(trading_day, operator):
    card = markets.settlement_account(Trade.objects.first().buyer)
    BalanceSlot.objects.filter(account=card).update(amount=F("amount") - 100)

    page = page_as(operator).get(URL).content.decode()

    assert "1 problem found for" in page
    assert page.count('data-check="fail"') == 1
    assert "balance_mismatch" in page
    assert f"account #{card.pk}" in page


def test_the_page_takes_a_date_and_refuses_a_bad_one(trading_day, operator):
    yesterday = business_today() - timedelta(days=1)
    client = page_as(operator)

    response = client.get(URL, {"date": yesterday.isoformat()})
    assert response.status_code == 200
    assert f"Everything reconciles for {yesterday.isoformat()}" in response.content.decode()

    response = client.get(URL, {"date": "yesterday"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid date." in page
    assert f"Everything reconciles for {business_today().isoformat()}" in page


def test_another_markets_operator_sees_only_his_market(trading_day, other_market, other_operator):
    page = page_as(other_operator).get(URL).content.decode()

    assert other_market.name in page
    assert trading_day.name not in page
    assert "No entries this day." in page


def test_the_page_is_for_market_operators_only(trading_day, farmer, market_operator, client):
    assert page_as(farmer).get(URL).status_code == 403
    # An operator who works for no market has nothing to reconcile.
    assert page_as(market_operator).get(URL).status_code == 404
    response = client.get(URL)
    assert response.status_code == 302
    assert "/sign-in/" in response["Location"]


# The API


def test_the_api_gives_the_operator_the_same_figures(trading_day, operator, api_as):
    response = api_as(operator).get(API)

    assert response.status_code == 200
    data = response.json()
    figures = reconcile(market=trading_day)
    day, book = figures.days[0], figures.books[0]
    assert data["market"] == {"code": trading_day.code, "name": trading_day.name}
    assert data["business_date"] == business_today().isoformat()
    assert data["ok"] is True
    assert data["currency"] == "CNY"
    assert data["trial_balance"]["ok"] is True
    assert data["trial_balance"]["debits"] == str(book.debits)
    assert data["trial_balance"]["debits"] == data["trial_balance"]["credits"]
    cash = next(line for line in data["trial_balance"]["lines"] if line["kind"] == "cash")
    assert cash["balance"] == "10000.00"
    assert data["balances"]["ok"] is True
    assert data["balances"]["mismatched"] == 0
    assert data["trades"]["ok"] is True
    assert data["trades"]["count"] == {"trades": 3, "entries": 3, "matches": True}
    assert data["trades"]["buyers_paid"]["trades"] == str(day.buyers_paid.trades)
    assert data["reversals"] == {"ok": True, "trades": 1, "entries": 1}
    assert {m["kind"]: m["count"] for m in data["movements"]} == {
        "top_up": 2,
        "trade": 3,
        "reversal": 1,
    }
    assert data["findings"] == []


def test_the_api_reports_findings_and_takes_a_date(trading_day, operator, api_as):
    card = markets.settlement_account(Trade.objects.first().buyer)
    BalanceSlot.objects.filter(account=card).update(amount=F("amount") - 100)
    yesterday = business_today() - timedelta(days=1)

    data = api_as(operator).get(API, {"date": yesterday.isoformat()}).json()

    assert data["business_date"] == yesterday.isoformat()
    assert data["ok"] is False
    assert data["balances"]["ok"] is False
    assert data["trades"]["count"] == {"trades": 0, "entries": 0, "matches": True}
    (finding,) = data["findings"]
    assert finding["code"] == "balance_mismatch"
    assert finding["check"] == "balances"
    assert finding["severity"] == "error"
    assert finding["ids"] == [card.pk]


def test_the_api_refuses_a_bad_date(trading_day, operator, api_as):
    response = api_as(operator).get(API, {"date": "soon"})

    assert response.status_code == 400
    assert "date" in response.json()


def test_the_api_shows_each_operator_his_own_market(trading_day, other_operator, api_as):
    data = api_as(other_operator).get(API).json()

    assert data["market"]["code"] == "jiangnan"
    assert data["trades"]["count"]["trades"] == 0
    assert data["movements"] == []


def test_the_api_is_for_market_operators_only(
    trading_day, farmer, market_operator, api_as, api_client
):
    assert api_client.get(API).status_code == 401
    assert api_as(market_operator).get(API).status_code == 404
    assert api_as(farmer).get(API).status_code == 403
