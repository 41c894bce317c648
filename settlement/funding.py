"""Money in and out of a book without another app: top-up, withdrawal, payout.

A top-up or withdrawal moves money between a holder's prepaid account and the book's cash or
bank clearing account; a payout pays a seller what the book owes her by bank transfer.
"""

from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from moneyed import Money

from accounts.choices import AuditAction
from accounts.models import User
from common.money import CENT

from .accounts import book_account
from .audit import audit_money_moved
from .choices import AccountKind, EntryKind, FundingMethod
from .exceptions import IdempotencyConflict, InvalidAmount, NothingToPay
from .models import Account, JournalEntry
from .posting import Leg, post_entry

MAX_AMOUNT = Decimal("100000000.00")


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
    address: str | None = None,
) -> JournalEntry:
    """A prepaid balance paid back to its holder; never more than the balance. Audited
    (from `address`, the request's), once."""
    return _cash_in_or_out(
        kind=EntryKind.WITHDRAWAL, account=account, amount=amount, method=method, by=by,
        idempotency_key=idempotency_key, address=address,
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
    address: str | None = None,
) -> JournalEntry:
    """A top-up debits the clearing account (money came in) and credits the holder; a
    withdrawal the other way round."""
    value = clean_amount(amount)
    method = FundingMethod(method)
    clearing = book_account(account.book, _clearing_kind(method))
    paid_in = kind == EntryKind.TOP_UP
    entry, created = post_entry(
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
    if created and not paid_in:
        audit_money_moved(
            action=AuditAction.WITHDRAWAL, entry=entry, account=account, amount=value, by=by,
            address=address, method=method.value,
        )  # fmt: skip
    return entry


def pay_out(
    *,
    account: Account,
    by: User | None,
    idempotency_key: str,
    business_date: date | None = None,
    at_most: Decimal | None = None,
    memo: str = "",
    address: str | None = None,
) -> JournalEntry:
    """Pay a seller what the book owes her by bank transfer: her whole payable balance, or
    `at_most` of it (end of day pays only what the day earned). Audited once, by `by`
    (None: the scheduled end of day) from `address`.

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
        entry, created = post_entry(
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
        if created:
            audit_money_moved(
                action=AuditAction.PAYOUT, entry=entry, account=account, amount=owed, by=by,
                address=address,
            )  # fmt: skip
    return entry


def _payout_already(key: str, account: Account) -> JournalEntry | None:
    """The payout made under this key, if any; IdempotencyConflict if it paid another account."""
    already = JournalEntry.objects.filter(idempotency_key=key).first()
    if already is not None and already.reference != f"account:{account.pk}":
        raise IdempotencyConflict()
    return already
