"""Kinds of books, accounts and entries in the settlement ledger."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BookKind(models.TextChoices):
    MARKET = "market", _("Wholesale market")
    PLATFORM = "platform", _("Platform")


class AccountKind(models.TextChoices):
    # Held by a party: what the book owes them.
    PREPAID = "prepaid", _("Prepaid balance")
    PAYABLE = "payable", _("Seller payable")
    # Money set aside from the holder's wallet for orders not yet handed over.
    HELD = "held", _("Held for open orders")
    # Held by the book itself.
    COMMISSION = "commission", _("Commission revenue")
    SALES = "sales", _("Shop sales revenue")  # front warehouses' sales to consumers
    CASH = "cash", _("Cash clearing")
    BANK = "bank", _("Bank clearing")

    @classmethod
    def is_credit_normal(cls, kind: str) -> bool:
        """Liabilities and revenue grow with credits; the clearing accounts (assets) with debits."""
        return kind in (cls.PREPAID, cls.PAYABLE, cls.HELD, cls.COMMISSION, cls.SALES)


# The holder's own money: the database refuses to take such an account below zero.
NO_OVERDRAFT_KINDS = (AccountKind.PREPAID, AccountKind.HELD)
BOOK_OWNED_KINDS = (AccountKind.COMMISSION, AccountKind.SALES, AccountKind.CASH, AccountKind.BANK)
# A market's book earns commission only; shop sales are the platform book's.
MARKET_BOOK_KINDS = (AccountKind.COMMISSION, AccountKind.CASH, AccountKind.BANK)


class EntryKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    TRADE = "trade", _("Trade")
    ORDER = "order", _("Order")
    REVERSAL = "reversal", _("Reversal")
    PAYOUT = "payout", _("Payout")
    WITHDRAWAL = "withdrawal", _("Withdrawal")
    SHOP_ORDER = "shop_order", _("Shop order")  # a consumer pays a front warehouse
    REFUND = "refund", _("Refund")
    HOLD = "hold", _("Payment hold")  # wallet → held funds, when an order is placed
    RELEASE = "release", _("Hold released")  # held funds → wallet, when it will not be paid


class HoldStatus(models.TextChoices):
    HELD = "held", _("Held")
    CAPTURED = "captured", _("Captured")
    RELEASED = "released", _("Released")


class FundingMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    BANK = "bank", _("Bank transfer")
