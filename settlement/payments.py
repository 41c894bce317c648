"""Payments from platform wallets: marketplace orders paid at hand-over, consumer orders paid
to the shops' sales and refunded.

The apps that sell pass what the ledger needs (the order's id, total and parties); the ledger
knows nothing of their orders. Every payment's key is derived from the order, so a retry
returns the first entry and pays nothing more.
"""

from decimal import Decimal
from typing import Protocol

from moneyed import Money

from accounts.choices import AuditAction
from accounts.models import User

from .accounts import book_account, payable_to, platform_book, wallet_of
from .audit import audit_money_moved
from .choices import AccountKind, EntryKind
from .models import JournalEntry
from .posting import Leg, post_entry


class PayableOrder(Protocol):
    """What the ledger reads of a marketplace order: its id, its total and its two parties."""

    @property
    def pk(self) -> int: ...

    @property
    def total(self) -> Money: ...

    @property
    def buyer(self) -> User: ...

    @property
    def buyer_id(self) -> int: ...

    @property
    def seller(self) -> User: ...


def settle_order(*, order: PayableOrder, by: User | None) -> JournalEntry:
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


# --- Consumer orders at the front warehouses -----------------------------------------------


def pay_shop_order(*, order_id: int, consumer: User, total: Decimal, number: str) -> JournalEntry:
    """The consumer's wallet pays the shops' sales; one entry per order. A wallet short of
    the total is refused with InsufficientBalance (its balance) and nothing is written."""
    book = platform_book()
    entry, _created = post_entry(
        book=book,
        kind=EntryKind.SHOP_ORDER,
        legs=[
            Leg(wallet_of(consumer), total),
            Leg(book_account(book, AccountKind.SALES), -total),
        ],
        idempotency_key=f"shop_order:{order_id}",
        request={"order": order_id, "total": total},
        by=consumer,
        memo=number,
        reference=f"delivery_order:{order_id}",
    )
    return entry


def refund_shop_order(
    *,
    order_id: int,
    consumer: User,
    total: Decimal,
    payment: JournalEntry,
    by: User,
    memo: str,
    address: str | None = None,
) -> JournalEntry:
    """The payment's legs reversed: the shops' sales pay the consumer's wallet back, once
    (audited once, by `by`)."""
    book = platform_book()
    wallet = wallet_of(consumer)
    entry, created = post_entry(
        book=book,
        kind=EntryKind.REFUND,
        legs=[
            Leg(book_account(book, AccountKind.SALES), total),
            Leg(wallet, -total),
        ],
        idempotency_key=f"shop_refund:{order_id}",
        request={"order": order_id, "total": total},
        by=by,
        memo=memo,
        reference=f"delivery_order:{order_id}",
        reverses=payment,
    )
    if created:
        audit_money_moved(
            action=AuditAction.REFUND, entry=entry, account=wallet, amount=total, by=by,
            address=address, order=order_id,
        )  # fmt: skip
    return entry
