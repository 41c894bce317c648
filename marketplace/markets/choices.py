"""Kinds of traders and the states of a market's business day."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TraderKind(models.TextChoices):
    SELLER = "seller", _("Seller")
    BUYER = "buyer", _("Buyer")


class DayStatus(models.TextChoices):
    # "Closed" alone already means a listing taken off sale: the day's states have a context.
    OPEN = "open", pgettext_lazy("business day", "Open")
    # End of day has begun: no new trades; payouts and statements are being written.
    CLOSING = "closing", pgettext_lazy("business day", "Closing")
    CLOSED = "closed", pgettext_lazy("business day", "Closed")


class CardApplicationStatus(models.TextChoices):
    """A buyer's application for a card at a market: waiting for the market, or decided."""

    PENDING = "pending", pgettext_lazy("card application", "Waiting for the market")
    APPROVED = "approved", pgettext_lazy("card application", "Card issued")
    DECLINED = "declined", pgettext_lazy("card application", "Declined")
