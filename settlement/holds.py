"""Payment holds on platform wallets: the money for a marketplace order is set aside when
the order is placed, paid at hand-over, and given back when the order ends unpaid.

- Hold (placing): a HOLD entry debits the buyer's wallet and credits his held-funds account,
  and a `PaymentHold` row records it. Nobody is paid; the wallet's balance is what he can
  still spend ("available"). Both accounts refuse to be overdrawn in the database, so two
  orders racing for the same money cannot both be held: one is refused with the balance.
- Capture (hand-over): the order's ORDER entry empties the hold into what the platform owes
  the seller, at the re-priced total; what was held beyond it goes back to the wallet, what
  the total is above it comes from the wallet (or the hand-over is refused).
- Release (cancel, reject, expiry): a RELEASE entry gives the whole hold back to the wallet.

Every write is idempotent: its key is derived from the order and the step ("hold:order:45",
"order:45", "release:order:45"), so a retry gets the first result and nothing more. Callers
hold the order's row lock (the order services take it first); the hold's row comes next and
then `post_entry` locks the balance slots in (account, slot) order, as it always does.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from moneyed import Money

from accounts.models import User

from .accounts import open_account, payable_to, platform_book, wallet_of
from .choices import AccountKind, EntryKind, HoldStatus
from .exceptions import (
    HoldClosed,
    HoldShortOfTotal,
    IdempotencyConflict,
    InsufficientBalance,
    WalletCannotHold,
)
from .models import Account, JournalEntry, PaymentHold
from .payments import PayableOrder, settle_order
from .posting import Leg, post_entry


def held_funds_of(user: User) -> Account:
    """The user's held-funds account in the platform book (opened empty on first use)."""
    book = platform_book()
    try:
        return open_account(book=book, kind=AccountKind.HELD, user=user, name=f"{user} · held")
    except IntegrityError:
        # Two first orders of the same buyer at once: the other one opened it (its savepoint
        # rolled back here, and the account it committed is the one to use).
        return Account.objects.get(book=book, kind=AccountKind.HELD, user=user)


def _order_reference(order: PayableOrder) -> str:
    return f"order:{order.pk}"


# --- Placing: hold ---------------------------------------------------------------------------


def hold_order_total(*, order: PayableOrder, by: User | None) -> PaymentHold:
    """Hold the order's total from the buyer's wallet; refused with WalletCannotHold (on the
    "wallet" field, with the available balance) when the wallet does not cover it, and then
    nothing is written. A retry returns the first hold."""
    return hold_payment(
        holder=order.buyer,
        amount=order.total.amount,
        reference=_order_reference(order),
        idempotency_key=f"hold:{_order_reference(order)}",
        by=by,
    )


def hold_payment(
    *, holder: User, amount: Decimal, reference: str, idempotency_key: str, by: User | None
) -> PaymentHold:
    """Move `amount` from the holder's wallet to her held funds and record the hold."""
    request = {"holder": holder.pk, "amount": amount, "reference": reference}
    already = PaymentHold.objects.filter(idempotency_key=idempotency_key).first()
    if already is not None:
        return _same_hold(already, amount=amount, reference=reference)
    wallet, held = wallet_of(holder), held_funds_of(holder)
    with transaction.atomic():
        try:
            entry, created = post_entry(
                book=platform_book(),
                kind=EntryKind.HOLD,
                legs=[Leg(wallet, amount), Leg(held, -amount)],
                idempotency_key=idempotency_key,
                request=request,
                by=by,
                memo=reference,
                reference=reference,
            )
        except InsufficientBalance as short:
            raise WalletCannotHold(available=short.details["balance"], needed=amount) from None
        if not created:
            # The same hold sent twice at once: the first one's row is the answer.
            return _same_hold(
                PaymentHold.objects.get(idempotency_key=idempotency_key),
                amount=amount,
                reference=reference,
            )
        return PaymentHold.objects.create(
            wallet=wallet,
            held_account=held,
            amount=amount,  # in the field's currency, CNY
            reference=reference,
            idempotency_key=idempotency_key,
            hold_entry=entry,
            created_at=entry.created_at,
        )


def _same_hold(hold: PaymentHold, *, amount: Decimal, reference: str) -> PaymentHold:
    if hold.amount.amount != amount or hold.reference != reference:
        raise IdempotencyConflict()
    return hold


# --- Hand-over: capture ------------------------------------------------------------------------


def capture_order_total(*, order: PayableOrder, by: User | None) -> JournalEntry:
    """The order is paid at its (re-priced) total from its hold: the platform then owes the
    seller the total; the rest of the hold goes back to the buyer's wallet, or what the total
    is above the hold comes from it (HoldShortOfTotal when it is not there: nothing changes).

    One ORDER entry per order, whatever the path (its key is the order's); a retry returns
    it. An order placed before holds existed has none and is paid from the wallet directly.
    The caller holds the order's row lock.
    """
    hold = _locked_hold(_order_reference(order))
    if hold is None:
        return settle_order(order=order, by=by)
    if hold.status == HoldStatus.CAPTURED and hold.close_entry is not None:
        return hold.close_entry
    if hold.status != HoldStatus.HELD:
        raise HoldClosed()
    total, held = order.total.amount, hold.amount.amount
    legs = [
        Leg(hold.held_account, held),
        Leg(payable_to(order.seller), -total),
        # Positive: the total is above the hold and the wallet pays the rest; negative: the
        # part of the hold not needed goes back.
        Leg(hold.wallet, total - held),
    ]
    try:
        entry, _ = post_entry(
            book=platform_book(),
            kind=EntryKind.ORDER,
            legs=[leg for leg in legs if leg.amount != 0],
            idempotency_key=f"order:{order.pk}",
            request={"order": order.pk, "total": total, "hold": hold.pk},
            by=by,
            memo=f"#{order.pk}",
            reference=hold.reference,
        )
    except InsufficientBalance as short:
        raise HoldShortOfTotal(
            total=total,
            held=held,
            available=short.details["balance"],
            for_buyer=by is not None and by.pk == order.buyer_id,
        ) from None
    _close(hold, status=HoldStatus.CAPTURED, entry=entry, captured=total)
    return entry


# --- Cancel, reject, expiry: release -----------------------------------------------------------


def release_order_hold(*, order: PayableOrder, by: User | None) -> PaymentHold | None:
    """Give the whole hold of an order that will not be paid back to the buyer's wallet.

    Harmless when run twice (a released hold is returned as it is); None for an order placed
    before holds existed. The caller holds the order's row lock.
    """
    hold = _locked_hold(_order_reference(order))
    if hold is None or hold.status == HoldStatus.RELEASED:
        return hold
    if hold.status != HoldStatus.HELD:
        raise HoldClosed()
    amount = hold.amount.amount
    entry, _ = post_entry(
        book=platform_book(),
        kind=EntryKind.RELEASE,
        legs=[Leg(hold.held_account, amount), Leg(hold.wallet, -amount)],
        idempotency_key=f"release:{hold.reference}",
        request={"hold": hold.pk, "amount": amount},
        by=by,
        memo=hold.reference,
        reference=hold.reference,
    )
    _close(hold, status=HoldStatus.RELEASED, entry=entry)
    return hold


# --- Helpers ----------------------------------------------------------------------------------


def _locked_hold(reference: str) -> PaymentHold | None:
    """The latest hold for the reference, its row locked until the transaction ends."""
    return (
        PaymentHold.objects.select_for_update(of=("self",))
        .select_related("wallet", "held_account", "close_entry")
        .filter(reference=reference)
        .order_by("-id")
        .first()
    )


def _close(
    hold: PaymentHold, *, status: str, entry: JournalEntry, captured: Decimal | None = None
) -> None:
    hold.status = status
    hold.close_entry = entry
    hold.closed_at = timezone.now()
    hold.captured_amount = Money(captured, "CNY") if captured is not None else None
    hold.save(
        update_fields=[
            "status",
            "close_entry",
            "closed_at",
            "captured_amount",
            "captured_amount_currency",
        ]
    )
