"""Refusals of the settlement ledger, one class each, each saying its kind of refusal."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from moneyed import Money

from common.exceptions import ConflictError, DomainError


class SettlementError(DomainError):
    default_message = _("The settlement was refused.")


class IdempotencyConflict(ConflictError, SettlementError):
    """The key was used before for a different request: nothing is written."""

    default_message = _(
        "This request key was already used for a different request; nothing was recorded."
    )
    field = "idempotency_key"


def yuan(value: Money | Decimal) -> str:
    """¥1234.50, as the pages print money, from a Money or a Decimal."""
    return f"¥{getattr(value, 'amount', value):.2f}"


class InsufficientBalance(SettlementError):
    default_message = _("The balance of %(balance)s does not cover %(needed)s.")

    def __init__(self, *, balance, needed, field: str = "amount"):
        super().__init__(
            self.default_message % {"balance": yuan(balance), "needed": yuan(needed)},
            field=field,
            balance=balance,
            needed=needed,
        )


class InvalidAmount(SettlementError):
    default_message = _("Enter an amount above zero with at most two decimals.")
    field = "amount"


class TradeAlreadyReversed(ConflictError, SettlementError):
    default_message = _("This trade has already been reversed.")


class NotReversible(ConflictError, SettlementError):
    default_message = _("Only a trade can be reversed; a reversal cannot be reversed again.")


class NothingToPay(ConflictError, SettlementError):
    default_message = _("There is nothing to pay out.")


# --- Payment holds --------------------------------------------------------------------------


class WalletCannotHold(InsufficientBalance):
    """No hold, no order: the wallet's available money does not cover the order's total."""

    default_message = _(
        "Your wallet has %(available)s available and this order comes to %(needed)s. Top up "
        "your wallet, or order less."
    )

    def __init__(self, *, available, needed, field: str = "wallet"):
        SettlementError.__init__(
            self,
            self.default_message % {"available": yuan(available), "needed": yuan(needed)},
            field=field,
            balance=available,
            needed=needed,
        )


class HoldShortOfTotal(InsufficientBalance):
    """At hand-over the re-priced total is above the hold and the wallet cannot pay the rest.
    The seller is not told the buyer's balance; the buyer is."""

    default_message = _(
        "The new total of %(total)s is %(more)s more than the %(held)s held for this order, "
        "and the buyer's wallet does not have it. The buyer must top up first, or the "
        "weights must come down."
    )
    buyer_message = _(
        "The new total of %(total)s is %(more)s more than the %(held)s held for this order, "
        "and your wallet has %(available)s available. Top up your wallet first, or decline "
        "the weights."
    )

    def __init__(self, *, total, held, available, for_buyer: bool, field: str = "wallet"):
        template = self.buyer_message if for_buyer else self.default_message
        more = getattr(total, "amount", total) - getattr(held, "amount", held)
        SettlementError.__init__(
            self,
            template
            % {
                "total": yuan(total),
                "more": yuan(more),
                "held": yuan(held),
                "available": yuan(available),
            },
            field=field,
            balance=available,
            needed=more,
        )


class HoldClosed(ConflictError, SettlementError):
    default_message = _("The money held for this order was already released or paid.")
