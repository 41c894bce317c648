"""A buyer's application for a trader card at a wholesale market (marketplace/markets/cards.py
holds its rules). An approved one points at the Trader the market registered for her."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from .choices import CardApplicationStatus


class TraderCardApplication(TimeStampedModel):
    """A restaurant or a shop asks a market for a buyer's card: who the business is (its name
    and licence number) and whom the market calls about it."""

    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.PROTECT,
        related_name="card_applications",
        verbose_name=_("market"),
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="card_applications",
        verbose_name=_("applicant"),
    )
    business_name = models.CharField(_("business name"), max_length=120)
    licence_number = models.CharField(_("business licence number"), max_length=18)
    contact_name = models.CharField(_("contact name"), max_length=60)
    contact_phone = models.CharField(_("contact phone"), max_length=14)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CardApplicationStatus,
        default=CardApplicationStatus.PENDING,
    )
    # Why the market declined: the applicant reads it.
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    trader = models.OneToOneField(
        "marketplace.Trader",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_application",
        verbose_name=_("trader"),
    )

    class Meta:
        verbose_name = _("card application")
        verbose_name_plural = _("card applications")
        indexes = [
            models.Index(fields=["market", "status", "created_at"], name="card_application_queue")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CardApplicationStatus.values),
                name="card_application_status_valid",
            ),
            # One application waiting per person and market: a second is refused.
            models.UniqueConstraint(
                fields=["applicant", "market"],
                condition=Q(status=CardApplicationStatus.PENDING),
                name="card_application_one_pending",
            ),
            # Issued means a trader; a trader only when issued; decided means reviewed.
            models.CheckConstraint(
                condition=(
                    Q(status=CardApplicationStatus.APPROVED, trader__isnull=False)
                    | (~Q(status=CardApplicationStatus.APPROVED) & Q(trader__isnull=True))
                ),
                name="card_application_trader_when_approved",
            ),
            models.CheckConstraint(
                condition=Q(status=CardApplicationStatus.PENDING)
                | Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="card_application_decided_is_reviewed",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.market}"

    @property
    def is_pending(self) -> bool:
        return self.status == CardApplicationStatus.PENDING
