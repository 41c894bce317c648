"""Refusals of the cold chain, one class each; the API turns them into 400/409."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError, RefusalKind


class ColdChainError(DomainError):
    default_message = _("The cold-chain request was refused.")


class InvalidShipmentTransition(ConflictError):
    default_message = _("The shipment cannot do this in its current state.")


class AlertAlreadyAcknowledged(ConflictError):
    default_message = _("This alert has already been acknowledged.")


class LoggerAlreadyAssigned(ConflictError):
    default_message = _("This logger is already assigned for that period.")


class IngestRejected(ColdChainError):
    """A batch with bad rows: `errors` lists {"index", "field", "message"} for each."""

    default_message = _("The batch was rejected: some readings are not valid.")

    def __init__(self, message=None, *, errors: list[dict], **details):
        self.errors = errors
        super().__init__(message, **details)

    def as_dict(self) -> dict:
        return {"detail": str(self.message), "errors": self.errors}


class MalformedBatch(ColdChainError):
    """The body cannot be read as a batch at all (HTTP 400)."""

    default_message = _("The batch could not be read.")


class BatchTooLarge(ColdChainError):
    """More readings (or bytes) than one batch may hold (HTTP 413)."""

    kind = RefusalKind.TOO_LARGE
    default_message = _("The batch is too large.")


class ForeignReadings(ColdChainError):
    """A row names another logger (HTTP 403): nothing of the batch is stored."""

    kind = RefusalKind.FORBIDDEN
    default_message = _("A logger may only send its own readings.")
