"""DomainError: a refusal by a business rule, with a translated message.

Each app subclasses it once per refusal (InsufficientStock, InvalidTransition, ...). The
API's exception handler turns it into 400/409 JSON; pages turn it into a form error.
"""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the request. `field` names the input at fault, if one is."""

    default_message = _("The request was refused.")
    status_code = 400
    field: str | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None, **details):
        self.message = message if message is not None else self.default_message
        if field is not None:
            self.field = field
        self.details = details
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        """The JSON body: field errors where a field is at fault, else a detail."""
        if self.field:
            return {self.field: [str(self.message)]}
        return {"detail": str(self.message)}


class ConflictError(DomainError):
    """The request is well formed but conflicts with the current state (HTTP 409)."""

    status_code = 409


class NotFoundOrNotYours(DomainError):
    """An id in a request's body names nothing the user may use: one message whether it does
    not exist or belongs to someone else, so ids of other people's things are not confirmed
    (and nothing about them, such as a lot's code or quantity, is told)."""

    default_message = _("Not found, or not yours.")


def get_usable_or_refuse(queryset, *, field: str, **lookup):
    """One object of `queryset` (what the user may use) by `lookup`, for an id taken from a
    request's body; otherwise NotFoundOrNotYours on `field` (400, the same for both cases)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFoundOrNotYours(field=field) from None
