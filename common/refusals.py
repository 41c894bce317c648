"""The one place where the kind of a domain refusal becomes an HTTP status, for the API's
exception handler and for pages that show the refusal in a form."""

from common.exceptions import DomainError, RefusalKind

STATUS_FOR_KIND = {
    RefusalKind.INVALID: 400,
    RefusalKind.CONFLICT: 409,
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.TOO_LARGE: 413,
    RefusalKind.TOO_MANY: 429,
}


def status_for(refusal: DomainError) -> int:
    return STATUS_FOR_KIND[refusal.kind]
