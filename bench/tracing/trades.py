"""bench/trace's counter trades of the lots, each with its settlement entry: COPY, with the
entries' real content hashes (settlement.chain), balance slots moved with their postings."""

import hashlib
import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from django.db import connection
from django.utils import timezone

from farms.models import Product
from settlement.chain import content_hash

CENT = Decimal("0.01")


def reserve_ids(cursor, table: str, count: int) -> list[int]:
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return [row[0] for row in cursor.fetchall()]


def _fee(amount: Decimal, pct: str) -> Decimal:
    return max((amount * Decimal(pct) / 100).quantize(CENT, ROUND_HALF_UP), Decimal("1.00"))


def write_trades(
    scale, cast: SimpleNamespace, *, lot_ids: list[int], count: int, key: str
) -> list[tuple[int, int, Decimal, object]]:
    """`count` trades of the lots (round robin) at the markets (round robin), each with its
    entry (buyer debited amount + fee, seller credited amount − fee, the market's commission
    revenue credited both fees); returns (trade id, lot id, net kg, recorded at)."""
    now = timezone.now()
    names = dict(Product.objects.values_list("pk", "name_zh"))
    with connection.cursor() as cursor:
        entry_ids = reserve_ids(cursor, "marketplace_journalentry", count)
        trade_ids = reserve_ids(cursor, "marketplace_trade", count)
        entries, postings, trades, deltas, made = [], [], [], {}, []
        for n in range(count):
            m = n % scale.markets
            per_market = scale.buyers_per_market
            buyer, buyer_account = cast.buyers[m * per_market + (n // scale.markets) % per_market]
            seller, seller_account = (cast.sellers if key == "main" else cast.bg_sellers)[m]
            commission, slots = cast.commission[m]
            lot_id = lot_ids[n % len(lot_ids)]
            product_id = cast.lot_products[lot_id]
            net = Decimal(5 + n % 20) + Decimal("0.500")
            tare = Decimal("1.500")
            price = Decimal("1.20") + Decimal(n % 30) / 100
            amount = (net * price).quantize(CENT, ROUND_HALF_UP)
            buyer_fee, seller_fee = _fee(amount, "1.00"), _fee(amount, "1.50")
            at = now - timedelta(minutes=(n * 11) % 20160, seconds=n % 60)
            legs = [
                (buyer_account, 0, amount + buyer_fee),
                (seller_account, 0, -(amount - seller_fee)),
                (commission, n % slots, -(buyer_fee + seller_fee)),
            ]
            entry = SimpleNamespace(
                book_id=cast.books[m], kind="trade", memo=f"{names[product_id]} {net} kg × {price}",
                business_date=timezone.localdate(at), created_at=at, created_by_id=cast.operator.pk,
                reference="", reverses_id=None,
                idempotency_key=f"trade:{cast.market_ids[m]}:trace-{key}-{n}",
            )  # fmt: skip
            entry.request_hash = hashlib.sha256(
                json.dumps([entry.idempotency_key, str(net), str(price)]).encode()
            ).hexdigest()
            entry_id, trade_id = entry_ids[n], trade_ids[n]
            entries.append((
                entry_id, entry.book_id, entry.kind, entry.memo, entry.business_date, at,
                entry.created_by_id, "", None, entry.idempotency_key, entry.request_hash,
                content_hash(entry, legs), "",
            ))  # fmt: skip
            for account, slot, value in legs:
                postings.append((entry_id, account, slot, value, "CNY"))
                deltas[(account, slot)] = deltas.get((account, slot), Decimal("0")) + value
            trades.append((
                trade_id, cast.market_ids[m], entry.business_date, seller, buyer, product_id,
                lot_id, net + tare, tare, net, price, "CNY", amount, "CNY", buyer_fee, "CNY",
                seller_fee, "CNY", entry_id, cast.operator.pk, at, None, "",
            ))  # fmt: skip
            made.append((trade_id, lot_id, net, at))
        copy_rows(cursor, "marketplace_journalentry (id, book_id, kind, memo, business_date,"
              " created_at, created_by_id, reference, reverses_id, idempotency_key,"
              " request_hash, content_hash, chain_hash)", entries)  # fmt: skip
        copy_rows(cursor, "marketplace_posting (entry_id, account_id, slot, amount,"
              " amount_currency)", postings)  # fmt: skip
        copy_rows(cursor, "marketplace_trade (id, market_id, business_date, seller_id, buyer_id,"
              " product_id, lot_id, gross_kg, tare_kg, net_kg, unit_price, unit_price_currency,"
              " amount, amount_currency, buyer_fee, buyer_fee_currency, seller_fee,"
              " seller_fee_currency, entry_id, recorded_by_id, recorded_at, reversal_id,"
              " reversal_reason)", trades)  # fmt: skip
        keys = sorted(deltas)  # slots in a fixed order, as the ledger locks them
        cursor.execute(
            "UPDATE marketplace_balanceslot AS b SET amount = b.amount + d.delta"
            " FROM unnest(%s::bigint[], %s::int[], %s::numeric[]) AS d(account_id, slot, delta)"
            " WHERE b.account_id = d.account_id AND b.slot = d.slot",
            [[k[0] for k in keys], [k[1] for k in keys], [deltas[k] for k in keys]],
        )
    return made


def copy_rows(cursor, target: str, rows: list[tuple]) -> None:
    with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
