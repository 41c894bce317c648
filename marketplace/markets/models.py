"""Wholesale markets: stalls, traders with settlement cards, counter trades, business days.

A market settles electronically (电子统一结算): buyers pay from a prepaid card (一卡通), the
operator records each trade at the weighing counter, the market keeps its commission and
pays sellers out at the end of the business day. The money moves in the ledger
(settlement/); the rows here say what was traded and what each day produced.
"""

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from common.models import TimeStampedModel

from .choices import DayStatus, TraderKind

MAX_TRADE_KG = Decimal("100000")  # one weighing; beyond any truck, so a typo is caught
MAX_UNIT_PRICE = Decimal("10000.00")  # CNY per kg
CARD_NUMBER = RegexValidator(r"^[0-9]{8,19}$", _("A card number has 8 to 19 digits."))
# Maker–checker at the counter (marketplace/markets/funding.py): what one operator may book
# alone. A cash top-up above the threshold waits for a supervisor; the limits cap each
# operator's top-ups unless her staff row sets her own.
DEFAULT_APPROVAL_THRESHOLD = Decimal("5000.00")
DEFAULT_OPERATOR_TRANSACTION_LIMIT = Decimal("50000.00")
DEFAULT_OPERATOR_DAILY_LIMIT = Decimal("200000.00")


def _limit(verbose_name, default=None, **kwargs) -> MoneyField:
    return MoneyField(
        verbose_name,
        max_digits=14,
        decimal_places=2,
        default_currency="CNY",
        default=default,
        **kwargs,
    )


class Market(TimeStampedModel):
    """A wholesale market with its own settlement book."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True)
    city = models.CharField(_("city"), max_length=80)
    address = models.CharField(_("address"), max_length=200, blank=True)
    book = models.OneToOneField(
        "settlement.Book", on_delete=models.PROTECT, related_name="market", verbose_name=_("book")
    )
    approval_threshold = _limit(
        _("cash top-up approval threshold"),
        DEFAULT_APPROVAL_THRESHOLD,
        help_text=_("A cash top-up above this waits for a supervisor's approval."),
    )
    operator_transaction_limit = _limit(
        _("operator's limit per top-up"),
        DEFAULT_OPERATOR_TRANSACTION_LIMIT,
        help_text=_("The most one operator may top up at once, unless her own limit is set."),
    )
    operator_daily_limit = _limit(
        _("operator's limit per day"),
        DEFAULT_OPERATOR_DAILY_LIMIT,
        help_text=_("The most one operator may top up in a business day, unless her own is set."),
    )
    # Read by the counter through farms' lot admissions: traceability's gate records them.
    entry_check_required = models.BooleanField(
        _("only lots checked in at the gate may trade"),
        default=False,
        help_text=_(
            "When set, the counter refuses a lot that has not passed this market's entry check."
        ),
    )
    accepts_card_applications = models.BooleanField(
        _("takes card applications"),
        default=True,
        help_text=_("Buyers may ask this market for a card on FreshChain."),
    )

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["Market"]] = models.Manager()

    class Meta:
        verbose_name = _("wholesale market")
        verbose_name_plural = _("wholesale markets")
        constraints = [
            models.CheckConstraint(
                condition=Q(approval_threshold__gte=0)
                & Q(operator_transaction_limit__gt=0)
                & Q(operator_daily_limit__gt=0),
                name="market_counter_limits_positive",
            )
        ]

    def __str__(self) -> str:
        return self.name


class MarketStaff(models.Model):
    """An operator works for one market and sees only it; a supervisor may reverse trades."""

    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="staff", verbose_name=_("market")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="market_staff",
        verbose_name=_("user"),
    )
    is_supervisor = models.BooleanField(_("is a supervisor"), default=False)
    # Her own limits on top-ups; empty: the market's.
    transaction_limit = _limit(_("limit per top-up"), null=True, blank=True)
    daily_limit = _limit(_("limit per day"), null=True, blank=True)

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["MarketStaff"]] = models.Manager()

    class Meta:
        verbose_name = _("market staff member")
        verbose_name_plural = _("market staff")
        constraints = [
            models.CheckConstraint(
                condition=(Q(transaction_limit__isnull=True) | Q(transaction_limit__gt=0))
                & (Q(daily_limit__isnull=True) | Q(daily_limit__gt=0)),
                name="market_staff_limits_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.market}"

    @property
    def top_up_limit(self):
        """The most she may top up at once: her own limit, else the market's."""
        return self.transaction_limit or self.market.operator_transaction_limit

    @property
    def top_up_daily_limit(self):
        """The most she may top up in a business day: her own limit, else the market's."""
        return self.daily_limit or self.market.operator_daily_limit


class Stall(models.Model):
    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="stalls", verbose_name=_("market")
    )
    code = models.CharField(_("stall number"), max_length=20)
    hall = models.CharField(_("hall"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("stall")
        verbose_name_plural = _("stalls")
        constraints = [
            models.UniqueConstraint(fields=["market", "code"], name="market_stall_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.hall} {self.code}".strip()


class Trader(TimeStampedModel):
    """A seller or buyer registered at a market, with a settlement card and account."""

    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="traders", verbose_name=_("market")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=TraderKind)
    name = models.CharField(_("name"), max_length=120)
    card_number = models.CharField(
        _("card number"), max_length=19, unique=True, validators=[CARD_NUMBER]
    )
    # The person who signs in to see statements (a farmer, a buyer), if she has an account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="market_traders",
        verbose_name=_("user"),
    )
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="market_traders",
        verbose_name=_("co-operative"),
    )
    stall = models.ForeignKey(
        Stall,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="traders",
        verbose_name=_("stall"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        verbose_name = _("trader")
        verbose_name_plural = _("traders")
        constraints = [
            models.UniqueConstraint(
                fields=["market", "kind", "user"],
                condition=Q(user__isnull=False),
                name="market_trader_one_per_user",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_seller(self) -> bool:
        return self.kind == TraderKind.SELLER


class CommissionRule(models.Model):
    """The market's commission on a trade, per side: a percentage with a minimum fee.

    A rule for the product's category wins over the market's default (no category).
    """

    market = models.ForeignKey(
        Market, on_delete=models.CASCADE, related_name="commission_rules", verbose_name=_("market")
    )
    category = models.CharField(_("category"), max_length=32, blank=True)
    buyer_pct = models.DecimalField(
        _("buyer commission (%)"), max_digits=5, decimal_places=2, default=0
    )
    seller_pct = models.DecimalField(
        _("seller commission (%)"), max_digits=5, decimal_places=2, default=0
    )
    minimum_fee = MoneyField(
        _("minimum fee per side"),
        max_digits=10,
        decimal_places=2,
        default_currency="CNY",
        default=0,
    )

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["CommissionRule"]] = models.Manager()

    class Meta:
        verbose_name = _("commission rule")
        verbose_name_plural = _("commission rules")
        constraints = [
            models.UniqueConstraint(
                fields=["market", "category"], name="market_commission_rule_unique"
            ),
            models.CheckConstraint(
                condition=Q(buyer_pct__gte=0, buyer_pct__lte=20, seller_pct__gte=0)
                & Q(seller_pct__lte=20),
                name="market_commission_pct_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.category or '*'}: {self.buyer_pct}% / {self.seller_pct}%"


class MarketDay(models.Model):
    """A market's business day (Asia/Shanghai): open for trades, closing, closed."""

    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="days", verbose_name=_("market")
    )
    business_date = models.DateField(_("business date"))
    status = models.CharField(_("status"), max_length=16, choices=DayStatus, default=DayStatus.OPEN)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # Not a column: the day's report, set on the rows a page shows by
    # selectors.days.with_reports (None while the day is not closed).
    report: "DailyReport | None"

    class Meta:
        verbose_name = _("business day")
        verbose_name_plural = _("business days")
        constraints = [
            models.UniqueConstraint(fields=["market", "business_date"], name="market_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.business_date}"


class Trade(models.Model):
    """A sale weighed and settled at the market's counter. Reversed, never deleted."""

    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="trades", verbose_name=_("market")
    )
    business_date = models.DateField(_("business date"))
    seller = models.ForeignKey(
        Trader, on_delete=models.PROTECT, related_name="sales", verbose_name=_("seller")
    )
    buyer = models.ForeignKey(
        Trader, on_delete=models.PROTECT, related_name="purchases", verbose_name=_("buyer")
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="market_trades",
        verbose_name=_("lot"),
    )
    gross_kg = models.DecimalField(_("gross (kg)"), max_digits=10, decimal_places=3)
    tare_kg = models.DecimalField(_("tare (kg)"), max_digits=10, decimal_places=3, default=0)
    net_kg = models.DecimalField(_("net (kg)"), max_digits=10, decimal_places=3)
    unit_price = MoneyField(
        _("price per kg"), max_digits=10, decimal_places=2, default_currency="CNY"
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")
    buyer_fee = MoneyField(
        _("buyer commission"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    seller_fee = MoneyField(
        _("seller commission"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    entry = models.OneToOneField(
        "settlement.JournalEntry",
        on_delete=models.PROTECT,
        related_name="trade",
        verbose_name=_("settlement entry"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    reversal = models.OneToOneField(
        "settlement.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_trade",
        verbose_name=_("reversal entry"),
    )
    reversal_reason = models.CharField(_("reason for reversal"), max_length=200, blank=True)

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["Trade"]] = models.Manager()

    class Meta:
        verbose_name = _("trade")
        verbose_name_plural = _("trades")
        indexes = [
            models.Index(fields=["market", "business_date"], name="market_trade_day"),
            models.Index(fields=["product", "business_date"], name="market_trade_product_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(tare_kg__gte=0) & Q(net_kg__gt=0),
                name="market_trade_weights",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.product} {self.net_kg} kg"

    @property
    def is_reversed(self) -> bool:
        return self.reversal_id is not None

    @property
    def buyer_pays(self):
        return self.amount + self.buyer_fee

    @property
    def seller_receives(self):
        return self.amount - self.seller_fee


class Statement(models.Model):
    """A trader's settlement statement for one closed business day (PDF and CSV on request).

    Written once by end of day from the ledger; rerunning end of day finds it and keeps it.
    """

    trader = models.ForeignKey(
        Trader, on_delete=models.PROTECT, related_name="statements", verbose_name=_("trader")
    )
    business_date = models.DateField(_("business date"))
    opening_balance = MoneyField(
        _("opening balance"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    closing_balance = MoneyField(
        _("closing balance"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    trade_count = models.PositiveIntegerField(_("trades"), default=0)
    volume_kg = models.DecimalField(_("volume (kg)"), max_digits=14, decimal_places=3, default=0)
    # The statement's lines as the ledger had them, so the PDF and CSV always read the same.
    lines = models.JSONField(_("lines"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["Statement"]] = models.Manager()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.UniqueConstraint(
                fields=["trader", "business_date"], name="market_statement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.trader} {self.business_date}"


class DailyReport(models.Model):
    """The market's figures for one closed business day."""

    market = models.ForeignKey(
        Market, on_delete=models.PROTECT, related_name="daily_reports", verbose_name=_("market")
    )
    business_date = models.DateField(_("business date"))
    trade_count = models.PositiveIntegerField(_("trades"))
    reversed_count = models.PositiveIntegerField(_("reversed trades"))
    volume_kg = models.DecimalField(_("volume (kg)"), max_digits=14, decimal_places=3)
    turnover = MoneyField(_("turnover"), max_digits=14, decimal_places=2, default_currency="CNY")
    commission = MoneyField(
        _("commission"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    top_ups = MoneyField(_("top-ups"), max_digits=14, decimal_places=2, default_currency="CNY")
    payouts = MoneyField(_("payouts"), max_digits=14, decimal_places=2, default_currency="CNY")
    withdrawals = MoneyField(
        _("withdrawals"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["DailyReport"]] = models.Manager()

    class Meta:
        verbose_name = _("daily report")
        verbose_name_plural = _("daily reports")
        constraints = [
            models.UniqueConstraint(
                fields=["market", "business_date"], name="market_daily_report_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.market} {self.business_date}"
