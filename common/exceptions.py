"""DomainError: a refusal by a business rule, with a translated message and its kind.

Each app subclasses it once per refusal (InsufficientStock, InvalidTransition, ...) in its
`exceptions.py`. The domain says what kind of refusal it is, never an HTTP code: the doors
map kinds to status codes in one place (`common.refusals.status_for`).
"""

from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


class RefusalKind(StrEnum):
    INVALID = "invalid"  # the input breaks a rule whatever the state
    CONFLICT = "conflict"  # well formed, but the current state does not allow it
    NOT_FOUND = "not_found"  # the thing does not exist, or is not this user's to see
    FORBIDDEN = "forbidden"  # it exists and the user may see it, but not do this
    TOO_LARGE = "too_large"  # more than one request may carry, e.g. a logger's batch
    TOO_MANY = "too_many"  # a rate limit: try again later (`retry_after` seconds in details)


class DomainError(Exception):
    """A business rule refused the request. `field` names the input at fault, if one is."""

    default_message = _("The request was refused.")
    kind = RefusalKind.INVALID
    field: str | None = None

    def __init__(
        self, message: "str | StrPromise | None" = None, *, field: str | None = None, **details
    ):
        self.message: str | StrPromise = message if message is not None else self.default_message
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
    """The request is well formed but conflicts with the current state."""

    kind = RefusalKind.CONFLICT


class NotFoundError(DomainError):
    """The thing does not exist, or is not the user's to see: one answer for both."""

    kind = RefusalKind.NOT_FOUND


class ForbiddenError(DomainError):
    """The user may see the thing but not do this to it."""

    kind = RefusalKind.FORBIDDEN


class NotFoundOrNotYours(DomainError):
    """An id in a request's body names nothing the user may use: one message whether it does
    not exist or belongs to someone else, so ids of other people's things are not confirmed
    (and nothing about them, such as a lot's code or quantity, is told)."""

    default_message = _("Not found, or not yours.")


class InvalidTransition(ConflictError):
    """A state change that is not allowed from the current state (common.state_machine)."""

    default_message = _("This is not possible in the current state.")

    def __init__(self, message=None, *, current: str = "", requested: str = "", **details):
        super().__init__(message, current=current, requested=requested, **details)


class InvalidBoundary(DomainError):
    """Not one valid GeoJSON polygon in China (common.geometry)."""

    default_message = _("Enter the boundary as one GeoJSON polygon.")
    field = "boundary"


class InvalidLocation(DomainError):
    """Not a point in China as GeoJSON or "longitude,latitude" (common.geometry)."""

    default_message = _("Enter a location in China as longitude,latitude.")
    field = "location"


class InvalidPhoto(DomainError):
    """An upload that is not a JPEG, PNG or WebP photo (common.photos)."""

    default_message = _("Upload a photo in JPEG, PNG or WebP format.")
    field = "image"


class PhotoTooLarge(InvalidPhoto):
    default_message = _("This photo is too large.")


def get_usable_or_refuse(queryset, *, field: str, **lookup):
    """One object of `queryset` (what the user may use) by `lookup`, for an id taken from a
    request's body; otherwise NotFoundOrNotYours on `field` (invalid input, the same for both cases)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFoundOrNotYours(field=field) from None
