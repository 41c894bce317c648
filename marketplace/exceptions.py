"""Refusals of the marketplace, one class each; the API turns them into 400/409."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError


class MarketplaceError(DomainError):
    default_message = _("The marketplace request was refused.")


class InvalidTransition(ConflictError):
    """A state change that is not allowed from the current state (HTTP 409)."""

    default_message = _("This is not possible in the current state.")

    def __init__(self, message=None, *, current: str = "", requested: str = "", **details):
        super().__init__(message, current=current, requested=requested, **details)
