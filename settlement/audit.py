"""Money leaving an account by someone's decision is audited: payouts, withdrawals,
reversals and refunds. Each is written in the transaction of its entry, once (a retry that
returns the first entry writes nothing)."""

from decimal import Decimal

from accounts.choices import AuditAction
from accounts.models import User
from accounts.services.audit import record_audit

from .models import Account, JournalEntry


def holder_of(account: Account) -> User | None:
    """The person whose money the account holds: a wallet's user, a trader's linked account."""
    if account.user_id is not None:
        return account.user
    if account.trader is not None:
        return account.trader.user  # None for a trader not linked to an account
    return None


def audit_money_moved(
    *,
    action: AuditAction,
    entry: JournalEntry,
    account: Account,
    amount: Decimal,
    by: User | None,
    address: str | None,
    **more,
) -> None:
    """The entry is the target; the amount and the account (by id: its name is a person's)
    are what changed, with `more` (e.g. the entry a reversal undoes)."""
    record_audit(
        action=action,
        actor=by,
        subject=holder_of(account),
        target=entry,
        changes={
            "amount": (None, f"{amount:.2f}"),
            "account": (None, account.pk),
            **{name: (None, value) for name, value in more.items()},
        },
        address=address,
    )
