"""The hash chain: each entry's content hash, and the seal that chains committed entries.

An entry's content hash is written with it (`posting.post_entry`); sealing runs after commit,
one sealer at a time, so settlements never queue behind one chain head. `verify_ledger`
recomputes both.
"""

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from .models import JournalEntry

GENESIS_HASH = "0" * 64
SEAL_LOCK_ID = 7_310_001  # pg_advisory_xact_lock key: one sealer at a time


def content_hash(entry: Any, postings: Iterable[tuple[int, int, Decimal]]) -> str:
    """The hash of what an entry says: its fields and its postings, in a fixed order.

    `entry` is a JournalEntry, or a row of its fields as `verify_ledger` streams them.
    """
    body = {
        "book": entry.book_id,
        "kind": entry.kind,
        "memo": entry.memo,
        "business_date": entry.business_date.isoformat(),
        "created_at": entry.created_at.isoformat(timespec="microseconds"),
        "created_by": entry.created_by_id,
        "reference": entry.reference,
        "reverses": entry.reverses_id,
        "idempotency_key": entry.idempotency_key,
        "request_hash": entry.request_hash,
        "postings": sorted(
            [account_id, slot, f"{Decimal(amount):.2f}"] for account_id, slot, amount in postings
        ),
    }
    return sha256(json.dumps(body, sort_keys=True, separators=(",", ":")))


def chain_hash(previous: str, seal_seq: int, entry_hash: str) -> str:
    return sha256(f"{previous}:{seal_seq}:{entry_hash}")


def seal_entries(*, limit: int = 10_000) -> int:
    """Chain the committed, unsealed entries after the last sealed one, oldest id first.

    One sealer at a time (an advisory lock); settlements never wait for it. An entry that
    commits late, after younger ones were sealed, is simply sealed in the next run: the chain
    follows the order entries became visible. Returns how many were sealed.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK_ID])
        last = (
            JournalEntry.objects.filter(seal_seq__isnull=False)
            .order_by("-seal_seq")
            .values("seal_seq", "chain_hash")
            .first()
        )
        seq: int = (last["seal_seq"] or 0) if last else 0  # never None: filtered above
        previous: str = last["chain_hash"] if last else GENESIS_HASH
        pending = list(
            JournalEntry.objects.filter(seal_seq__isnull=True)
            .order_by("id")
            .values_list("id", "content_hash")[:limit]
        )
        if not pending:
            return 0
        ids, seqs, hashes = [], [], []
        for entry_id, entry_hash in pending:
            seq += 1
            previous = chain_hash(previous, seq, entry_hash)
            ids.append(entry_id)
            seqs.append(seq)
            hashes.append(previous)
        cursor.execute(
            "UPDATE marketplace_journalentry AS e SET seal_seq = s.seq, chain_hash = s.hash"
            " FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS s(id, seq, hash)"
            " WHERE e.id = s.id",
            [ids, seqs, hashes],
        )
    return len(pending)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
