"""Refusals of the traceability app. Each names the input at fault in `field` where one is."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import DomainError, RefusalKind


class TraceabilityError(DomainError):
    default_message = _("The traceability request was refused.")


class UnknownTraceCode(TraceabilityError):
    """One answer for a code that never existed and one that was revoked elsewhere: the gate
    and the public page do not confirm which codes exist."""

    default_message = _("No label has this trace code.")
    kind = RefusalKind.NOT_FOUND
    field = "code"


# Recalls


class RecallLotNotFound(TraceabilityError):
    """One answer for a lot that does not exist and one the user may not recall (an id in the
    request's body, like common.exceptions.NotFoundOrNotYours)."""

    default_message = _("No lot you may recall has this number.")
    field = "lot"


class RecallAlreadyOpen(TraceabilityError):
    default_message = _("This lot already has an open recall.")
    kind = RefusalKind.CONFLICT
    field = "lot"


class InvalidRecall(TraceabilityError):
    """Bad input to a recall: the field at fault is named."""

    default_message = _("The recall was refused.")


class RecallNotFound(TraceabilityError):
    default_message = _("No recall you may see has this number.")
    kind = RefusalKind.NOT_FOUND


class RecallClosed(TraceabilityError):
    default_message = _("This recall is closed.")
    kind = RefusalKind.CONFLICT


class RecallForbidden(TraceabilityError):
    default_message = _(
        "Only the lot's co-operative managers, the supervisors of the markets where it was "
        "checked in or traded, and the platform admin may do this."
    )
    kind = RefusalKind.FORBIDDEN


class NotRecallParty(TraceabilityError):
    default_message = _("Only someone who was told of this recall may acknowledge it.")
    kind = RefusalKind.FORBIDDEN


class DispositionTooLarge(TraceabilityError):
    default_message = _("More than what is left of this record to account for.")
    field = "returned_kg"


class RecallReportNotReady(TraceabilityError):
    default_message = _("The report is made when the recall is closed.")
    kind = RefusalKind.CONFLICT
