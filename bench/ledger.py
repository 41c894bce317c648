"""bench/ledger: counter trades settled through the ledger, beside plain SQL of the same rows.

A market of its own in the benchmark database, with its commission rule (1 % / 1.5 %,
minimum ¥1, so every trade has three legs: buyer, seller, the market's commission revenue)
and one buyer and one seller per client, the buyers' cards funded generously.

- service, 1 client: `settle_trade` (the real service: staff check, cards, weights,
  commission, the day's row FOR SHARE, the ledger's ordered slot locks, entry, postings,
  trade) in a loop for BENCH_SECONDS.
- service, 4 clients: 4 processes, each with Django and its own connection, on the SAME
  market, so they share its commission revenue account (spread over balance slots); each
  has its own buyer and seller.
- raw, 1 client: psycopg without Django writes the same rows per trade in one transaction:
  the journal entry, its three postings, the trade, and the three balance-slot UPDATEs.

The raw rows are real ledger rows (balanced, with their balances moved), so the book still
reconciles afterwards; the benchmark checks that. Targets: trades_per_s / raw_per_s >= 0.5,
and 4 clients faster than 1.
"""

import hashlib
import json
import multiprocessing
import os
import queue
import random
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.choices import Role  # noqa: E402
from accounts.models import User  # noqa: E402
from bench.support import report  # noqa: E402
from common.dates import business_today  # noqa: E402
from farms.catalogue import read_catalogue  # noqa: E402
from farms.models import Product  # noqa: E402
from farms.services.catalogue import load_product_catalogue  # noqa: E402
from marketplace.markets import services as markets  # noqa: E402
from marketplace.markets import trades as counter_trades  # noqa: E402
from marketplace.markets.choices import DayStatus, TraderKind  # noqa: E402
from marketplace.models import CommissionRule, Market, MarketDay, Trader  # noqa: E402
from settlement.accounts import book_account  # noqa: E402
from settlement.choices import AccountKind  # noqa: E402
from settlement.funding import top_up  # noqa: E402
from settlement.selectors import balance_of  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = 4
WARMUP = 30  # trades per client before the clock starts
MARKET_CODE = "bench-ledger"
OPERATOR = "bench.ledger.operator"
PRODUCT = "VEG-CHINESE-CABBAGE"
RAW_PAIR = CLIENTS  # the raw client's buyer and seller: the pair after the service clients'
FUNDING = Decimal("50000000.00")  # per top-up; a buyer below a fifth of it is topped up again
BUYER_PCT, SELLER_PCT, MINIMUM_FEE = Decimal("1.00"), Decimal("1.50"), Decimal("1.00")


def buyer_card(pair: int) -> str:
    return f"629900000000{pair:04d}"


def seller_card(pair: int) -> str:
    return f"629800000000{pair:04d}"


# --- The market, its people and money -------------------------------------------------------


def build_market() -> Market:
    """The benchmark's market with its operator, rule and traders; buyers funded. Idempotent."""
    load_product_catalogue(entries=read_catalogue())
    market = Market.objects.filter(code=MARKET_CODE).first() or markets.create_market(
        code=MARKET_CODE, name="基准测试批发市场", city="北京"
    )
    operator, _ = User.objects.get_or_create(
        username=OPERATOR, defaults={"role": Role.MARKET_OPERATOR, "password": "!"}
    )
    markets.add_staff(market=market, user=operator, is_supervisor=True)
    CommissionRule.objects.update_or_create(
        market=market,
        category="",
        defaults={"buyer_pct": BUYER_PCT, "seller_pct": SELLER_PCT, "minimum_fee": MINIMUM_FEE},
    )
    for pair in range(CLIENTS + 1):
        for kind, card, name in (
            (TraderKind.BUYER, buyer_card(pair), f"基准买家{pair}"),
            (TraderKind.SELLER, seller_card(pair), f"基准卖家{pair}"),
        ):
            trader = Trader.objects.filter(card_number=card).first()
            if trader is None:
                trader = markets.register_trader(
                    market=market, kind=kind, name=name, card_number=card
                )
            if kind == TraderKind.BUYER:
                account = markets.settlement_account(trader)
                if balance_of(account).amount < FUNDING / 5:
                    top_up(
                        account=account,
                        amount=FUNDING,
                        method="bank",
                        by=operator,
                        idempotency_key=f"bench-funding-{uuid.uuid4().hex}",
                    )
    day, _ = MarketDay.objects.get_or_create(market=market, business_date=business_today())
    if day.status != DayStatus.OPEN:
        raise SystemExit(f"today's business day of {MARKET_CODE} is {day.status}; cannot trade")
    return market


def trade_arguments(market: Market, operator: User, pair: int, run: str, n: int) -> dict:
    """The n-th counter trade of a client: 20–79 kg gross of cabbage at ¥1.10–1.49/kg."""
    return {
        "market": market,
        "by": operator,
        "buyer_card": buyer_card(pair),
        "seller_card": seller_card(pair),
        "product": PRODUCT,
        "gross_kg": f"{20 + n % 60}.{n % 1000:03d}",
        "tare_kg": "1.500",
        "unit_price": f"1.{10 + n % 40}",
        "idempotency_key": f"{run}-{pair}-{n}",
    }


# --- Service clients ------------------------------------------------------------------------


def settle_for(
    pair: int, run: str, seconds: float, barrier=None
) -> tuple[int, float, float, float]:
    """Settle trades through the service for `seconds` after a warm-up; (count, start, end,
    this process's CPU seconds)."""
    market = Market.objects.select_related("book").get(code=MARKET_CODE)
    operator = User.objects.get(username=OPERATOR)
    for n in range(WARMUP):
        counter_trades.settle_trade(**trade_arguments(market, operator, pair, f"{run}-warm", n))
    if barrier is not None:
        barrier.wait()
    started, cpu = time.monotonic(), time.process_time()
    deadline = started + seconds
    count = 0
    while True:
        counter_trades.settle_trade(**trade_arguments(market, operator, pair, run, count))
        count += 1
        if count % 10 == 0 and time.monotonic() >= deadline:
            break
    return count, started, time.monotonic(), time.process_time() - cpu


def _client(pair: int, run: str, seconds: float, barrier, results) -> None:
    """One of the concurrent clients, in its own process (Django set up by this module)."""
    results.put((pair, *settle_for(pair, run, seconds, barrier)))
    connections.close_all()


def settle_concurrently(run: str, seconds: float) -> tuple[int, float]:
    """CLIENTS processes settle at once; (trades, wall seconds from common start to last end)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(CLIENTS + 1)  # the clients, and this process to start looking
    results = context.Queue()
    processes = [
        context.Process(target=_client, args=(pair, run, seconds, barrier, results))
        for pair in range(CLIENTS)
    ]
    for process in processes:
        process.start()
    # While they run, look at what their sessions wait for: a lock (another settlement holding
    # a row they need) or anything else (the WAL flush, the CPU).
    outcomes, samples, waits = [], 0, Counter()
    barrier.wait(timeout=300)
    give_up = time.monotonic() + seconds + 300
    with _connect() as probe:
        while len(outcomes) < CLIENTS:
            try:
                outcomes.append(results.get(timeout=0.05))
                continue
            except queue.Empty:
                pass
            if time.monotonic() > give_up or any(p.exitcode for p in processes):
                raise SystemExit("a client process failed or hung")
            samples += 1
            for wait_type, wait_event in probe.execute(WAITS).fetchall():
                waits[f"{wait_type}:{wait_event}"] += 1
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise SystemExit(f"a client process failed (exit code {process.exitcode})")
    started = min(o[2] for o in outcomes)
    ended = max(o[3] for o in outcomes)
    for pair, count, start, end, _cpu in sorted(outcomes):
        print(f"  client {pair}: {count} trades, {count / (end - start):7.1f} trades/s")
    seen = ", ".join(f"{name} {n / samples:.2f}" for name, n in waits.most_common(5))
    print(f"  sessions waiting in PostgreSQL, on average over {samples} looks: {seen or 'none'}")
    return sum(o[1] for o in outcomes), ended - started


# What the benchmark's other sessions wait on at this instant (active ones only).
WAITS = """
SELECT wait_event_type, wait_event FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'
   AND wait_event_type IS NOT NULL
"""


def _connect() -> psycopg.Connection:
    """A plain psycopg connection to the benchmark database, in autocommit (transactions are
    explicit)."""
    db = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
        autocommit=True,
    )


# --- The raw limit --------------------------------------------------------------------------

RAW_ENTRY = """
INSERT INTO marketplace_journalentry
    (book_id, kind, memo, business_date, created_at, created_by_id, reference, reverses_id,
     idempotency_key, request_hash, content_hash, chain_hash)
VALUES (%s, 'trade', %s, %s, %s, %s, '', NULL, %s, %s, %s, '')
RETURNING id
"""
RAW_POSTINGS = """
INSERT INTO marketplace_posting (entry_id, account_id, slot, amount, amount_currency)
VALUES (%s, %s, %s, %s, 'CNY'), (%s, %s, %s, %s, 'CNY'), (%s, %s, %s, %s, 'CNY')
"""
RAW_TRADE = """
INSERT INTO marketplace_trade
    (market_id, business_date, seller_id, buyer_id, product_id, lot_id, gross_kg, tare_kg,
     net_kg, unit_price, unit_price_currency, amount, amount_currency, buyer_fee,
     buyer_fee_currency, seller_fee, seller_fee_currency, entry_id, recorded_by_id,
     recorded_at, reversal_id, reversal_reason)
VALUES (%s, %s, %s, %s, %s, NULL, %s, %s, %s, %s, 'CNY', %s, 'CNY', %s, 'CNY', %s, 'CNY',
        %s, %s, %s, NULL, '')
"""
RAW_BALANCES = """
UPDATE marketplace_balanceslot AS b SET amount = b.amount + d.delta
  FROM (VALUES (%s::bigint, %s::int, %s::numeric), (%s, %s, %s), (%s, %s, %s))
       AS d(account_id, slot, delta)
 WHERE b.account_id = d.account_id AND b.slot = d.slot
"""
CENT = Decimal("0.01")


def _fee(amount: Decimal, pct: Decimal) -> Decimal:
    return max((amount * pct / 100).quantize(CENT), MINIMUM_FEE)


def raw_for(market: Market, run: str, seconds: float) -> tuple[int, float, float]:
    """The same rows as settle_trade writes, by hand, one transaction per trade."""
    operator = User.objects.get(username=OPERATOR)
    product = Product.objects.get(code=PRODUCT)
    buyer = Trader.objects.get(card_number=buyer_card(RAW_PAIR))
    seller = Trader.objects.get(card_number=seller_card(RAW_PAIR))
    buyer_account = markets.settlement_account(buyer).pk
    seller_account = markets.settlement_account(seller).pk
    commission = book_account(market.book, AccountKind.COMMISSION)
    today = business_today()
    with _connect() as conn:

        def one(n: int, key: str) -> None:
            gross = Decimal(f"{20 + n % 60}.{n % 1000:03d}")
            tare = Decimal("1.500")
            net = gross - tare
            price = Decimal(f"1.{10 + n % 40}")
            amount = (net * price).quantize(CENT)
            buyer_fee, seller_fee = _fee(amount, BUYER_PCT), _fee(amount, SELLER_PCT)
            legs = (
                (buyer_account, 0, amount + buyer_fee),
                (seller_account, 0, -(amount - seller_fee)),
                (commission.pk, random.randrange(commission.slots), -(buyer_fee + seller_fee)),
            )
            now = timezone.now()
            digest = hashlib.sha256(
                json.dumps([key, str(now), [list(map(str, leg)) for leg in legs]]).encode()
            ).hexdigest()
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute(
                    RAW_ENTRY,
                    [market.book_id, f"大白菜 {net} kg × {price}", today, now, operator.pk,
                     key, digest, digest],
                )  # fmt: skip
                entry_id = cursor.fetchone()[0]
                cursor.execute(RAW_POSTINGS, [v for leg in legs for v in (entry_id, *leg)])
                cursor.execute(
                    RAW_TRADE,
                    [market.pk, today, seller.pk, buyer.pk, product.pk, gross, tare, net, price,
                     amount, buyer_fee, seller_fee, entry_id, operator.pk, now],
                )  # fmt: skip
                cursor.execute(RAW_BALANCES, [v for leg in sorted(legs) for v in leg])

        for n in range(WARMUP):
            one(n, f"trade:{market.pk}:{run}-raw-warm-{n}")
        started, cpu = time.monotonic(), time.process_time()
        deadline = started + seconds
        count = 0
        while True:
            one(count, f"trade:{market.pk}:{run}-raw-{count}")
            count += 1
            if count % 10 == 0 and time.monotonic() >= deadline:
                break
        return count, time.monotonic() - started, time.process_time() - cpu


# --- Checks and profile ---------------------------------------------------------------------


def check_book(market: Market) -> None:
    """Every slot equals its postings and the book sums to zero, after all the runs."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE s.amount <> coalesce(p.total, 0)), sum(s.amount)
              FROM marketplace_balanceslot s
              JOIN marketplace_account a ON a.id = s.account_id
              LEFT JOIN (SELECT account_id, slot, sum(amount) AS total FROM marketplace_posting
                          GROUP BY account_id, slot) p
                     ON p.account_id = s.account_id AND p.slot = s.slot
             WHERE a.book_id = %s
            """,
            [market.book_id],
        )
        mismatched, total = cursor.fetchone()
    if mismatched or total != 0:
        raise SystemExit(f"the book does not reconcile: {mismatched} slots differ, sum {total}")
    print("book reconciles: every balance slot equals its postings, the book sums to zero")


def profile_one(market: Market, run: str) -> int:
    """The statements one settlement sends, printed; returns their count."""
    operator = User.objects.get(username=OPERATOR)
    with CaptureQueriesContext(connection) as captured:
        counter_trades.settle_trade(**trade_arguments(market, operator, 0, f"{run}-profile", 0))
    print(f"one settlement sends {len(captured.captured_queries)} statements:")
    for query in captured.captured_queries:
        print(f"  {query['time']:>6}s  {' '.join(query['sql'].split())[:110]}")
    return len(captured.captured_queries)


def main() -> None:
    market = build_market()
    run = f"{int(time.time())}-{uuid.uuid4().hex[:6]}"
    print(
        f"market {MARKET_CODE}: {CLIENTS + 1} buyer/seller pairs, commission account over "
        f"{book_account(market.book, AccountKind.COMMISSION).slots} slots; "
        f"{SECONDS:g} s per run, {os.cpu_count()} CPUs"
    )

    count, started, ended, cpu = settle_for(0, f"{run}-one", SECONDS)
    single = count / (ended - started)
    print(
        f"service, 1 client : {count:6d} trades in {ended - started:5.1f} s = {single:7.1f}/s"
        f"  ({1000 / single:5.1f} ms a trade, {1000 * cpu / count:5.1f} ms of it Python CPU)"
    )

    raw_count, raw_seconds, raw_cpu = raw_for(market, run, SECONDS)
    raw = raw_count / raw_seconds
    print(
        f"raw SQL, 1 client : {raw_count:6d} trades in {raw_seconds:5.1f} s = {raw:7.1f}/s"
        f"  ({1000 / raw:5.1f} ms a trade, {1000 * raw_cpu / raw_count:5.1f} ms of it Python CPU)"
    )

    connections.close_all()  # the children open their own
    print(f"service, {CLIENTS} clients (processes, same market and commission account):")
    many_count, many_seconds = settle_concurrently(f"{run}-many", SECONDS)
    many = many_count / many_seconds
    print(
        f"service, {CLIENTS} clients: {many_count:6d} trades in {many_seconds:5.1f} s "
        f"= {many:7.1f}/s ({many / single:.2f}× one client)"
    )

    check_book(market)
    profile_one(market, run)
    ratio = single / raw
    print(f"ratio service/raw {ratio:.2f} (target >= 0.5); 4 clients / 1 = {many / single:.2f}")
    report(
        "ledger",
        trades_per_s=round(single, 1),
        trades_per_s_4clients=round(many, 1),
        raw_per_s=round(raw, 1),
        ratio=round(ratio, 3),
    )


if __name__ == "__main__":
    main()
