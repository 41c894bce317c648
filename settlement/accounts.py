"""Accounts: opened on first use with their balance slots; the platform's book and its
wallets. Reading a balance is `selectors.balance_of`."""

from django.db import transaction

from accounts.models import User

from .choices import BOOK_OWNED_KINDS, NO_OVERDRAFT_KINDS, AccountKind, BookKind
from .models import Account, BalanceSlot, Book

# Slots of the accounts every settlement touches: enough that 4–8 concurrent counters rarely
# pick the same row.
BOOK_OWNED_SLOTS = 8
PLATFORM_BOOK_CODE = "platform"


def open_account(
    *, book: Book, kind: str, name: str, trader_id: int | None = None, user: User | None = None
) -> Account:
    """The holder's account of this kind in the book, opened (with its balance slots) if new.

    The holder is a market's trader (by id), a user, or neither for the book's own accounts.
    """
    holder = {"trader_id": trader_id, "user": user}
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
