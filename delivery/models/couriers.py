"""Couriers, their delivery tasks (one trip each) and the offers dispatch makes them, with
the history of every move of a task's and an offer's status."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from accounts.phone import mask_phone
from common.models import TimeStampedModel
from common.state_machine import StatusEvent, Transitions

from .warehouses import FrontWarehouse


class VehicleType(models.TextChoices):
    E_BIKE = "e_bike", _("E-bike")
    BICYCLE = "bicycle", _("Bicycle")
    MOTORBIKE = "motorbike", _("Motorbike")
    TRICYCLE = "tricycle", _("Tricycle")
    VAN = "van", _("Van")


class CourierStatus(models.TextChoices):
    """Only an ACTIVE courier goes on shift and is offered tasks. A courier who joins through
    an invitation WAITS until the warehouse's manager activates him; she may deactivate him
    (and activate him again) at any time."""

    WAITING = "waiting", pgettext_lazy("courier status", "Waiting for activation")
    ACTIVE = "active", pgettext_lazy("courier status", "Active")
    DEACTIVATED = "deactivated", pgettext_lazy("courier status", "Deactivated")


class Courier(TimeStampedModel):
    """A courier's shift, capacity and last known position (from the phone's geolocation)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="courier",
        verbose_name=_("user"),
    )
    home_warehouse = models.ForeignKey(
        FrontWarehouse,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="couriers",
        verbose_name=_("usual warehouse"),
    )
    is_on_shift = models.BooleanField(_("on shift"), default=False)
    capacity = models.PositiveSmallIntegerField(
        _("orders at once"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # geography: KNN (<->) orders by metres on the sphere, and the GiST index serves it.
    position = models.PointField(_("position"), geography=True, srid=4326, null=True, blank=True)
    position_at = models.DateTimeField(_("position time"), null=True, blank=True)
    shift_started_at = models.DateTimeField(_("shift started at"), null=True, blank=True)
    vehicle_type = models.CharField(
        _("vehicle"), max_length=16, choices=VehicleType, blank=True, default=""
    )
    # Couriers set up before invitations existed were working already: ACTIVE by default.
    status = models.CharField(
        _("status"), max_length=16, choices=CourierStatus, default=CourierStatus.ACTIVE
    )
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=10), name="courier_capacity_sensible"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CourierStatus.values), name="courier_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(vehicle_type__in=["", *VehicleType.values]),
                name="courier_vehicle_type_valid",
            ),
            # A courier waiting for activation has never started a shift. (A deactivated one
            # may still be on shift: he finishes the tasks he had accepted, then ends it.)
            models.CheckConstraint(
                condition=Q(is_on_shift=False) | ~Q(status=CourierStatus.WAITING),
                name="courier_waiting_not_on_shift",
            ),
        ]

    @property
    def is_active_courier(self) -> bool:
        return self.status == CourierStatus.ACTIVE

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.user.phone)

    def __str__(self) -> str:
        return str(self.user)


class DeliveryTaskStatus(models.TextChoices):
    OFFERING = "offering", _("Looking for a courier")
    UNASSIGNED = "unassigned", _("No courier yet")  # every candidate declined or was busy
    ASSIGNED = "assigned", _("Assigned")
    PICKED_UP = "picked_up", _("Picked up")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


# Every move a task's status may make (services/transitions.move_task refuses any other).
# Dispatch offers it (OFFERING), finds nobody (UNASSIGNED) and offers it again; a courier
# accepts it; a task whose orders were all cancelled before that is CANCELLED.
TASK_MOVES = Transitions(
    {
        DeliveryTaskStatus.OFFERING: {
            DeliveryTaskStatus.UNASSIGNED,
            DeliveryTaskStatus.ASSIGNED,
            DeliveryTaskStatus.CANCELLED,
        },
        DeliveryTaskStatus.UNASSIGNED: {DeliveryTaskStatus.OFFERING, DeliveryTaskStatus.CANCELLED},
        DeliveryTaskStatus.ASSIGNED: {DeliveryTaskStatus.PICKED_UP},
        DeliveryTaskStatus.PICKED_UP: {DeliveryTaskStatus.DONE},
    }
)

ACTIVE_TASK_STATUSES = (DeliveryTaskStatus.ASSIGNED, DeliveryTaskStatus.PICKED_UP)


class DeliveryTask(TimeStampedModel):
    """One trip of one courier: pick up one or more packed orders (a batch going the same
    way) at a warehouse and deliver each."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("warehouse")
    )
    courier = models.ForeignKey(
        Courier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
        verbose_name=_("courier"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryTaskStatus, default=DeliveryTaskStatus.OFFERING
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    earnings = MoneyField(
        _("courier's earnings"), max_digits=14, decimal_places=2, default_currency="CNY", default=0
    )

    class Meta:
        verbose_name = _("delivery task")
        verbose_name_plural = _("delivery tasks")
        indexes = [
            models.Index(fields=["courier", "status"], name="delivery_task_courier"),
            models.Index(fields=["status"], name="delivery_task_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryTaskStatus.values), name="delivery_task_status"
            ),
            models.CheckConstraint(
                condition=Q(courier__isnull=False)
                | Q(
                    status__in=[
                        DeliveryTaskStatus.OFFERING,
                        DeliveryTaskStatus.UNASSIGNED,
                        DeliveryTaskStatus.CANCELLED,
                    ]
                ),
                name="delivery_task_assigned_has_courier",
            ),
        ]


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# An offer is answered once: accepted, declined, expired, or withdrawn by dispatch.
OFFER_MOVES = Transitions(
    {
        OfferStatus.PENDING: {
            OfferStatus.ACCEPTED,
            OfferStatus.DECLINED,
            OfferStatus.EXPIRED,
            OfferStatus.WITHDRAWN,
        },
    }
)


class TaskOffer(models.Model):
    """A task offered to one courier until `expires_at`; one open offer per task and per
    courier at a time (the database refuses a second, whatever races)."""

    task = models.ForeignKey(
        DeliveryTask, on_delete=models.CASCADE, related_name="offers", verbose_name=_("task")
    )
    courier = models.ForeignKey(
        Courier, on_delete=models.CASCADE, related_name="offers", verbose_name=_("courier")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=OfferStatus, default=OfferStatus.PENDING
    )
    offered_at = models.DateTimeField(_("offered at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    distance_m = models.FloatField(_("distance to the warehouse (m)"))
    score = models.FloatField(_("score"))

    class Meta:
        verbose_name = _("task offer")
        verbose_name_plural = _("task offers")
        indexes = [models.Index(fields=["status", "expires_at"], name="task_offer_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["task"],
                condition=Q(status=OfferStatus.PENDING),
                name="task_offer_one_open_per_task",
            ),
            models.UniqueConstraint(
                fields=["courier"],
                condition=Q(status=OfferStatus.PENDING),
                name="task_offer_one_open_per_courier",
            ),
            models.CheckConstraint(
                condition=Q(status__in=OfferStatus.values), name="task_offer_status"
            ),
        ]


class DeliveryTaskEvent(StatusEvent):
    """One step of a task's history: made (from nothing), offered, unassigned, assigned,
    picked up, done or cancelled; who moved it (empty: dispatch), when and why."""

    task = models.ForeignKey(
        DeliveryTask, on_delete=models.CASCADE, related_name="events", verbose_name=_("task")
    )
    from_status = models.CharField(_("from"), max_length=24, choices=DeliveryTaskStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=24, choices=DeliveryTaskStatus)

    class Meta(StatusEvent.Meta):
        verbose_name = _("task event")
        verbose_name_plural = _("task events")


class TaskOfferEvent(StatusEvent):
    """One step of an offer's history: made (from nothing), then its one answer."""

    offer = models.ForeignKey(
        TaskOffer, on_delete=models.CASCADE, related_name="events", verbose_name=_("offer")
    )
    from_status = models.CharField(_("from"), max_length=24, choices=OfferStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=24, choices=OfferStatus)

    class Meta(StatusEvent.Meta):
        verbose_name = _("offer event")
        verbose_name_plural = _("offer events")


class CourierInvitationStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("courier invitation", "Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class CourierInvitation(TimeStampedModel):
    """A warehouse manager's invitation to a phone number to deliver for her warehouse. The
    SMS carries a secret link; only its SHA-256 is kept, so the table cannot open it. A
    resend replaces the secret (the older link stops working)."""

    warehouse = models.ForeignKey(
        FrontWarehouse,
        on_delete=models.CASCADE,
        related_name="courier_invitations",
        verbose_name=_("warehouse"),
    )
    phone = models.CharField(_("mobile phone"), max_length=14)  # normalised, +86…
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    token_hash = models.CharField(_("link secret (SHA-256)"), max_length=64, unique=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=CourierInvitationStatus,
        default=CourierInvitationStatus.PENDING,
    )
    sent_at = models.DateTimeField(_("last sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    courier = models.ForeignKey(
        Courier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("courier"),
    )

    class Meta:
        verbose_name = _("courier invitation")
        verbose_name_plural = _("courier invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "phone"],
                condition=Q(status=CourierInvitationStatus.PENDING),
                name="courier_invitation_one_pending",
                violation_error_message=_("This number has an invitation waiting already."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=CourierInvitationStatus.values),
                name="courier_invitation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse} #{self.pk}"  # no phone: the audit log copies this label

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def is_open_at(self, moment) -> bool:
        return self.status == CourierInvitationStatus.PENDING and moment < self.expires_at
