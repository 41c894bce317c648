"""Refusals of front warehouses and delivery, one class each; each says its kind of refusal
(`common.exceptions.RefusalKind`), and the doors turn kinds into answers."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError, RefusalKind


class DeliveryError(DomainError):
    default_message = _("The delivery request was refused.")


class InsufficientStock(ConflictError):
    default_message = _("Not enough in stock.")


# --- Couriers -------------------------------------------------------------------------------


class CourierError(DeliveryError):
    default_message = _("The courier's request was refused.")


class TaskNotFound(CourierError):
    """Not one of the courier's tasks (another's is not found either: ids are not confirmed)."""

    kind = RefusalKind.NOT_FOUND
    default_message = _("No such task.")


class OrderNotFound(CourierError):
    kind = RefusalKind.NOT_FOUND
    default_message = _("No such order.")


class StepNotAllowed(CourierError):
    """The task or order is not in a state that allows this step."""

    kind = RefusalKind.CONFLICT
    default_message = _("This is not possible in the current state.")


class ShiftNotEnded(CourierError):
    kind = RefusalKind.CONFLICT
    field = "on_shift"
    default_message = _("Finish your current task before ending your shift.")


class ImpossiblePosition(CourierError):
    """A fix implying a speed no courier reaches (a GPS jump, or a forged position)."""

    field = "position"


class WrongDeliveryCode(CourierError):
    field = "code"


class DeliveryCodeLocked(CourierError):
    field = "code"
    default_message = _(
        "Too many wrong codes: the code is locked. Take a photo of the delivery instead."
    )


class ProofPhotoRefused(CourierError):
    field = "photo"


# --- Dispatch -------------------------------------------------------------------------------


class DispatchError(DeliveryError):
    default_message = _("The dispatch request was refused.")


class OfferNotFound(DispatchError):
    """Not the courier's own offer: not found, so others' offers are not confirmed to exist."""

    kind = RefusalKind.NOT_FOUND
    default_message = _("No such offer.")


class DispatchTaskNotFound(DispatchError):
    """Not a task of the manager's warehouse (or no such task)."""

    kind = RefusalKind.NOT_FOUND
    default_message = _("No such delivery task.")


class OfferExpired(DispatchError):
    kind = RefusalKind.CONFLICT
    default_message = _("This offer has expired; nothing was assigned to you.")


class OfferNoLongerOpen(DispatchError):
    kind = RefusalKind.CONFLICT
    default_message = _("This offer is no longer open.")


class CourierCannotTakeTask(DispatchError):
    """Off shift, or the task would take the courier over his capacity."""

    kind = RefusalKind.CONFLICT
    default_message = _("You cannot take this task now.")


class TaskAlreadyTaken(DispatchError):
    kind = RefusalKind.CONFLICT
    default_message = _("A courier has already taken this task.")
