"""Maker–checker at the counter: top-ups and withdrawals waiting for a supervisor, and each
operator's cash-drawer count at the end of a business day.

Rules in marketplace/markets/funding.py and drawers.py; the money itself moves only in the
ledger, once a request is approved.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from common.state_machine import Transitions
from settlement.choices import FundingMethod


class FundingKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    WITHDRAWAL = "withdrawal", _("Withdrawal")


class RequestStatus(models.TextChoices):
    # "Approved" and "Declined" say other things of a certificate or an order: a context.
    PENDING = "pending", pgettext_lazy("funding request", "Waiting for approval")
    APPROVED = "approved", pgettext_lazy("funding request", "Approved")
    DECLINED = "declined", pgettext_lazy("funding request", "Declined")


# pending → approved | declined; a decided request never changes again.
REQUEST_TRANSITIONS = Transitions(
    {RequestStatus.PENDING: {RequestStatus.APPROVED, RequestStatus.DECLINED}}
)


class FundingRequest(models.Model):
    """A top-up or withdrawal an operator asked for, in the ledger only once a supervisor
    other than her approved it (then `entry` is its journal entry)."""

    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.PROTECT,
        related_name="funding_requests",
        verbose_name=_("market"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FundingKind)
    trader = models.ForeignKey(
        "marketplace.Trader",
        on_delete=models.PROTECT,
        related_name="funding_requests",
        verbose_name=_("card holder"),
    )
    account = models.ForeignKey(
        "settlement.Account", on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")
    method = models.CharField(_("method"), max_length=16, choices=FundingMethod)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"))
    business_date = models.DateField(_("business date"))
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # "<market id>:<kind>:<the client's key>": a retry of the request finds it.
    idempotency_key = models.CharField(_("idempotency key"), max_length=160, unique=True)
    entry = models.OneToOneField(
        "settlement.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="funding_request",
        verbose_name=_("journal entry"),
    )

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["FundingRequest"]] = models.Manager()

    class Meta:
        verbose_name = _("top-up or withdrawal request")
        verbose_name_plural = _("top-up and withdrawal requests")
        indexes = [
            models.Index(
                fields=["market", "requested_at"],
                condition=Q(status="pending"),
                name="market_funding_pending",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=FundingKind.values), name="market_funding_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="market_funding_status_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="market_funding_amount"),
            # The maker never checks her own request; an approved one has its entry.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="market_funding_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, entry__isnull=True)
                | Q(status="approved", decided_by__isnull=False, entry__isnull=False)
                | Q(status="declined", decided_by__isnull=False, entry__isnull=True),
                name="market_funding_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.amount}"

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING

    def can_move_to(self, status: str) -> bool:
        return REQUEST_TRANSITIONS.allows(self.status, status)


class DrawerCount(models.Model):
    """The cash an operator counted in her drawer at the end of a business day, beside what
    the ledger says she took in and paid out in cash that day. Recorded once."""

    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.PROTECT,
        related_name="drawer_counts",
        verbose_name=_("market"),
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("operator"),
    )
    business_date = models.DateField(_("business date"))
    counted = MoneyField(_("counted"), max_digits=14, decimal_places=2, default_currency="CNY")
    expected = MoneyField(_("expected"), max_digits=14, decimal_places=2, default_currency="CNY")
    # counted − expected: above zero the drawer holds more than the ledger, below it less.
    difference = MoneyField(
        _("difference"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    # Typed here: djmoney swaps in a manager class of its own at runtime, which the type
    # checker cannot see.
    objects: ClassVar[models.Manager["DrawerCount"]] = models.Manager()

    class Meta:
        verbose_name = _("cash-drawer count")
        verbose_name_plural = _("cash-drawer counts")
        constraints = [
            models.UniqueConstraint(
                fields=["market", "operator", "business_date"], name="market_drawer_count_once"
            ),
            models.CheckConstraint(condition=Q(counted__gte=0), name="market_drawer_counted"),
            models.CheckConstraint(
                condition=Q(difference=models.F("counted") - models.F("expected")),
                name="market_drawer_difference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.business_date}: {self.counted}"
