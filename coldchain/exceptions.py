"""Refusals of the cold chain, one class each, each saying its kind of refusal (invalid,
conflict, not found, forbidden, too large); the doors map kinds to answers
(common.refusals)."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError, InvalidTransition, RefusalKind


class ColdChainError(DomainError):
    default_message = _("The cold-chain request was refused.")


class InvalidShipmentTransition(InvalidTransition):
    """The shipment's status does not allow this move (SHIPMENT_MOVES): a conflict."""

    default_message = _("The shipment cannot do this in its current state.")


class AlertAlreadyAcknowledged(ConflictError):
    default_message = _("This alert has already been acknowledged.")


class LoggerAlreadyAssigned(ConflictError):
    default_message = _("This logger is already assigned for that period.")


class MixedLoadNeedsConfirmation(ColdChainError):
    """The products can travel together, but awkwardly: the planner must say so again.
    `warnings` are the sentences to show; the API sends them beside the field error."""

    default_message = _("Mixing these products is awkward: confirm to plan the shipment anyway.")
    field = "accept_warnings"

    def __init__(self, warnings: list[str]):
        self.warnings = warnings
        super().__init__()

    def as_dict(self) -> dict:
        return {**super().as_dict(), "warnings": self.warnings}


class IngestRejected(ColdChainError):
    """A batch with bad rows: `errors` lists {"index", "field", "message"} for each."""

    default_message = _("The batch was rejected: some readings are not valid.")

    def __init__(self, message=None, *, errors: list[dict], **details):
        self.errors = errors
        super().__init__(message, **details)

    def as_dict(self) -> dict:
        return {"detail": str(self.message), "errors": self.errors}


class MalformedBatch(ColdChainError):
    """The body cannot be read as a batch at all (invalid)."""

    default_message = _("The batch could not be read.")


class BatchTooLarge(ColdChainError):
    """More readings (or bytes) than one batch may hold."""

    kind = RefusalKind.TOO_LARGE
    default_message = _("The batch is too large.")


class ForeignReadings(ColdChainError):
    """A row names another logger: nothing of the batch is stored."""

    kind = RefusalKind.FORBIDDEN
    default_message = _("A logger may only send its own readings.")


# The logger simulator's (manage.py simulate_loggers), about the platform it posts to.


class ServerAway(Exception):
    """The platform did not answer, or failed: worth trying again later."""


class Refused(Exception):
    """The platform refused the batch: sending it again would not help."""
