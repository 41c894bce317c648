"""Settlement's section of her personal data: her accounts (wallet, payable, held funds,
and her market cards' accounts), their balances and postings.

The ledger is kept whole on deletion: postings and journal entries cannot change (the
database refuses it, and an entry's content hash covers its memo and reference), and the
Accounting Archives rules keep vouchers and ledgers for 30 years. They hold no name: an
entry's memo is an order number, a product and weight, or a reason typed by staff. Only the
accounts' display names (a copy of her name; not hashed) take the pseudonym.
"""

from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.personal_data import register_section

from .choices import AccountKind
from .models import Account, Posting
from .selectors import balance_of

EXPORT_LIMIT = 1000


def _accounts_of(user: User):
    # Her own accounts, and those of the market cards issued to her (a trader with her
    # account): the ORM follows the relation, settlement imports nothing of marketplace.
    return (
        Account.objects.filter(Q(user=user) | Q(trader__user=user))
        .select_related("book")
        .order_by("pk")
    )


def export_settlement(user: User) -> dict[str, Any]:
    accounts = list(_accounts_of(user))
    postings = (
        Posting.objects.filter(account__in=accounts)
        .select_related("entry", "account")
        .order_by("-entry__created_at", "-pk")[:EXPORT_LIMIT]
    )
    return {
        "accounts": [
            {
                "id": account.pk,
                "book": account.book.name,
                "kind": account.kind,
                "name": account.name,
                "balance": str(balance_of(account).amount),
                "currency": "CNY",
            }
            for account in accounts
        ],
        "postings": [
            {
                "account_id": posting.account_id,
                "entry_id": posting.entry_id,
                "date": posting.entry.business_date.isoformat(),
                "kind": posting.entry.kind,
                "memo": posting.entry.memo,
                "reference": posting.entry.reference,
                # Debit-positive in the ledger; credit-normal accounts read the other way.
                "amount": str(
                    -posting.amount.amount
                    if posting.account.credit_normal
                    else posting.amount.amount
                ),
            }
            for posting in postings
        ],
    }


def erase_settlement(user: User, pseudonym: str) -> None:
    """Amounts and entries stay; the accounts' names (a copy of her name, or of her trader
    card's) take the pseudonym."""
    Account.objects.filter(Q(user=user) | Q(trader__user=user)).update(name=pseudonym)


def money_left(user: User) -> str | None:
    """Refuses while any of her accounts holds money, either way: the platform owes it to her
    (withdraw it first) or she owes the platform."""
    for account in _accounts_of(user):
        balance = balance_of(account).amount
        if balance == Decimal("0.00"):
            continue
        label = AccountKind(account.kind).label
        if balance > 0:
            return _(
                "Your %(account)s (%(book)s) holds ¥%(amount)s: withdraw it first, then delete "
                "your account."
            ) % {"account": label, "book": account.book.name, "amount": f"{balance:.2f}"}
        return _(
            "Your %(account)s (%(book)s) is ¥%(amount)s short: settle it first, then delete "
            "your account."
        ) % {"account": label, "book": account.book.name, "amount": f"{-balance:.2f}"}
    return None


def register() -> None:
    register_section(
        name="settlement",
        label=gettext_lazy("Money: wallet, cards and their postings"),
        exporter=export_settlement,
        eraser=erase_settlement,
        blocker=money_left,
    )
