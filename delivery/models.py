"""Front warehouses (前置仓): where they stand, the homes they serve, who runs them.

A warehouse is also a cold-chain site (coldchain.Site), so chilled shipments can end at it.
Stock, consumer orders, couriers and dispatch build on these tables.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from common.models import TimeStampedModel
from common.private_files import private_storage


class FrontWarehouse(TimeStampedModel):
    """A small chilled warehouse in the city; it delivers to the homes inside its zone
    within `promised_minutes` while it is open."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True)
    site = models.OneToOneField(
        "coldchain.Site",
        on_delete=models.PROTECT,
        related_name="front_warehouse",
        verbose_name=_("site"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    # GCJ-02 coordinates from Chinese map services must be converted to WGS 84 before they
    # are stored here, like every geometry of the platform.
    delivery_zone = models.PolygonField(_("delivery zone"), srid=4326)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    promised_minutes = models.PositiveSmallIntegerField(
        _("promised delivery (minutes)"),
        default=30,
        validators=[MinValueValidator(10), MaxValueValidator(240)],
    )
    is_active = models.BooleanField(_("is active"), default=True)

    class Meta:
        verbose_name = _("front warehouse")
        verbose_name_plural = _("front warehouses")
        constraints = [
            models.CheckConstraint(
                condition=Q(promised_minutes__gte=10) & Q(promised_minutes__lte=240),
                name="front_warehouse_promise_sensible",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open_at(self, moment_time) -> bool:
        """Opening hours may run past midnight (e.g. 07:00–01:00); opening and closing at the
        same time means open round the clock."""
        if self.opens_at == self.closes_at:
            return True
        if self.opens_at < self.closes_at:
            return self.opens_at <= moment_time < self.closes_at
        return moment_time >= self.opens_at or moment_time < self.closes_at


class WarehouseStaff(models.Model):
    """A warehouse manager runs one warehouse and sees only it."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.PROTECT, related_name="staff", verbose_name=_("warehouse")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="warehouse_post",
        verbose_name=_("user"),
    )

    class Meta:
        verbose_name = _("warehouse staff member")
        verbose_name_plural = _("warehouse staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.warehouse}"


class WriteOffReason(models.TextChoices):
    SPOILED = "spoiled", _("Spoiled")
    DAMAGED = "damaged", _("Damaged")
    EXPIRED = "expired", _("Past its shelf life")
    COUNT_DIFFERENCE = "count_difference", _("Stock count difference")


class StockLot(TimeStampedModel):
    """What a warehouse holds of one harvest lot. `expires_at` is the lot's expected end of
    shelf life when it was received (from the cold chain's LotCondition where the lot was
    watched); picking takes the earliest first (first-expired-first-out)."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.PROTECT, related_name="stock", verbose_name=_("warehouse")
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="warehouse_stock",
        verbose_name=_("harvest lot"),
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    received_at = models.DateTimeField(_("received at"))
    expires_at = models.DateTimeField(_("expected expiry"))

    class Meta:
        verbose_name = _("stock lot")
        verbose_name_plural = _("stock lots")
        indexes = [
            models.Index(fields=["warehouse", "product", "expires_at"], name="stock_fefo"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "lot"], name="stock_lot_once"),
            # The last line of defence against overselling: stock never goes below zero.
            models.CheckConstraint(
                condition=Q(quantity_kg__gte=0), name="stock_quantity_not_negative"
            ),
        ]


class StockWriteOff(models.Model):
    """Stock taken out without a sale (spoilage, damage, a count difference), with its reason;
    the loss rate counts these."""

    stock_lot = models.ForeignKey(
        StockLot, on_delete=models.PROTECT, related_name="write_offs", verbose_name=_("stock lot")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    reason = models.CharField(_("reason"), max_length=20, choices=WriteOffReason)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="write_off_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(reason__in=WriteOffReason.values), name="write_off_reason_valid"
            ),
        ]


class StockReceipt(models.Model):
    """Goods received into a warehouse, and where they came from: a marketplace order line
    or a market trade is received once (a second scan of the same delivery is refused)."""

    stock_lot = models.ForeignKey(
        StockLot, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("stock lot")
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    order_line = models.OneToOneField(
        "marketplace.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="warehouse_receipt",
        verbose_name=_("marketplace order line"),
    )
    trade = models.OneToOneField(
        "marketplace.Trade",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="warehouse_receipt",
        verbose_name=_("market trade"),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("stock receipt")
        verbose_name_plural = _("stock receipts")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="stock_receipt_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(order_line__isnull=True) | Q(trade__isnull=True),
                name="stock_receipt_one_source",
            ),
        ]


class StockCount(models.Model):
    """A counted quantity of a stock lot; a shortfall is written off as a count difference."""

    stock_lot = models.ForeignKey(
        StockLot, on_delete=models.PROTECT, related_name="counts", verbose_name=_("stock lot")
    )
    expected_kg = models.DecimalField(_("expected (kg)"), max_digits=12, decimal_places=3)
    counted_kg = models.DecimalField(_("counted (kg)"), max_digits=12, decimal_places=3)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    counted_at = models.DateTimeField(_("counted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        constraints = [
            models.CheckConstraint(condition=Q(counted_kg__gte=0), name="stock_count_not_negative"),
        ]


class ShopPrice(TimeStampedModel):
    """What a warehouse's shop asks per kilogram of a product; the catalogue shows listed
    products with stock."""

    warehouse = models.ForeignKey(
        FrontWarehouse, on_delete=models.CASCADE, related_name="prices", verbose_name=_("warehouse")
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    price_per_kg = MoneyField(
        _("price per kg"), max_digits=14, decimal_places=2, default_currency="CNY"
    )
    is_listed = models.BooleanField(_("listed in the shop"), default=True)

    class Meta:
        verbose_name = _("shop price")
        verbose_name_plural = _("shop prices")
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "product"], name="shop_price_once"),
            models.CheckConstraint(condition=Q(price_per_kg__gt=0), name="shop_price_positive"),
        ]


# --- Consumer orders ------------------------------------------------------------------------


class DeliveryOrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")  # paid and its stock reserved; waiting to be packed
    PACKED = "packed", _("Packed")  # ready at the warehouse; dispatch looks for a courier
    ASSIGNED = "assigned", _("Courier on the way to the warehouse")
    PICKED_UP = "picked_up", _("On its way")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


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


# --- Couriers, tasks and offers -------------------------------------------------------------


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


# --- Replenishment --------------------------------------------------------------------------


class ReplenishmentStatus(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    APPROVED = "approved", _("Approved and ordered")


class ReplenishmentPlan(TimeStampedModel):
    """Suggested purchases of one warehouse for one day, from the demand forecast; the
    manager adjusts and approves it, which places marketplace orders with the sellers."""

    warehouse = models.ForeignKey(
        FrontWarehouse,
        on_delete=models.PROTECT,
        related_name="replenishment_plans",
        verbose_name=_("warehouse"),
    )
    for_date = models.DateField(_("for the day"))
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReplenishmentStatus,
        default=ReplenishmentStatus.SUGGESTED,
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("replenishment plan")
        verbose_name_plural = _("replenishment plans")
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "for_date"], name="replenishment_plan_once"
            ),
        ]


class ReplenishmentLine(models.Model):
    plan = models.ForeignKey(
        ReplenishmentPlan, on_delete=models.CASCADE, related_name="lines", verbose_name=_("plan")
    )
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    forecast_kg = models.DecimalField(_("forecast demand (kg)"), max_digits=12, decimal_places=3)
    method = models.CharField(_("forecast method"), max_length=40)
    usable_stock_kg = models.DecimalField(_("usable stock (kg)"), max_digits=12, decimal_places=3)
    suggested_kg = models.DecimalField(_("suggested (kg)"), max_digits=12, decimal_places=3)
    approved_kg = models.DecimalField(
        _("approved (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    listing = models.ForeignKey(
        "marketplace.Listing",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("listing bought from"),
    )
    marketplace_order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marketplace order"),
    )

    class Meta:
        verbose_name = _("replenishment line")
        verbose_name_plural = _("replenishment lines")
        constraints = [
            models.UniqueConstraint(fields=["plan", "product"], name="replenishment_line_once"),
            models.CheckConstraint(
                condition=Q(suggested_kg__gte=0), name="replenishment_suggested_not_negative"
            ),
        ]
