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


class UnknownScan(TraceabilityError):
    """The scan a page's location refers to: unknown, or its token expired or was altered."""

    default_message = _("This page view is unknown or too old; open the page again.")
    kind = RefusalKind.NOT_FOUND
    field = "scan"


class InvalidScanLocation(TraceabilityError):
    default_message = _("Give a longitude between −180 and 180 and a latitude between −90 and 90.")
    kind = RefusalKind.INVALID
    field = "latitude"


class ScanAlreadyLocated(TraceabilityError):
    default_message = _("This page view already has its location.")
    kind = RefusalKind.CONFLICT
    field = "scan"
