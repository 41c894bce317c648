"""Posting to the ledger: every movement of money on the platform goes through `post_entry`.

The rules, each kept here once:
- An entry's legs sum to zero (PostgreSQL checks it again at commit).
- Balance slots are locked in (account id, slot) order, checked, and changed in the same
  transaction as the postings, so balances and postings never disagree and two settlements
  never wait for each other in a cycle.
- Every entry carries an idempotency key: a retry with the same key and the same request gets
  the first entry back; with a different request it is refused (409) and nothing is written.
- Entries are sealed into a hash chain after commit (`seal_entries`), in the order they
  became visible, so settlements do not queue behind one chain head.

Funding operations that need no other app (top-up, withdrawal, payout) live here too.
"""

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from moneyed import Money

from accounts.models import User
from common.dates import business_today
from common.money import CENT

from ..exceptions import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    NothingToPay,
    NotReversible,
    TradeAlreadyReversed,
)
from .choices import (
    BOOK_OWNED_KINDS,
    NO_OVERDRAFT_KINDS,
    AccountKind,
    BookKind,
    EntryKind,
    FundingMethod,
)
from .models import Account, BalanceSlot, Book, JournalEntry

GENESIS_HASH = "0" * 64
# Slots of the accounts every settlement touches: enough that 4–8 concurrent counters rarely
# pick the same row.
BOOK_OWNED_SLOTS = 8
MAX_AMOUNT = Decimal("100000000.00")
SEAL_LOCK_ID = 7_310_001  # pg_advisory_xact_lock key: one sealer at a time


@dataclass(frozen=True)
class AccountRef:
    """An account known by id and slot count only: what posting needs, without loading it."""

    pk: int
    slots: int


@dataclass(frozen=True)
class Leg:
    """One posting to be made: debit (positive) or credit (negative) of an account."""

    account: Account | AccountRef
    amount: Decimal


# --- Accounts ------------------------------------------------------------------------------


def open_account(
    *, book: Book, kind: str, name: str, trader=None, user: User | None = None
) -> Account:
    """The holder's account of this kind in the book, opened (with its balance slots) if new."""
    holder = {"trader": trader, "user": user}
    existing = Account.objects.filter(book=book, kind=kind, **holder).first()
    if existing is not None:
        return existing
    slots = BOOK_OWNED_SLOTS if kind in BOOK_OWNED_KINDS else 1
    with transaction.atomic():
        account = Account.objects.create(book=book, kind=kind, name=name, slots=slots, **holder)
        BalanceSlot.objects.bulk_create(
            BalanceSlot(account=account, slot=n, no_overdraft=kind in NO_OVERDRAFT_KINDS)
            for n in range(slots)
        )
    return account


def book_account(book: Book, kind: str) -> Account:
    """The book's own account of this kind (commission, cash or bank clearing)."""
    return open_account(book=book, kind=kind, name=f"{book.name} · {AccountKind(kind).label}")


def balance_of(account: Account) -> Money:
    """The account's balance as its holder reads it: credits minus debits for what the book
    owes (prepaid, payable, revenue), debits minus credits for clearing accounts."""
    amounts = BalanceSlot.objects.filter(account=account).values_list("amount", flat=True)
    total = sum(amounts, Decimal("0.00"))
    return Money(-total if account.credit_normal else total, "CNY")


# --- Posting -------------------------------------------------------------------------------


def request_hash(request: dict) -> str:
    """A stable hash of what a caller asked for, to tell a retry from a different request."""
    return _sha256(json.dumps(request, sort_keys=True, default=str, separators=(",", ":")))


def post_entry(
    *,
    book: Book,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str,
    request: dict,
    by: User | None = None,
    memo: str = "",
    reference: str = "",
    reverses: JournalEntry | None = None,
    business_date: date | None = None,
    savepoint: bool = True,
) -> tuple[JournalEntry, bool]:
    """Post a balanced entry and change the balances with it; return (entry, created).

    A retry with the same key and request returns the first entry and created=False. The
    same key with another request raises IdempotencyConflict. A prepaid account that would
    be overdrawn raises InsufficientBalance with its balance. Runs in its own savepoint, so a
    refusal leaves the caller's transaction as it was; a caller that owns the transaction
    may pass savepoint=False (two round trips fewer) and then hands an IntegrityError from
    its atomic block to `answer_for_refused_entry` itself.
    """
    # No look-up of the key first: the UNIQUE key catches a retry (the first entry is then
    # fetched), so the common case, a new entry, pays for no extra query.
    fingerprint = request_hash(request)
    _check_legs(legs)
    try:
        with transaction.atomic(savepoint=savepoint):
            entry = _write_entry(
                book=book,
                kind=kind,
                legs=legs,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                by=by,
                memo=memo,
                reference=reference,
                reverses=reverses,
                business_date=business_date or business_today(),
            )
    except IntegrityError as error:
        if not savepoint:
            raise
        return answer_for_refused_entry(
            error, key=idempotency_key, request=request, legs=legs
        ), False
    return entry, True


def answer_for_refused_entry(
    error: IntegrityError, *, key: str, request: dict, legs: Sequence[Leg]
) -> JournalEntry:
    """After the database refused an entry (its transaction rolled back): the first entry of
    a retry, IdempotencyConflict, InsufficientBalance, or the error itself."""
    if "idempotency_key" in str(error):
        # A retry, or the same key sent twice at once: the first entry is the answer.
        existing = find_entry(key, request)
        if existing is not None:
            return existing
    elif "ledger_prepaid_not_overdrawn" in str(error):
        # A retry that waited behind its first request finds the card already spent by it:
        # the first entry is the answer, not a refusal.
        existing = find_entry(key, request)
        if existing is not None:
            return existing
        raise _overdraft(legs) from None
    raise error


def find_entry(key: str, request: dict) -> JournalEntry | None:
    """The entry written for this key, if any; IdempotencyConflict if it was for another
    request."""
    # Every settlement asks this first, and almost always gets no row: one plain query.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, request_hash FROM marketplace_journalentry WHERE idempotency_key = %s",
            [key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    if row[1] != request_hash(request):
        raise IdempotencyConflict()
    return JournalEntry.objects.get(pk=row[0])


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2 or sum(leg.amount for leg in legs) != 0:
        raise ValueError(f"an entry needs at least two legs summing to zero, got {legs!r}")
    for leg in legs:
        if leg.amount == 0 or leg.amount != leg.amount.quantize(CENT):
            raise ValueError(f"a leg must be a non-zero amount in cents, got {leg.amount!r}")


def _overdraft(legs: Sequence[Leg]) -> InsufficientBalance:
    """The refusal for the prepaid slot these legs would overdraw, with its balance."""
    with connection.cursor() as cursor:
        for leg in legs:
            if leg.amount <= 0:
                continue
            cursor.execute(
                "SELECT sum(amount), bool_or(no_overdraft) FROM marketplace_balanceslot"
                " WHERE account_id = %s",
                [leg.account.pk],
            )
            amount, no_overdraft = cursor.fetchone()
            if no_overdraft and amount + leg.amount > 0:
                return InsufficientBalance(
                    balance=Money(-amount, "CNY"), needed=Money(leg.amount, "CNY")
                )
    return InsufficientBalance(balance=Money(0, "CNY"), needed=Money(0, "CNY"))


def _pick_slot(account: Account) -> int:
    return 0 if account.slots == 1 else random.randrange(account.slots)


def _write_entry(
    *,
    book: Book,
    kind: str,
    legs: Sequence[Leg],
    idempotency_key: str,
    fingerprint: str,
    by: User | None,
    memo: str,
    reference: str,
    reverses: JournalEntry | None,
    business_date: date,
) -> JournalEntry:
    """Apply the legs to their balance slots and write the entry with its postings, in one
    statement: every settlement's hot path, so one round trip."""
    postings = [(leg.account.pk, _pick_slot(leg.account), leg.amount) for leg in legs]
    deltas: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for account_id, slot, amount in postings:
        deltas[account_id, slot] += amount
    entry = JournalEntry(
        book=book,
        kind=kind,
        memo=memo[:200],
        business_date=business_date,
        created_at=timezone.now(),
        created_by=by,
        reference=reference,
        reverses=reverses,
        idempotency_key=idempotency_key,
        request_hash=fingerprint,
    )
    entry.content_hash = content_hash(entry, postings)
    with connection.cursor() as cursor:
        cursor.execute(
            _POST_ENTRY,
            {
                "slot_accounts": [account_id for account_id, _ in deltas],
                "slot_numbers": [slot for _, slot in deltas],
                "slot_deltas": list(deltas.values()),
                "book": book.pk,
                "kind": entry.kind,
                "memo": entry.memo,
                "business_date": entry.business_date,
                "created_at": entry.created_at,
                "created_by": by.pk if by else None,
                "reference": entry.reference,
                "reverses": reverses.pk if reverses else None,
                "key": entry.idempotency_key,
                "request_hash": entry.request_hash,
                "content_hash": entry.content_hash,
                "accounts": [account_id for account_id, _, _ in postings],
                "slots": [slot for _, slot, _ in postings],
                "amounts": [amount for _, _, amount in postings],
            },
        )
        entry.pk, applied = cursor.fetchone()
    if applied != len(deltas):
        raise ValueError(f"balance slots missing among {sorted(deltas)}")
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


# `locked` takes the slots' row locks in (account, slot) order before anything changes (a
# sorted FOR UPDATE locks as it sorts, and a MATERIALIZED CTE runs whole); `applied` changes
# them (an overdrawn prepaid slot fails its CHECK here); then the entry and its postings.
_POST_ENTRY = """
WITH delta AS (
    SELECT * FROM unnest(%(slot_accounts)s::bigint[], %(slot_numbers)s::int[],
                         %(slot_deltas)s::numeric[]) AS delta(account_id, slot, amount)
), locked AS MATERIALIZED (
    SELECT b.id, delta.amount FROM marketplace_balanceslot b JOIN delta USING (account_id, slot)
     ORDER BY b.account_id, b.slot FOR UPDATE OF b
), applied AS (
    UPDATE marketplace_balanceslot AS b SET amount = b.amount + locked.amount
      FROM locked WHERE b.id = locked.id
    RETURNING b.id
), entry AS (
    INSERT INTO marketplace_journalentry (book_id, kind, memo, business_date, created_at,
        created_by_id, reference, reverses_id, idempotency_key, request_hash, content_hash,
        chain_hash)
    VALUES (%(book)s, %(kind)s, %(memo)s, %(business_date)s, %(created_at)s, %(created_by)s,
        %(reference)s, %(reverses)s, %(key)s, %(request_hash)s, %(content_hash)s, '')
    RETURNING id
), postings AS (
    INSERT INTO marketplace_posting (entry_id, account_id, slot, amount, amount_currency)
    SELECT entry.id, leg.account_id, leg.slot, leg.amount, 'CNY'
      FROM entry, unnest(%(accounts)s::bigint[], %(slots)s::int[], %(amounts)s::numeric[])
           AS leg(account_id, slot, amount)
)
SELECT (SELECT id FROM entry), (SELECT count(*) FROM applied)
"""


# --- The hash chain ------------------------------------------------------------------------


def content_hash(entry: JournalEntry, postings: Iterable[tuple[int, int, Decimal]]) -> str:
    """The hash of what an entry says: its fields and its postings, in a fixed order."""
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
    return _sha256(json.dumps(body, sort_keys=True, separators=(",", ":")))


def chain_hash(previous: str, seal_seq: int, entry_hash: str) -> str:
    return _sha256(f"{previous}:{seal_seq}:{entry_hash}")


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
            .values_list("seal_seq", "chain_hash")
            .first()
        )
        seq, previous = last if last else (0, GENESIS_HASH)
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


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Funding: top-up, withdrawal, payout ---------------------------------------------------


def clean_amount(value, *, field: str = "amount") -> Decimal:
    """A positive CNY amount with at most two decimals, or InvalidAmount on that field."""
    if isinstance(value, Money) and value.currency.code != "CNY":
        raise InvalidAmount(field=field)
    try:
        amount = Decimal(str(value.amount if isinstance(value, Money) else value))
    except (ArithmeticError, ValueError, TypeError):
        raise InvalidAmount(field=field) from None
    if (
        not amount.is_finite()
        or amount <= 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(CENT)
    ):
        raise InvalidAmount(field=field)
    return amount.quantize(CENT)


def funding_entry_key(*, kind: str, book_id: int, idempotency_key: str) -> str:
    """The ledger key of a top-up or withdrawal made under the caller's key."""
    return f"{kind}:{book_id}:{idempotency_key}"


def _clearing_kind(method: str) -> str:
    return AccountKind.CASH if method == FundingMethod.CASH else AccountKind.BANK


def top_up(
    *,
    account: Account,
    amount,
    method: str,
    by: User,
    idempotency_key: str,
    memo: str = "",
) -> JournalEntry:
    """Money paid in (cash at the counter or a bank transfer) credits a prepaid account."""
    return _cash_in_or_out(
        kind=EntryKind.TOP_UP, account=account, amount=amount, method=method, by=by,
        idempotency_key=idempotency_key, memo=memo,
    )  # fmt: skip


def withdraw(
    *,
    account: Account,
    amount,
    method: str,
    by: User,
    idempotency_key: str,
) -> JournalEntry:
    """A prepaid balance paid back to its holder; never more than the balance."""
    return _cash_in_or_out(
        kind=EntryKind.WITHDRAWAL, account=account, amount=amount, method=method, by=by,
        idempotency_key=idempotency_key,
    )  # fmt: skip


def _cash_in_or_out(
    *,
    kind: str,
    account: Account,
    amount,
    method: str,
    by: User,
    idempotency_key: str,
    memo: str = "",
) -> JournalEntry:
    """A top-up debits the clearing account (money came in) and credits the holder; a
    withdrawal the other way round."""
    value = clean_amount(amount)
    method = FundingMethod(method)
    clearing = book_account(account.book, _clearing_kind(method))
    paid_in = kind == EntryKind.TOP_UP
    entry, _ = post_entry(
        book=account.book,
        kind=kind,
        legs=[
            Leg(clearing, value if paid_in else -value),
            Leg(account, -value if paid_in else value),
        ],
        idempotency_key=funding_entry_key(
            kind=kind, book_id=account.book_id, idempotency_key=idempotency_key
        ),
        request={"account": account.pk, "amount": value, "method": method},
        by=by,
        memo=memo or method.value,  # data, not words in the operator's language
        reference=f"account:{account.pk}",
    )
    return entry


def pay_out(
    *,
    account: Account,
    by: User | None,
    idempotency_key: str,
    business_date: date | None = None,
    at_most: Decimal | None = None,
    memo: str = "",
) -> JournalEntry:
    """Pay a seller what the book owes her by bank transfer: her whole payable balance, or
    `at_most` of it (end of day pays only what the day earned).

    The balance and the key are read under the account's lock, so a trade settling at the
    same moment is either in this payout or left for the next one, and one key pays once.
    """
    key = f"payout:{account.book_id}:{idempotency_key}"
    already = _payout_already(key, account)
    if already is not None:
        return already
    bank = book_account(account.book, AccountKind.BANK)
    with transaction.atomic():
        # Every slot the entry may touch, in (account, slot) order as post_entry locks them:
        # locking the payable before the bank would close a cycle with a bank top-up (bank,
        # then card) and a trade (card, then payable).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT account_id, amount FROM marketplace_balanceslot"
                " WHERE account_id IN (%s, %s) ORDER BY account_id, slot FOR UPDATE",
                [account.pk, bank.pk],
            )
            owed = -sum((amount for held, amount in cursor if held == account.pk), Decimal(0))
        # A retry that waited on the lock behind its first request gets that payout.
        already = _payout_already(key, account)
        if already is not None:
            return already
        if at_most is not None:
            owed = min(owed, at_most)
        if owed <= 0:
            raise NothingToPay()
        entry, _ = post_entry(
            book=account.book,
            kind=EntryKind.PAYOUT,
            legs=[Leg(account, owed), Leg(bank, -owed)],
            idempotency_key=key,
            request={"account": account.pk, "amount": owed},
            by=by,
            memo=memo or f"{owed}",
            reference=f"account:{account.pk}",
            business_date=business_date,
        )
    return entry


def _payout_already(key: str, account: Account) -> JournalEntry | None:
    """The payout made under this key, if any; IdempotencyConflict if it paid another account."""
    already = JournalEntry.objects.filter(idempotency_key=key).first()
    if already is not None and already.reference != f"account:{account.pk}":
        raise IdempotencyConflict()
    return already


def reverse_entry(
    *, entry: JournalEntry, by: User, reason: str, idempotency_key: str
) -> JournalEntry:
    """A new entry with every posting of `entry` negated, in the same slots' accounts.

    Nothing is deleted. The caller checks who may reverse what. An entry is reversed once
    (TradeAlreadyReversed; the database's one-to-one `reverses` settles a race), and a
    reversal itself is never reversed (the mistake it undid is recorded again instead).
    """
    if entry.kind == EntryKind.REVERSAL:
        raise NotReversible()
    request = {"reverses": entry.pk, "reason": reason}
    retried = find_entry(idempotency_key, request)
    if retried is not None:
        return retried
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise TradeAlreadyReversed()
    legs = [
        Leg(posting.account, -posting.amount.amount)
        for posting in entry.postings.select_related("account").order_by("id")
    ]
    try:
        reversal, _ = post_entry(
            book=entry.book,
            kind=EntryKind.REVERSAL,
            legs=legs,
            idempotency_key=idempotency_key,
            request=request,
            by=by,
            memo=reason,
            reference=entry.reference,
            reverses=entry,
        )
    except IntegrityError as error:
        # Another reversal of the entry, under another key, committed while this one waited.
        if "reverses_id" not in str(error):
            raise
        raise TradeAlreadyReversed() from None
    return reversal


# --- The platform book: marketplace orders (and, later, consumer wallets) ------------------

PLATFORM_BOOK_CODE = "platform"


def platform_book() -> Book:
    book, created = Book.objects.get_or_create(
        code=PLATFORM_BOOK_CODE,
        defaults={"kind": BookKind.PLATFORM, "name": str(BookKind.PLATFORM.label)},
    )
    if created:
        for kind in BOOK_OWNED_KINDS:
            book_account(book, kind)
    return book


def wallet_of(user: User) -> Account:
    """The user's prepaid wallet in the platform book (opened empty on first use)."""
    return open_account(
        book=platform_book(),
        kind=AccountKind.PREPAID,
        user=user,
        name=str(user),
    )


def payable_to(user: User) -> Account:
    """What the platform owes a seller for her orders."""
    return open_account(
        book=platform_book(),
        kind=AccountKind.PAYABLE,
        user=user,
        name=str(user),
    )


def settle_order(*, order, by: User | None) -> JournalEntry:
    """A handed-over marketplace order placed before payment holds existed is paid: the
    buyer's wallet pays its total, which the platform then owes the seller (orders placed
    since are paid from their hold: `holds.capture_order_total`). Idempotent per order; a
    wallet short of the total is refused with its balance, and the hand-over with it."""
    total = order.total.amount
    entry, _ = post_entry(
        book=platform_book(),
        kind=EntryKind.ORDER,
        legs=[Leg(wallet_of(order.buyer), total), Leg(payable_to(order.seller), -total)],
        idempotency_key=f"order:{order.pk}",
        request={"order": order.pk, "total": total},
        by=by,
        memo=f"#{order.pk}",
        reference=f"order:{order.pk}",
    )
    return entry
