"""End of day: sellers paid out (T+0), a statement per trader, the market's daily report; run
twice, or after a crash, it gives what one clean run gives. The last tests run it in a real
Celery worker, through the Redis broker."""

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from moneyed import Money

from accounts.choices import Role
from common.dates import BUSINESS_TIME_ZONE, business_today
from config.celery import app
from farms.models import Product
from marketplace.exceptions import BusinessDayClosed, NotMarketStaff
from marketplace.markets import end_of_day, funding
from marketplace.markets import services as markets
from marketplace.markets import trades as counter_trades
from marketplace.markets.choices import DayStatus
from marketplace.models import CommissionRule, DailyReport, Market, MarketDay, Statement, Trader
from marketplace.tasks import close_business_day as close_task
from marketplace.tasks import close_business_days
from settlement.choices import EntryKind
from settlement.models import JournalEntry
from settlement.selectors import balance_of
from settlement.tasks import seal_ledger
from tests.accounts.factories import UserFactory
from tests.farms.factories import ProductFactory

PRODUCT = "EOD-NAPA-CABBAGE"  # one product for every market here, so twins read the same
DAY_ONE = date(2026, 3, 9)
DAY_TWO = date(2026, 3, 10)


def at(day: date, hour: int, minute: int = 0):
    """The market's clock at that moment (Asia/Shanghai), frozen."""
    return time_machine.travel(
        datetime.combine(day, time(hour, minute), BUSINESS_TIME_ZONE), tick=False
    )


@dataclass
class Floor:
    """A market at work: a supervisor and a second one who approves her requests, two
    sellers (X, Y), two buyers (A, B)."""

    market: Market
    supervisor: object
    checker: object
    x: Trader
    y: Trader
    a: Trader
    b: Trader
    product: object

    def trade(self, key: str, *, seller: Trader, buyer: Trader, gross, tare, price):
        return counter_trades.settle_trade(
            market=self.market,
            by=self.supervisor,
            buyer_card=buyer.card_number,
            seller_card=seller.card_number,
            product=self.product,
            gross_kg=gross,
            tare_kg=tare,
            unit_price=price,
            idempotency_key=key,
        )

    def top_up(self, key: str, buyer: Trader, amount: str, method: str = "cash"):
        return funding.top_up_card(
            market=self.market,
            by=self.supervisor,
            card_number=buyer.card_number,
            amount=amount,
            method=method,
            idempotency_key=key,
        )

    def reverse(self, trade, key: str):
        return counter_trades.reverse_trade(
            trade_id=trade.pk, by=self.supervisor, reason="录错了", idempotency_key=key
        )

    def close(self, day: date):
        return end_of_day.close_business_day(market=self.market, business_date=day)


def open_floor(code: str, prefix: str) -> Floor:
    """A market with a 1 % buyer / 2 % seller commission (at least ¥1 a side); the card
    numbers start with `prefix` so that twin markets can live side by side."""
    market = markets.create_market(code=code, name=f"市场 {code}", city="北京")
    CommissionRule.objects.create(
        market=market, buyer_pct=Decimal("1"), seller_pct=Decimal("2"), minimum_fee=Decimal("1")
    )
    supervisor = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=supervisor, is_supervisor=True)
    checker = UserFactory(role=Role.MARKET_OPERATOR)
    markets.add_staff(market=market, user=checker, is_supervisor=True)

    def trader(kind: str, name: str, n: int) -> Trader:
        return markets.register_trader(
            market=market, kind=kind, name=name, card_number=f"{prefix}{n:012d}"
        )

    return Floor(
        market=market,
        supervisor=supervisor,
        checker=checker,
        x=trader("seller", "卖家X", 1),
        y=trader("seller", "卖家Y", 2),
        a=trader("buyer", "买家A", 3),
        b=trader("buyer", "买家B", 4),
        product=Product.objects.filter(code=PRODUCT).first()
        or ProductFactory(code=PRODUCT, name_zh="大白菜", name_en="Napa cabbage"),
    )


def play_day_one(floor: Floor) -> dict:
    with at(DAY_ONE, 9):
        floor.top_up("a-1", floor.a, "1000.00")
        floor.top_up("b-1", floor.b, "500.00", method="bank")
        # 98 kg × ¥1.20 = ¥117.60; A pays ¥1.18 more, X gets ¥2.35 less: ¥115.25.
        t1 = floor.trade("t1", seller=floor.x, buyer=floor.a, gross="100", tare="2", price="1.20")
    return {"t1": t1}


def play_day_two(floor: Floor, trades: dict) -> dict:
    """X sells to B and has his day-one trade reversed (he ends up owing the market); Y sells
    twice to A, one of which is reversed the same day; B takes ¥100 back off her card."""
    with at(DAY_TWO, 9):
        # 40 kg × ¥2.00 = ¥80.00: B pays ¥81.00, X gets ¥78.40.
        trades["t2"] = floor.trade(
            "t2", seller=floor.x, buyer=floor.b, gross="40", tare="0", price="2.00"
        )
        floor.reverse(trades["t1"], "r1")
        # 195 kg × ¥3.00 = ¥585.00: A pays ¥590.85, Y gets ¥573.30.
        trades["t3"] = floor.trade(
            "t3", seller=floor.y, buyer=floor.a, gross="200", tare="5", price="3.00"
        )
        # 10 kg × ¥5.00 = ¥50.00: A pays ¥51.00, Y gets ¥49.00; reversed within the hour.
        trades["t4"] = floor.trade(
            "t4", seller=floor.y, buyer=floor.a, gross="10", tare="0", price="5.00"
        )
        floor.reverse(trades["t4"], "r4")
        request = funding.withdraw_from_card(
            market=floor.market,
            by=floor.supervisor,
            card_number=floor.b.card_number,
            amount="100.00",
            method="cash",
            idempotency_key="w1",
        )
        funding.approve_funding_request(
            market=floor.market, by=floor.checker, request_id=request.pk
        )
    return trades


def played_floor(code: str, prefix: str) -> tuple[Floor, dict]:
    """Day one played and closed, day two played and still open."""
    floor = open_floor(code, prefix)
    trades = play_day_one(floor)
    with at(DAY_ONE, 23, 30):
        floor.close(DAY_ONE)
    return floor, play_day_two(floor, trades)


def statement(trader: Trader, day: date) -> Statement:
    return Statement.objects.get(trader=trader, business_date=day)


def kinds_and_amounts(statement: Statement) -> list[tuple[str, str, str, str]]:
    return [
        (line["kind"], line["credit"], line["debit"], line["balance"]) for line in statement.lines
    ]


def payouts(market: Market) -> list[tuple[str, date, Decimal]]:
    """(seller, day, amount) of every payout in the market's book."""
    entries = JournalEntry.objects.filter(book=market.book, kind=EntryKind.PAYOUT)
    return sorted(
        (posting.account.trader.name, entry.business_date, posting.amount.amount)
        for entry in entries
        for posting in entry.postings.select_related("account__trader")
        if posting.account.trader_id
    )


def outcome(market: Market) -> dict:
    """What end of day produced for a market, without ids or clock times, to compare twins."""
    return {
        "statements": sorted(
            (
                s.trader.name,
                s.business_date,
                s.opening_balance,
                s.closing_balance,
                s.trade_count,
                s.volume_kg,
                [
                    {k: v for k, v in line.items() if k not in ("entry", "time", "trade")}
                    for line in s.lines
                ],
            )
            for s in Statement.objects.filter(trader__market=market).select_related("trader")
        ),
        "reports": sorted(
            (
                r.business_date,
                r.trade_count,
                r.reversed_count,
                r.volume_kg,
                r.turnover,
                r.commission,
                r.top_ups,
                r.payouts,
                r.withdrawals,
            )
            for r in DailyReport.objects.filter(market=market)
        ),
        "payouts": payouts(market),
        "days": sorted(
            MarketDay.objects.filter(market=market).values_list("business_date", "status")
        ),
    }


def snapshot(market: Market) -> dict:
    """Rows as stored, ids and all: a rerun must leave them exactly so."""
    return {
        "statements": list(Statement.objects.filter(trader__market=market).order_by("pk").values()),
        "reports": list(DailyReport.objects.filter(market=market).order_by("pk").values()),
        "entries": list(
            JournalEntry.objects.filter(book=market.book)
            .order_by("pk")
            .values_list("pk", "kind", "business_date")
        ),
        "days": list(MarketDay.objects.filter(market=market).order_by("pk").values()),
    }


# --- One clean run -------------------------------------------------------------------------


@pytest.mark.django_db
def test_day_one_pays_the_seller_out_and_writes_statements_and_report():
    floor = open_floor("one", "61")
    play_day_one(floor)

    with at(DAY_ONE, 23, 30):
        report = floor.close(DAY_ONE)

    assert MarketDay.objects.get(market=floor.market, business_date=DAY_ONE).status == "closed"
    assert payouts(floor.market) == [("卖家X", DAY_ONE, Decimal("115.25"))]
    assert balance_of(markets.settlement_account(floor.x)) == Money("0.00", "CNY")
    x = statement(floor.x, DAY_ONE)
    assert (x.opening_balance, x.closing_balance) == (Money(0, "CNY"), Money(0, "CNY"))
    assert kinds_and_amounts(x) == [
        ("trade", "115.25", "", "115.25"),
        ("payout", "", "115.25", "0.00"),
    ]
    assert (x.trade_count, x.volume_kg) == (1, Decimal("98.000"))
    a = statement(floor.a, DAY_ONE)
    assert kinds_and_amounts(a) == [
        ("top_up", "1000.00", "", "1000.00"),
        ("trade", "", "118.78", "881.22"),
    ]
    assert a.closing_balance == Money("881.22", "CNY")
    assert statement(floor.b, DAY_ONE).closing_balance == Money("500.00", "CNY")
    # Y neither traded nor is owed anything: no statement.
    assert not Statement.objects.filter(trader=floor.y).exists()
    assert (report.trade_count, report.reversed_count, report.volume_kg) == (
        1,
        0,
        Decimal("98.000"),
    )
    assert report.turnover == Money("117.60", "CNY")
    assert report.commission == Money("3.53", "CNY")
    assert report.top_ups == Money("1500.00", "CNY")
    assert report.payouts == Money("115.25", "CNY")
    assert report.withdrawals == Money("0.00", "CNY")


@pytest.mark.django_db
def test_day_two_with_reversals_and_a_withdrawal():
    floor, _ = played_floor("two", "62")

    with at(DAY_TWO, 23, 30):
        report = floor.close(DAY_TWO)

    # X's day-one trade was reversed after he was paid: he owes the market ¥115.25 less
    # today's ¥78.40, so he is paid nothing. Y is paid her standing trade, not the reversed one.
    assert payouts(floor.market) == [
        ("卖家X", DAY_ONE, Decimal("115.25")),
        ("卖家Y", DAY_TWO, Decimal("573.30")),
    ]
    for entry in JournalEntry.objects.filter(book=floor.market.book, kind=EntryKind.PAYOUT):
        assert entry.seal_seq is not None
    x = statement(floor.x, DAY_TWO)
    assert kinds_and_amounts(x) == [
        ("trade", "78.40", "", "78.40"),
        ("reversal", "", "115.25", "-36.85"),
    ]
    assert (x.opening_balance, x.closing_balance) == (Money(0, "CNY"), Money("-36.85", "CNY"))
    assert (x.trade_count, x.volume_kg) == (1, Decimal("40.000"))
    y = statement(floor.y, DAY_TWO)
    assert kinds_and_amounts(y) == [
        ("trade", "573.30", "", "573.30"),
        ("trade", "49.00", "", "622.30"),
        ("reversal", "", "49.00", "573.30"),
        ("payout", "", "573.30", "0.00"),
    ]
    assert (y.trade_count, y.volume_kg) == (1, Decimal("195.000"))
    assert y.lines[1]["product"] == floor.product.name_zh
    assert y.lines[2]["trade"] == y.lines[1]["trade"]  # the reversal names the trade it undid
    a = statement(floor.a, DAY_TWO)
    assert a.opening_balance == Money("881.22", "CNY")
    assert kinds_and_amounts(a) == [
        ("reversal", "118.78", "", "1000.00"),
        ("trade", "", "590.85", "409.15"),
        ("trade", "", "51.00", "358.15"),
        ("reversal", "51.00", "", "409.15"),
    ]
    assert a.closing_balance == balance_of(markets.settlement_account(floor.a))
    assert (a.trade_count, a.volume_kg) == (1, Decimal("195.000"))
    b = statement(floor.b, DAY_TWO)
    assert (b.opening_balance, b.closing_balance) == (
        Money("500.00", "CNY"),
        Money("319.00", "CNY"),
    )
    assert [line["kind"] for line in b.lines] == ["trade", "withdrawal"]

    # Standing trades of the day: t2 and t3; reversed that day: t1 (of day one) and t4.
    assert (report.trade_count, report.reversed_count) == (2, 2)
    # What the day booked net of the day's reversals: 40 + 195 + 10 − 98 − 10 kg, …
    assert report.volume_kg == Decimal("137.000")
    assert report.turnover == Money("547.40", "CNY")  # 80 + 585 + 50 − 117.60 − 50
    # … which for the commission is what the ledger's commission account earned that day.
    assert report.commission == Money("16.62", "CNY")
    assert report.top_ups == Money("0.00", "CNY")
    assert report.payouts == Money("573.30", "CNY")
    assert report.withdrawals == Money("100.00", "CNY")


@pytest.mark.django_db
def test_a_closed_day_refuses_trades_top_ups_and_reversals():
    floor, trades = played_floor("shut", "63")
    with at(DAY_TWO, 23, 30):
        floor.close(DAY_TWO)

        with pytest.raises(BusinessDayClosed):
            floor.trade("late", seller=floor.y, buyer=floor.a, gross="5", tare="0", price="1")
        with pytest.raises(BusinessDayClosed):
            floor.top_up("late-top-up", floor.a, "10.00")
        with pytest.raises(BusinessDayClosed):
            floor.reverse(trades["t3"], "late-reversal")

    assert not JournalEntry.objects.filter(
        book=floor.market.book, idempotency_key__contains="late"
    ).exists()


@pytest.mark.django_db
def test_running_end_of_day_again_changes_nothing():
    floor, _ = played_floor("twice", "64")
    with at(DAY_TWO, 23, 30):
        floor.close(DAY_TWO)
    before = snapshot(floor.market)

    with at(DAY_TWO, 23, 45):
        again = floor.close(DAY_TWO)
        floor.close(DAY_ONE)

    assert snapshot(floor.market) == before
    assert again.pk == DailyReport.objects.get(market=floor.market, business_date=DAY_TWO).pk


# --- Crashes -------------------------------------------------------------------------------


class WorkerKilled(Exception):
    """Stands in for a worker killed halfway through end of day."""


def fail_on_second_call(monkeypatch, name: str) -> None:
    """Make end_of_day.<name> (our own step) fail the second time it is called."""
    real = getattr(end_of_day, name)
    calls = []

    def step(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise WorkerKilled(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(end_of_day, name, step)


@pytest.mark.parametrize("failing_step", ["pay_out_seller", "write_statement"])
@pytest.mark.django_db
def test_a_rerun_after_a_crash_gives_what_a_clean_run_gives(monkeypatch, failing_step):
    clean, _ = played_floor("clean", "65")
    crashed, _ = played_floor("crashed", "66")
    with at(DAY_TWO, 23, 30):
        clean.close(DAY_TWO)

        with monkeypatch.context() as patch:
            fail_on_second_call(patch, failing_step)
            with pytest.raises(WorkerKilled):
                crashed.close(DAY_TWO)

        # The crash left the day half-closed: it takes no trades, and lacks some of its work.
        day = MarketDay.objects.get(market=crashed.market, business_date=DAY_TWO)
        assert day.status == DayStatus.CLOSING
        with pytest.raises(BusinessDayClosed):
            crashed.trade("late", seller=crashed.y, buyer=crashed.a, gross="5", tare="0", price="1")
        assert outcome(crashed.market) != outcome(clean.market)

    with at(DAY_TWO, 23, 50):
        crashed.close(DAY_TWO)

    assert outcome(crashed.market) == outcome(clean.market)


@pytest.mark.django_db
def test_a_missed_night_is_closed_first_and_pays_only_its_own_days_trades():
    floor = open_floor("missed", "67")
    play_day_one(floor)  # …and no end of day that night.
    with at(DAY_TWO, 9):
        floor.trade("t2", seller=floor.x, buyer=floor.b, gross="40", tare="0", price="2.00")
        # An operator closes day one late, in the middle of day two.
        floor.close(DAY_ONE)

    assert MarketDay.objects.get(market=floor.market, business_date=DAY_ONE).status == "closed"
    assert MarketDay.objects.get(market=floor.market, business_date=DAY_TWO).status == "open"
    # Day one's payout is day one's trade only; day two's ¥78.40 waits for day two.
    assert payouts(floor.market) == [("卖家X", DAY_ONE, Decimal("115.25"))]
    assert statement(floor.x, DAY_ONE).closing_balance == Money("0.00", "CNY")

    with at(DAY_TWO, 23, 30):
        floor.close(DAY_TWO)
    assert payouts(floor.market)[-1] == ("卖家X", DAY_TWO, Decimal("78.40"))
    x = statement(floor.x, DAY_TWO)
    assert (x.opening_balance, x.closing_balance) == (Money(0, "CNY"), Money(0, "CNY"))


@pytest.mark.django_db
def test_closing_a_day_closes_the_earlier_days_left_open_first():
    floor = open_floor("behind", "68")
    play_day_one(floor)
    with at(DAY_TWO, 9):
        floor.trade("t2", seller=floor.x, buyer=floor.b, gross="40", tare="0", price="2.00")

    with at(DAY_TWO, 23, 30):
        floor.close(DAY_TWO)

    assert list(
        MarketDay.objects.filter(market=floor.market)
        .order_by("business_date")
        .values_list("business_date", "status")
    ) == [(DAY_ONE, "closed"), (DAY_TWO, "closed")]
    assert payouts(floor.market) == [
        ("卖家X", DAY_ONE, Decimal("115.25")),
        ("卖家X", DAY_TWO, Decimal("78.40")),
    ]
    assert statement(floor.b, DAY_TWO).opening_balance == Money("500.00", "CNY")


@pytest.mark.django_db
def test_only_a_supervisor_of_the_market_may_close_its_day(operator, other_operator, market):
    with pytest.raises(NotMarketStaff):
        end_of_day.close_business_day(market=market, business_date=business_today(), by=operator)
    with pytest.raises(NotMarketStaff):
        end_of_day.start_closing(market=market, business_date=business_today(), by=other_operator)
    assert not MarketDay.objects.filter(market=market).exists()


# --- A trade in flight while end of day begins ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_trade_in_flight_lands_before_the_payouts_and_a_later_one_is_refused(monkeypatch):
    """The trade holds the day's row FOR SHARE while it posts; end of day's FOR UPDATE waits
    for it, so its credit is in the seller's payout; a trade after that is refused."""
    floor = open_floor("flight", "69")
    today = business_today()
    floor.top_up("a-1", floor.a, "1000.00")
    posting = threading.Event()
    go_on = threading.Event()
    real_post_entry = counter_trades.post_entry_with_row

    def slow_post_entry(**kwargs):
        if kwargs["kind"] == EntryKind.TRADE:
            posting.set()
            assert go_on.wait(timeout=30)
        return real_post_entry(**kwargs)

    monkeypatch.setattr(counter_trades, "post_entry_with_row", slow_post_entry)
    results = {}

    def in_thread(name, work):
        def run():
            try:
                results[name] = work()
            except Exception as error:  # handed to the test thread
                results[name] = error
            finally:
                connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    trade = in_thread(
        "trade",
        lambda: floor.trade(
            "t1", seller=floor.x, buyer=floor.a, gross="100", tare="2", price="1.20"
        ),
    )
    assert posting.wait(timeout=30)  # the trade holds the day FOR SHARE and is posting
    closing = in_thread("close", lambda: floor.close(today))
    wait_until_blocked_on_a_lock()
    go_on.set()
    trade.join(timeout=60)
    closing.join(timeout=60)

    assert not isinstance(results["trade"], Exception), results["trade"]
    assert not isinstance(results["close"], Exception), results["close"]
    assert payouts(floor.market) == [("卖家X", today, Decimal("115.25"))]
    assert statement(floor.x, today).trade_count == 1
    with pytest.raises(BusinessDayClosed):
        floor.trade("t2", seller=floor.x, buyer=floor.a, gross="10", tare="0", price="1.20")


def wait_until_blocked_on_a_lock() -> None:
    """Until another session of this database waits for a row lock (end of day's FOR UPDATE)."""
    with connection.cursor() as cursor:
        for _ in range(600):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            threading.Event().wait(0.05)
    raise AssertionError("end of day never waited for the trade's lock")


# --- Which days the nightly run closes -----------------------------------------------------


@pytest.mark.django_db
def test_the_nightly_run_closes_today_from_end_of_day_time_and_earlier_days_left_open(settings):
    settings.MARKET_END_OF_DAY = time(23, 30)
    floor = open_floor("sweep", "70")
    quiet = markets.create_market(code="quiet", name="安静市场", city="上海")
    play_day_one(floor)
    MarketDay.objects.create(
        market=floor.market, business_date=DAY_ONE - timedelta(days=3), status=DayStatus.CLOSED
    )

    with at(DAY_TWO, 23, 29):
        before_time = end_of_day.days_to_close()
    with at(DAY_TWO, 23, 30):
        on_time = end_of_day.days_to_close()
    with at(DAY_TWO + timedelta(days=1), 0, 10):  # a worker that picked the task up late
        late = end_of_day.days_to_close()

    due = end_of_day.DayToClose
    assert before_time == [
        due(floor.market.pk, DAY_ONE),
        due(quiet.pk, DAY_ONE),
    ]
    assert on_time == [
        due(floor.market.pk, DAY_ONE),
        due(floor.market.pk, DAY_TWO),
        due(quiet.pk, DAY_TWO),
    ]
    assert late == on_time


def test_end_of_day_and_sealing_are_on_the_beat_schedule(settings):
    closing = app.conf.beat_schedule["close-business-days"]
    assert closing["task"] == "marketplace.close_business_days"
    at_time = settings.MARKET_END_OF_DAY  # 23:30 unless the environment says otherwise
    assert closing["schedule"].hour == {at_time.hour}
    assert closing["schedule"].minute == {at_time.minute}
    sealing = app.conf.beat_schedule["seal-ledger"]
    assert sealing["task"] == "marketplace.seal_ledger"
    assert sealing["schedule"].minute == set(range(60))
    for task in ("marketplace.close_business_days", "marketplace.close_business_day"):
        assert task in app.tasks


# --- The command ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_closes_a_day_and_says_what_it_did(capsys):
    floor = open_floor("cmd", "71")
    play_day_one(floor)

    with at(DAY_TWO, 9):
        call_command("close_business_day", "--market", "cmd", "--date", DAY_ONE.isoformat())
        call_command("close_business_day", "--market", "cmd", "--date", DAY_ONE.isoformat())

    out = capsys.readouterr().out.splitlines()
    assert out[:2] == out[2:]
    assert out[0] == (
        "cmd 2026-03-09: closed. trades 1 (reversed 0), volume 98.000 kg, turnover 117.60, "
        "commission 3.53, top-ups 1500.00, payouts 115.25, withdrawals 0.00 (CNY)."
    )
    # Nobody counted a drawer: both supervisors' counts are missing.
    missing = sorted([floor.supervisor.username, floor.checker.username])
    assert out[1] == (
        f"cash drawers: 0 counted, difference 0.00 (CNY); count missing: {', '.join(missing)}."
    )
    assert payouts(floor.market) == [("卖家X", DAY_ONE, Decimal("115.25"))]


@pytest.mark.django_db
def test_the_command_without_a_date_closes_the_day_due(capsys, settings):
    settings.MARKET_END_OF_DAY = time(23, 30)
    floor = open_floor("due", "72")
    play_day_one(floor)

    with at(DAY_TWO, 8):  # before end of day time: yesterday's day is the one due
        call_command("close_business_day", "--market", "due")

    assert "due 2026-03-09: closed." in capsys.readouterr().out
    assert not MarketDay.objects.filter(market=floor.market, business_date=DAY_TWO).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--market", "nowhere"], "No market has the code 'nowhere'."),
        (["--market", "xinfadi", "--date", "2026-02-30"], "--date must be YYYY-MM-DD"),
        (["--market", "xinfadi", "--date", "2999-01-01"], "2999-01-01 has not begun yet."),
    ],
)
def test_the_command_refuses_bad_input(market, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("close_business_day", *arguments)


# --- In a real Celery worker ---------------------------------------------------------------


def worker_floor(code: str, prefix: str) -> Floor:
    """Today's trading (a real worker runs on the real clock): top-ups, three trades, one
    reversed."""
    floor = open_floor(code, prefix)
    floor.top_up("a-1", floor.a, "1000.00")
    floor.top_up("b-1", floor.b, "500.00", method="bank")
    floor.trade("t1", seller=floor.x, buyer=floor.a, gross="100", tare="2", price="1.20")
    t2 = floor.trade("t2", seller=floor.y, buyer=floor.b, gross="40", tare="0", price="2.00")
    floor.trade("t3", seller=floor.y, buyer=floor.a, gross="200", tare="5", price="3.00")
    floor.reverse(t2, "r2")
    return floor


def close_in_worker(floor: Floor) -> dict:
    return close_task.delay(floor.market.pk, business_today().isoformat()).get(timeout=60)


@pytest.mark.django_db(transaction=True)
def test_worker_closes_the_day_and_a_second_run_changes_nothing(celery_worker_live):
    floor = worker_floor("w-twice", "73")

    first = close_in_worker(floor)
    stored = snapshot(floor.market)
    second = close_in_worker(floor)

    assert first == second
    assert snapshot(floor.market) == stored
    assert payouts(floor.market) == [
        ("卖家X", business_today(), Decimal("115.25")),
        ("卖家Y", business_today(), Decimal("573.30")),
    ]
    assert Statement.objects.filter(trader__market=floor.market).count() == 4


@pytest.mark.django_db(transaction=True)
def test_worker_rerun_after_a_crash_gives_the_clean_runs_statements(
    celery_worker_live, monkeypatch
):
    clean = worker_floor("w-clean", "74")
    crashed = worker_floor("w-crash", "75")
    close_in_worker(clean)

    # The worker runs in this process, so it sees the injected fault.
    with monkeypatch.context() as patch:
        fail_on_second_call(patch, "write_statement")
        with pytest.raises(WorkerKilled):
            close_in_worker(crashed)
    day = MarketDay.objects.get(market=crashed.market, business_date=business_today())
    assert day.status == DayStatus.CLOSING
    assert Statement.objects.filter(trader__market=crashed.market).count() == 1
    assert len(payouts(crashed.market)) == 2  # every payout committed before the crash

    close_in_worker(crashed)

    assert outcome(crashed.market) == outcome(clean.market)
    assert MarketDay.objects.get(pk=day.pk).status == DayStatus.CLOSED


@pytest.mark.django_db(transaction=True)
def test_worker_nightly_sweep_closes_today_and_finishes_a_crashed_day(celery_worker_live, settings):
    settings.MARKET_END_OF_DAY = time(0, 0)  # whatever the clock says, today is due
    floor = worker_floor("w-sweep", "76")
    yesterday = business_today() - timedelta(days=1)
    MarketDay.objects.create(market=floor.market, business_date=yesterday, status=DayStatus.CLOSING)

    queued = close_business_days.delay().get(timeout=60)
    for task in queued:
        app.AsyncResult(task["task_id"]).get(timeout=60)
    again = close_business_days.delay().get(timeout=60)
    for task in again:
        app.AsyncResult(task["task_id"]).get(timeout=60)

    assert [(task["market"], task["business_date"]) for task in queued] == [
        (floor.market.pk, yesterday.isoformat()),
        (floor.market.pk, business_today().isoformat()),
    ]
    assert [(task["market"], task["business_date"]) for task in again] == [
        (floor.market.pk, business_today().isoformat())
    ]
    assert set(
        MarketDay.objects.filter(market=floor.market).values_list("business_date", "status")
    ) == {(yesterday, DayStatus.CLOSED), (business_today(), DayStatus.CLOSED)}
    assert len(payouts(floor.market)) == 2
    assert seal_ledger.delay().get(timeout=60) == 0  # end of day sealed its own entries
