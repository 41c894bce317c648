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
