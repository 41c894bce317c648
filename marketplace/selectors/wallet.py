"""Reads of a user's platform wallet: what she can spend, and what is held for her orders.

Reading never opens accounts: a user without a wallet has nothing available and nothing held.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum
from moneyed import Money

from accounts.models import User
from settlement.accounts import PLATFORM_BOOK_CODE
from settlement.choices import AccountKind, HoldStatus
from settlement.models import BalanceSlot, PaymentHold

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class WalletFigures:
    """Available: the wallet's balance, what a new order can hold. Held: set aside for
    placed orders until they are handed over (paid) or end unpaid (given back)."""

    available: Money
    held: Money

    @property
    def total(self) -> Money:
        return self.available + self.held


def wallet_figures(user: User) -> WalletFigures:
    """The user's available and held money in the platform book, in one query."""
    rows = dict(
        BalanceSlot.objects.filter(
            account__user=user,
            account__book__code=PLATFORM_BOOK_CODE,
            account__kind__in=[AccountKind.PREPAID, AccountKind.HELD],
        )
        .values_list("account__kind")
        .annotate(total=Sum("amount"))
        .values_list("account__kind", "total")
    )
    # Both kinds are credit-normal: the holder's money is the negated debit balance.
    return WalletFigures(
        available=Money(-(rows.get(AccountKind.PREPAID) or ZERO) + ZERO, "CNY"),
        held=Money(-(rows.get(AccountKind.HELD) or ZERO) + ZERO, "CNY"),
    )


def hold_of_order(order) -> PaymentHold | None:
    """The payment hold of a marketplace order (open or closed), if it has one."""
    return PaymentHold.objects.filter(reference=f"order:{order.pk}").order_by("-id").first()


def open_holds_of(user: User):
    """The user's open payment holds, newest first."""
    return PaymentHold.objects.filter(
        wallet__user=user, wallet__book__code=PLATFORM_BOOK_CODE, status=HoldStatus.HELD
    ).order_by("-created_at", "-id")
