from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from common.state_machine import Transitions


class SiteKind(models.TextChoices):
    FARM = "farm", _("Farm")
    COOPERATIVE = "cooperative", _("Co-operative")
    MARKET = "market", _("Wholesale market")
    FRONT_WAREHOUSE = "front_warehouse", _("Front warehouse")
    OTHER = "other", pgettext_lazy("site kind", "Other")


class ShipmentStatus(models.TextChoices):
    PLANNED = "planned", pgettext_lazy("shipment", "Planned")
    IN_TRANSIT = "in_transit", _("In transit")
    DELIVERED = "delivered", pgettext_lazy("shipment", "Delivered")
    REJECTED = "rejected", pgettext_lazy("shipment", "Rejected")
    CANCELLED = "cancelled", pgettext_lazy("shipment", "Cancelled")


class ExcursionKind(models.TextChoices):
    TOO_WARM = "too_warm", _("Too warm")
    TOO_COLD = "too_cold", _("Too cold")


class AlertKind(models.TextChoices):
    EXCURSION = "excursion", _("Temperature excursion")
    SIGNAL_LOST = "signal_lost", _("Loss of signal")


class Severity(models.IntegerChoices):
    MINOR = 1, _("Minor")
    MAJOR = 2, _("Major")
    CRITICAL = 3, _("Critical")


class HandoverKind(models.TextChoices):
    LOADING = "loading", _("Loading")
    UNLOADING = "unloading", _("Unloading")


class HandoverDecision(models.TextChoices):
    ACCEPTED = "accepted", pgettext_lazy("goods", "Accepted")
    REJECTED = "rejected", pgettext_lazy("goods", "Rejected")


# The one transition table of a shipment: planned → loaded (in transit) or cancelled; in transit
# → unloaded and accepted (delivered) or refused (rejected). Every move is checked against it and
# recorded as a ShipmentEvent (coldchain.services.shipments.move_shipment).
SHIPMENT_MOVES = Transitions(
    {
        ShipmentStatus.PLANNED: {ShipmentStatus.IN_TRANSIT, ShipmentStatus.CANCELLED},
        ShipmentStatus.IN_TRANSIT: {ShipmentStatus.DELIVERED, ShipmentStatus.REJECTED},
    }
)

# Where each handover's decision takes the shipment; whether the move is allowed now is the
# table's business (SHIPMENT_MOVES), so a handover is due exactly when its moves are allowed.
HANDOVER_OUTCOMES: dict[str, dict[str, str]] = {
    HandoverKind.LOADING: {
        HandoverDecision.ACCEPTED: ShipmentStatus.IN_TRANSIT,
        HandoverDecision.REJECTED: ShipmentStatus.CANCELLED,
    },
    HandoverKind.UNLOADING: {
        HandoverDecision.ACCEPTED: ShipmentStatus.DELIVERED,
        HandoverDecision.REJECTED: ShipmentStatus.REJECTED,
    },
}
