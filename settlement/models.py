"""The settlement ledger: the one place where money moves on the platform.

Double entry, debit-positive: a posting's amount is positive for a debit and negative for a
credit, and an entry's postings sum to zero. Accounts belong to a book (a wholesale market's
settlement book, or the platform's book for marketplace orders and consumer wallets) and to a
party in it (a trader, a user, or the book itself for revenue and clearing accounts).

PostgreSQL enforces the rules itself (marketplace migrations 0004 and 0005: the ledger was
born in marketplace, and its tables keep their `marketplace_` names): a deferred constraint
trigger checks every entry balances at commit; postings cannot be updated or deleted; an
entry's content cannot change once written (only its seal is filled in, once); a prepaid
balance cannot become a debit. Balances are cached per (account, slot): a busy book-owned account such as
the market's commission revenue has several slots, so concurrent settlements lock different
rows instead of queueing on one; its balance is the sum of its slots.

A payment hold sets money aside without paying anyone: a balanced entry moves it from the
holder's wallet to her held-funds account (prepaid and held funds alike may never be
overdrawn), and a `PaymentHold` row says what it is for and whether it is still open.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from .choices import AccountKind, BookKind, EntryKind, HoldStatus


class Book(models.Model):
    """A set of accounts that balance among themselves: one per market, one for the platform."""

    kind = models.CharField(_("kind"), max_length=16, choices=BookKind)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        db_table = "marketplace_book"
        verbose_name = _("book")
        verbose_name_plural = _("books")

    def __str__(self) -> str:
        return self.name


class Account(models.Model):
    """An account in a book, held by a trader, a user, or the book itself."""

    book = models.ForeignKey(
        Book, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("book")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind)
    trader = models.ForeignKey(
        "marketplace.Trader",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
        verbose_name=_("trader"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=160)
    slots = models.PositiveSmallIntegerField(
        _("balance slots"),
        default=1,
        help_text=_("Rows its cached balance is spread over, so busy accounts lock less."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        db_table = "marketplace_account"
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(trader__isnull=True) | Q(user__isnull=True),
                name="ledger_account_one_holder",
            ),
            # One account of a kind per holder in a book; one of each book-owned kind.
            models.UniqueConstraint(
                fields=["book", "kind", "trader"],
                condition=Q(trader__isnull=False),
                name="ledger_account_unique_per_trader",
            ),
            models.UniqueConstraint(
                fields=["book", "kind", "user"],
                condition=Q(user__isnull=False),
                name="ledger_account_unique_per_user",
            ),
            models.UniqueConstraint(
                fields=["book", "kind"],
                condition=Q(trader__isnull=True, user__isnull=True),
                name="ledger_account_unique_book_owned",
            ),
            models.CheckConstraint(condition=Q(slots__gte=1), name="ledger_account_slots"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def credit_normal(self) -> bool:
        return AccountKind.is_credit_normal(self.kind)


class BalanceSlot(models.Model):
    """A cached part of an account's balance (debit-positive), changed only with postings."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="balance_slots", verbose_name=_("account")
    )
    slot = models.PositiveSmallIntegerField(_("slot"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=0)
    # Copied from the account kind so the database can check it row by row.
    no_overdraft = models.BooleanField(_("may not be overdrawn"), default=False)

    class Meta:
        db_table = "marketplace_balanceslot"
        verbose_name = _("balance slot")
        verbose_name_plural = _("balance slots")
        constraints = [
            models.UniqueConstraint(fields=["account", "slot"], name="ledger_balance_slot_unique"),
            # A prepaid account holds the holder's money: a credit balance, never a debit.
            models.CheckConstraint(
                condition=Q(no_overdraft=False) | Q(amount__lte=0),
                name="ledger_prepaid_not_overdrawn",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} [{self.slot}]: {self.amount}"


class JournalEntry(models.Model):
    """One movement of money: its postings sum to zero. Never changed, never deleted."""

    book = models.ForeignKey(
        Book, on_delete=models.PROTECT, related_name="entries", verbose_name=_("book")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind)
    memo = models.CharField(_("memo"), max_length=200, blank=True)
    business_date = models.DateField(_("business date"), db_index=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # What the entry settles, e.g. "trade:123" or "order:45".
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=160, unique=True)
    # Hash of what was asked for: a retry with the same key and other content is refused.
    request_hash = models.CharField(_("request hash"), max_length=64)
    content_hash = models.CharField(_("content hash"), max_length=64)
    # Filled in once, after commit, by the sealing step, in the order entries became visible.
    seal_seq = models.BigIntegerField(_("seal number"), null=True, blank=True, unique=True)
    chain_hash = models.CharField(_("chain hash"), max_length=64, blank=True)

    class Meta:
        db_table = "marketplace_journalentry"
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        indexes = [
            models.Index(
                fields=["id"], condition=Q(seal_seq__isnull=True), name="ledger_entry_unsealed"
            ),
            models.Index(fields=["book", "business_date", "kind"], name="ledger_entry_book_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Posting(models.Model):
    """A debit (positive) or credit (negative) of one account slot by one entry."""

    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="postings", verbose_name=_("entry")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="postings", verbose_name=_("account")
    )
    slot = models.PositiveSmallIntegerField(_("slot"), default=0)
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["Posting"]] = models.Manager()

    class Meta:
        db_table = "marketplace_posting"
        verbose_name = _("posting")
        verbose_name_plural = _("postings")
        indexes = [models.Index(fields=["account", "entry"], name="ledger_posting_account")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount}"


class PaymentHold(models.Model):
    """Money held from a wallet for something not paid yet: a placed marketplace order.

    The money itself sits in the holder's held-funds account (the hold entry moved it there);
    this row says for what (`reference`, e.g. "order:45") and how it ended: captured (paid,
    `captured_amount` of it) or released (all of it back to the wallet). The held-funds
    account's balance is the sum of the holder's open holds (`verify_ledger` checks it).
    """

    wallet = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="holds", verbose_name=_("wallet")
    )
    held_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("held funds")
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")
    captured_amount = MoneyField(
        _("captured"), max_digits=14, decimal_places=2, default_currency="CNY", null=True
    )
    reference = models.CharField(_("reference"), max_length=64, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=HoldStatus, default=HoldStatus.HELD
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=160, unique=True)
    hold_entry = models.OneToOneField(
        JournalEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("hold entry")
    )
    close_entry = models.OneToOneField(
        JournalEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closing entry"),
    )
    created_at = models.DateTimeField(_("created at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["PaymentHold"]] = models.Manager()

    class Meta:
        db_table = "marketplace_paymenthold"
        verbose_name = _("payment hold")
        verbose_name_plural = _("payment holds")
        indexes = [
            models.Index(
                fields=["held_account"],
                condition=Q(status=HoldStatus.HELD),
                name="ledger_hold_open_by_account",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=HoldStatus.values), name="ledger_hold_status_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_hold_amount_positive"),
            # Open, or closed by an entry at a moment; captured says how much was paid.
            models.CheckConstraint(
                condition=(
                    Q(status=HoldStatus.HELD, closed_at__isnull=True, close_entry__isnull=True)
                    | Q(
                        ~Q(status=HoldStatus.HELD),
                        closed_at__isnull=False,
                        close_entry__isnull=False,
                    )
                ),
                name="ledger_hold_closed_by_an_entry",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=HoldStatus.CAPTURED, captured_amount__gte=0)
                    | (~Q(status=HoldStatus.CAPTURED) & Q(captured_amount__isnull=True))
                ),
                name="ledger_hold_captured_amount",
            ),
            # One open hold per thing held for: an order is never held twice.
            models.UniqueConstraint(
                fields=["reference"],
                condition=Q(status=HoldStatus.HELD),
                name="ledger_hold_one_open_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.amount} ({self.get_status_display()})"
