"""Reads of the ledger that other apps' pages, API and tasks share. Reading never opens
accounts."""

from decimal import Decimal

from moneyed import Money

from accounts.models import User

from .accounts import PLATFORM_BOOK_CODE
from .choices import AccountKind
from .models import Account, BalanceSlot


def balance_of(account: Account) -> Money:
    """The account's balance as its holder reads it: credits minus debits for what the book
    owes (prepaid, payable, revenue), debits minus credits for clearing accounts."""
    amounts = BalanceSlot.objects.filter(account=account).values_list("amount", flat=True)
    total = sum(amounts, Decimal("0.00"))
    return Money(-total if account.credit_normal else total, "CNY")


def wallet_balance(user: User) -> Money:
    """The user's prepaid wallet balance in the platform book; zero when she has no wallet
    yet (a read opens none)."""
    wallet = Account.objects.filter(
        book__code=PLATFORM_BOOK_CODE, kind=AccountKind.PREPAID, user=user
    ).first()
    return balance_of(wallet) if wallet is not None else Money(0, "CNY")
