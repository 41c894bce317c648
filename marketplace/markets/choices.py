"""Kinds of traders and the states of a market's business day."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TraderKind(models.TextChoices):
    SELLER = "seller", _("Seller")
    BUYER = "buyer", _("Buyer")


class DayStatus(models.TextChoices):
    OPEN = "open", _("Open")
    # End of day has begun: no new trades; payouts and statements are being written.
    CLOSING = "closing", _("Closing")
    CLOSED = "closed", _("Closed")
