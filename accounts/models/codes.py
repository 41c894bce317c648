"""One-time codes sent by SMS: sign-up, sign-in without a password, password reset, a new
phone number. Only a keyed hash of the code is kept; the row also counts the sends and
tries that the rate limits read (accounts.services.codes)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import CodePurpose


class PhoneCode(models.Model):
    """One code sent to one number for one purpose. A newer code for the same number and
    purpose replaces it (the older one stops working)."""

    phone = models.CharField(_("mobile phone"), max_length=14)
    purpose = models.CharField(_("purpose"), max_length=20, choices=CodePurpose)
    code_hash = models.CharField(_("code hash"), max_length=64)
    client_address = models.GenericIPAddressField(_("requested from"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-sent_at", "-id"]
        indexes = [
            # The newest code of a number, and the sends per number in the last minute / day.
            models.Index(fields=["phone", "purpose", "-sent_at"], name="phone_code_latest"),
            models.Index(fields=["phone", "sent_at"], name="phone_code_sends"),
            # The sends per address (one address asking codes for many numbers).
            models.Index(
                fields=["client_address", "sent_at"],
                name="phone_code_sends_by_address",
                condition=Q(client_address__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=CodePurpose.values), name="phone_code_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("sent_at")), name="phone_code_expires_later"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} → {self.phone[:5]}****{self.phone[-4:]}"
