"""Refusals of front warehouses and delivery, one class each; each says its kind of refusal
(`common.exceptions.RefusalKind`), and the doors turn kinds into answers."""

from django.utils.translation import gettext_lazy as _

from common.exceptions import ConflictError, DomainError, RefusalKind
from settlement.exceptions import InsufficientBalance


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


class CourierNotActive(CourierError):
    """Waiting for activation, or deactivated: no shift, no offers."""

    kind = RefusalKind.CONFLICT
    field = "on_shift"
    default_message = _(
        "Your warehouse has not activated you as a courier: you cannot start a shift or take tasks."
    )


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


# --- Couriers joining: invitations, activation -----------------------------------------------


class CourierInvitationRefused(DeliveryError):
    """Bad input or a rule of invitations, on its field (phone, vehicle_type, capacity)."""


class CourierInvitationConflict(ConflictError, CourierInvitationRefused):
    """The invitation's state does not allow this (answered, cancelled, sent a moment ago)."""


class CourierInvitationNotForYou(CourierInvitationRefused):
    """The signed-in account is not the invited number's, or has another job here."""

    kind = RefusalKind.FORBIDDEN


class CourierInvitationNotFound(CourierInvitationRefused):
    """No such invitation, or not one of the manager's warehouse (or its link is no longer
    valid): one answer for all."""

    kind = RefusalKind.NOT_FOUND
    default_message = _("This invitation is not valid any more. Ask the warehouse for a new one.")


class CourierNotFound(CourierError):
    kind = RefusalKind.NOT_FOUND
    default_message = _("No such courier at your warehouse.")


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


# --- Consumer orders, stock and replenishment ------------------------------------------------


class OrderLineRefused(DeliveryError):
    """A refusal about one line of the order: the JSON names the field, and the line's index
    and product beside it, so a form can show it at that product."""

    field = "quantity_kg"

    def __init__(self, message=None, *, line: int, product_id, field: str | None = None):
        self.line = line
        self.product_id = product_id
        super().__init__(message, field=field, line=line, product_id=product_id)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "line": self.line}


class OrderLineShortOfStock(OrderLineRefused, InsufficientStock):
    """More than the warehouse holds of the line's product."""

    kind = RefusalKind.CONFLICT


class WalletShort(InsufficientBalance):
    default_message = _(
        "Your wallet holds %(balance)s and this order costs %(needed)s. Top up your wallet, "
        "or order less."
    )


class OrderNotYours(DeliveryError):
    """The order is visible to the user but this step is someone else's."""

    default_message = _("This step is not yours to take on this order.")
    kind = RefusalKind.FORBIDDEN


class OrderStepRefused(DeliveryError):
    """The order's state does not allow the step."""

    kind = RefusalKind.CONFLICT


class PlanNotYours(DeliveryError):
    default_message = _("Only the manager of this warehouse adjusts and approves its purchases.")


class PlanApproved(DeliveryError):
    """An approved plan has placed its orders and no longer changes."""

    kind = RefusalKind.CONFLICT
    default_message = _("This plan is approved and its orders are placed; it no longer changes.")


class AlreadyReceived(ConflictError):
    """A marketplace order line or a market trade is received once."""

    default_message = _("This delivery was already received.")
