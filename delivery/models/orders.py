"""Consumer orders: placed and paid, packed, carried and delivered (or cancelled), with the
stock lots each line was picked from and the history of every move of its status."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from common.models import TimeStampedModel
from common.private_files import private_storage
from common.state_machine import StatusEvent, Transitions

from .stock import StockLot
from .warehouses import FrontWarehouse


class DeliveryOrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")  # paid and its stock reserved; waiting to be packed
    PACKED = "packed", _("Packed")  # ready at the warehouse; dispatch looks for a courier
    ASSIGNED = "assigned", _("Courier on the way to the warehouse")
    PICKED_UP = "picked_up", _("On its way")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


# Every move an order's status may make (services/transitions.move_order refuses any other).
# Cancelling is the consumer's or the staff's, while no courier has taken the order (the
# service checks the courier); delivered and cancelled are final.
ORDER_MOVES = Transitions(
    {
        # A placed order may be ASSIGNED before it is packed: dispatch asks a courier ahead of
        # the end of packing (DELIVERY_DISPATCH_AHEAD); packing it then records packed_at.
        DeliveryOrderStatus.PLACED: {
            DeliveryOrderStatus.PACKED,
            DeliveryOrderStatus.ASSIGNED,
            DeliveryOrderStatus.CANCELLED,
        },
        DeliveryOrderStatus.PACKED: {DeliveryOrderStatus.ASSIGNED, DeliveryOrderStatus.CANCELLED},
        DeliveryOrderStatus.ASSIGNED: {DeliveryOrderStatus.PICKED_UP},
        DeliveryOrderStatus.PICKED_UP: {DeliveryOrderStatus.DELIVERED},
    }
)

OPEN_ORDER_STATUSES = (
    DeliveryOrderStatus.PLACED,
    DeliveryOrderStatus.PACKED,
    DeliveryOrderStatus.ASSIGNED,
    DeliveryOrderStatus.PICKED_UP,
)


class DeliveryOrder(TimeStampedModel):
    """A consumer's order from the warehouse serving her home, paid from her wallet when
    placed and promised within the warehouse's minutes."""

    number = models.CharField(_("order number"), max_length=24, unique=True)
    consumer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="delivery_orders",
        verbose_name=_("consumer"),
    )
    warehouse = models.ForeignKey(
        FrontWarehouse,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("warehouse"),
    )
    address = models.CharField(_("delivery address"), max_length=200)
    location = models.PointField(_("delivery location"), srid=4326)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryOrderStatus, default=DeliveryOrderStatus.PLACED
    )
    total = MoneyField(_("total"), max_digits=14, decimal_places=2, default_currency="CNY")
    placed_at = models.DateTimeField(_("placed at"))
    promised_by = models.DateTimeField(_("promised by"))
    packed_at = models.DateTimeField(_("packed at"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The consumer reads it to the courier at the door; wrong tries are limited.
    delivery_code = models.CharField(_("delivery code"), max_length=4)
    code_attempts = models.PositiveSmallIntegerField(_("wrong code attempts"), default=0)
    # Private (the consumer's door): shown by the order's checked photo view only, under the
    # random name the photo service gives it.
    proof_photo = models.ImageField(
        _("delivery photo"), upload_to="deliveries/%Y/%m/", storage=private_storage, blank=True
    )
    task = models.ForeignKey(
        "DeliveryTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("delivery task"),
    )
    payment_entry = models.ForeignKey(
        "settlement.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("payment"),
    )
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("delivery order")
        verbose_name_plural = _("delivery orders")
        ordering = ["-placed_at"]
        indexes = [
            models.Index(fields=["warehouse", "status", "promised_by"], name="delivery_order_open"),
            models.Index(fields=["consumer", "-placed_at"], name="delivery_order_mine"),
            # A warehouse's latest packing times (selectors.packing).
            models.Index(
                fields=["warehouse", "-packed_at"],
                condition=Q(packed_at__isnull=False),
                name="delivery_order_packed",
            ),
            # A warehouse's deliveries of a period: the on-time rate, the learned travel speed.
            models.Index(
                fields=["warehouse", "delivered_at"],
                condition=Q(status="delivered"),
                name="delivery_order_delivered",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["consumer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="delivery_order_key_once",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryOrderStatus.values), name="delivery_order_status"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ORDER_STATUSES

    @property
    def needs_packing(self) -> bool:
        """Not packed yet: placed, or assigned to a courier asked ahead of the end of packing
        (he is on his way and waits for it)."""
        return self.packed_at is None and self.status in (
            DeliveryOrderStatus.PLACED,
            DeliveryOrderStatus.ASSIGNED,
        )


class DeliveryOrderLine(models.Model):
    order = models.ForeignKey(
        DeliveryOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    price_per_kg = MoneyField(
        _("price per kg"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, default_currency="CNY")

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="delivery_line_quantity_positive"
            ),
        ]


class DeliveryOrderPick(models.Model):
    """Which stock lot a line's kilograms were taken from (first-expired-first-out); a
    cancelled order puts them back into the same lots."""

    line = models.ForeignKey(
        DeliveryOrderLine, on_delete=models.CASCADE, related_name="picks", verbose_name=_("line")
    )
    stock_lot = models.ForeignKey(
        StockLot, on_delete=models.PROTECT, related_name="picks", verbose_name=_("stock lot")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)

    class Meta:
        verbose_name = _("pick")
        verbose_name_plural = _("picks")


class DeliveryOrderEvent(StatusEvent):
    """One step of an order's history: placed (from nothing), packed, assigned, picked up,
    delivered or cancelled; who moved it (empty: the platform), when and why."""

    order = models.ForeignKey(
        DeliveryOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    from_status = models.CharField(
        _("from"), max_length=24, choices=DeliveryOrderStatus, blank=True
    )
    to_status = models.CharField(_("to"), max_length=24, choices=DeliveryOrderStatus)

    class Meta(StatusEvent.Meta):
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
