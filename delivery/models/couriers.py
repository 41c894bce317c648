"""Couriers, their delivery tasks (one trip each) and the offers dispatch makes them, with
the history of every move of a task's and an offer's status."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from common.models import TimeStampedModel
from common.state_machine import StatusEvent, Transitions

from .warehouses import FrontWarehouse


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

    class Meta:
        verbose_name = _("courier")
        verbose_name_plural = _("couriers")
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=10), name="courier_capacity_sensible"
            ),
        ]

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
