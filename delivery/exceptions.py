"""Refusals of front warehouses and delivery, one class each; the API turns them into 4xx."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError


class DeliveryError(DomainError):
    default_message = _("The delivery request was refused.")


class InsufficientStock(ConflictError):
    default_message = _("Not enough in stock.")
