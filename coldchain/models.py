"""The cold chain's tables: places, cold stores, vehicles, shipments and their lots, data loggers
and their readings, excursions, alerts, handovers and each lot's remaining shelf life.

A logger is assigned to one shipment or one cold store over a period; its readings are judged
against that subject's temperature range (see coldchain/excursions.py for the rules).
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import BrinIndex
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel
from common.private_files import private_storage

from .choices import (
    SHIPMENT_TRANSITIONS,
    AlertKind,
    ExcursionKind,
    HandoverDecision,
    HandoverKind,
    Severity,
    ShipmentStatus,
    SiteKind,
)

DEVICE_ID = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$",
    _("Use 3 to 64 letters, digits, dots, colons, hyphens or underscores."),
    code="invalid_device_id",
)


class Site(models.Model):
    """A place where chilled goods are loaded or unloaded: a farm, a co-operative's packhouse,
    a wholesale market, a front warehouse. The co-operative or market named here sees the
    shipments that start or end at it."""

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=SiteKind)
    location = models.PointField(_("location"), srid=4326)
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        verbose_name=_("co-operative"),
    )
    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
        verbose_name=_("wholesale market"),
    )

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.UniqueConstraint(fields=["name"], name="site_name_unique"),
            models.CheckConstraint(condition=Q(kind__in=SiteKind.values), name="site_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class MonitoredRange(models.Model):
    """What a monitored subject (a shipment, a cold store) must keep, and how patiently.

    An excursion opens once the temperature has been outside [min, max] for
    `excursion_delay_minutes`, and closes once it has been back inside by `recovery_margin_c`
    for `recovery_minutes`. No reading for `signal_timeout_minutes` raises a loss of signal.
    """

    min_temperature_c = models.DecimalField(
        _("lowest temperature (°C)"), max_digits=4, decimal_places=1
    )
    max_temperature_c = models.DecimalField(
        _("highest temperature (°C)"), max_digits=4, decimal_places=1
    )
    excursion_delay_minutes = models.PositiveSmallIntegerField(
        _("excursion after (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_("A breach shorter than this, such as an open door, is not an excursion."),
    )
    recovery_minutes = models.PositiveSmallIntegerField(
        _("recovery time (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    recovery_margin_c = models.DecimalField(
        _("recovery margin (°C)"),
        max_digits=3,
        decimal_places=1,
        default=Decimal("0.5"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("5"))],
    )
    signal_timeout_minutes = models.PositiveSmallIntegerField(
        _("loss of signal after (minutes)"),
        default=15,
        validators=[MinValueValidator(2), MaxValueValidator(1440)],
    )

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(min_temperature_c__lt=models.F("max_temperature_c")),
                name="%(class)s_range_valid",
            ),
        ]


class ColdStore(TimeStampedModel, MonitoredRange):
    """A cold room at a site, watched like a shipment that never moves."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="cold_stores", verbose_name=_("site")
    )
    capacity_kg = models.DecimalField(
        _("capacity (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )

    class Meta(MonitoredRange.Meta):
        verbose_name = _("cold store")
        verbose_name_plural = _("cold stores")

    def __str__(self) -> str:
        return self.name


class Vehicle(TimeStampedModel):
    """A refrigerated vehicle; its last position comes from the readings of its loggers."""

    plate = models.CharField(_("plate number"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    carrier = models.CharField(_("carrier"), max_length=120, blank=True)
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vehicles",
        verbose_name=_("co-operative"),
    )
    last_position = models.PointField(_("last position"), srid=4326, null=True, blank=True)
    last_position_at = models.DateTimeField(_("last position at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refrigerated vehicle")
        verbose_name_plural = _("refrigerated vehicles")

    def __str__(self) -> str:
        return self.plate


class Shipment(TimeStampedModel, MonitoredRange):
    """One chilled leg from an origin to a destination.

    Its temperature range is fixed when it is planned: the intersection of the storage bands of
    the products carried; `compatibility_warnings` keeps what was said about a mixed load.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    origin = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="departures", verbose_name=_("origin")
    )
    destination = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="arrivals", verbose_name=_("destination")
    )
    vehicle = models.ForeignKey(
        Vehicle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
        verbose_name=_("vehicle"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ShipmentStatus, default=ShipmentStatus.PLANNED
    )
    planned_departure_at = models.DateTimeField(_("planned departure"))
    planned_arrival_at = models.DateTimeField(_("planned arrival"))
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    compatibility_warnings = models.JSONField(_("compatibility warnings"), default=list, blank=True)
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="planned_shipments",
        verbose_name=_("planned by"),
    )

    class Meta(MonitoredRange.Meta):
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-planned_departure_at", "-id"]
        indexes = [models.Index(fields=["status", "planned_departure_at"], name="shipment_status")]
        constraints = [
            *MonitoredRange.Meta.constraints,
            models.CheckConstraint(
                condition=Q(status__in=ShipmentStatus.values), name="shipment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(planned_arrival_at__gt=models.F("planned_departure_at")),
                name="shipment_planned_times_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(origin=models.F("destination")), name="shipment_goes_somewhere"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def can_move_to(self, new_status: str) -> bool:
        return new_status in SHIPMENT_TRANSITIONS.get(self.status, frozenset())

    @property
    def is_active(self) -> bool:
        return self.status in (ShipmentStatus.PLANNED, ShipmentStatus.IN_TRANSIT)


class ShipmentLot(models.Model):
    """A harvest lot on a shipment, with the order or trade that sold it, where there is one."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="lots", verbose_name=_("shipment")
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="shipment_legs",
        verbose_name=_("harvest lot"),
    )
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipment_lots",
        verbose_name=_("order"),
    )
    trade = models.ForeignKey(
        "marketplace.Trade",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipment_lots",
        verbose_name=_("trade"),
    )

    class Meta:
        verbose_name = _("lot on a shipment")
        verbose_name_plural = _("lots on shipments")
        constraints = [
            models.UniqueConstraint(fields=["shipment", "lot"], name="shipment_lot_once"),
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0), name="shipment_lot_quantity_positive"
            ),
        ]


class DataLogger(TimeStampedModel):
    """A temperature logger. It signs in with its device id and secret; only a hash of the
    secret is kept (a long random token, so a fast hash is enough, as for API tokens)."""

    device_id = models.CharField(_("device id"), max_length=64, unique=True, validators=[DEVICE_ID])
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    label = models.CharField(_("label"), max_length=120, blank=True)
    is_active = models.BooleanField(_("is active"), default=True)
    last_reading_at = models.DateTimeField(_("last reading at"), null=True, blank=True)
    battery_pct = models.PositiveSmallIntegerField(_("battery (%)"), null=True, blank=True)

    class Meta:
        verbose_name = _("data logger")
        verbose_name_plural = _("data loggers")

    def __str__(self) -> str:
        return self.device_id


class LoggerAssignment(models.Model):
    """A logger watching one shipment or one cold store from `starts_at` until `ends_at`
    (open while empty). Periods of one logger never overlap (an exclusion constraint).

    `evaluated_until` and `monitor_state` carry the excursion detector between batches; the row
    is locked while a batch is judged, so one logger's batches are judged one at a time.
    """

    logger = models.ForeignKey(
        DataLogger, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("logger")
    )
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="logger_assignments",
        verbose_name=_("shipment"),
    )
    store = models.ForeignKey(
        ColdStore,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="logger_assignments",
        verbose_name=_("cold store"),
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"), null=True, blank=True)
    evaluated_until = models.DateTimeField(null=True, blank=True, editable=False)
    monitor_state = models.JSONField(default=dict, blank=True, editable=False)
    late_window_hours = models.PositiveSmallIntegerField(
        _("late readings accepted for (hours)"),
        null=True,
        blank=True,
        help_text=_("After the watch ends; empty: the platform's setting."),
    )

    class Meta:
        verbose_name = _("logger assignment")
        verbose_name_plural = _("logger assignments")
        indexes = [models.Index(fields=["logger", "starts_at"], name="logger_assignment_period")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(shipment__isnull=False) & Q(store__isnull=True))
                | (Q(shipment__isnull=True) & Q(store__isnull=False)),
                name="logger_assignment_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="logger_assignment_period_valid",
            ),
            # The no-overlap exclusion constraint is in migration 0002 (needs btree_gist).
        ]

    @property
    def subject(self) -> "Shipment | ColdStore":
        return self.shipment if self.shipment_id else self.store

    def covers(self, moment) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


class Reading(models.Model):
    """One measurement. The key (logger, recorded_at) makes a re-sent reading a no-op and serves
    a logger's history by time; a BRIN index on `recorded_at` serves time ranges across loggers
    (rows arrive roughly in time order, so the block ranges stay tight)."""

    pk = models.CompositePrimaryKey("logger_id", "recorded_at")
    # No index of their own: the primary key leads with the logger, and nothing searches by
    # position (the map reads a vehicle's last position from the vehicle).
    logger = models.ForeignKey(
        DataLogger,
        on_delete=models.PROTECT,
        related_name="readings",
        verbose_name=_("logger"),
        db_index=False,
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    temperature_c = models.FloatField(_("temperature (°C)"))
    humidity_pct = models.FloatField(_("relative humidity (%)"), null=True, blank=True)
    position = models.PointField(
        _("position"), srid=4326, null=True, blank=True, spatial_index=False
    )
    battery_pct = models.SmallIntegerField(_("battery (%)"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), db_default=Now())
    # Arrived after its watch had ended, or long after it was recorded (coldchain/ingest.py).
    # A database default, so adding the column to a large table rewrites nothing.
    late = models.BooleanField(_("arrived late"), default=False, db_default=False)

    class Meta:
        verbose_name = _("reading")
        verbose_name_plural = _("readings")
        # autosummarize: new block ranges join the index as they fill, not at the next VACUUM
        # (unsummarized ranges turned a time-range read into a sequential scan).
        indexes = [
            BrinIndex(fields=["recorded_at"], name="reading_recorded_brin", autosummarize=True)
        ]


class AboutWatchedSubject(models.Model):
    """What happened to one subject (a shipment or a cold store) while one logger watched it;
    the subject is named again beside the assignment so screens filter without a join."""

    assignment = models.ForeignKey(
        LoggerAssignment,
        on_delete=models.PROTECT,
        related_name="%(class)ss",
        verbose_name=_("logger assignment"),
    )
    shipment = models.ForeignKey(
        Shipment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="%(class)ss",
        verbose_name=_("shipment"),
    )
    store = models.ForeignKey(
        ColdStore,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="%(class)ss",
        verbose_name=_("cold store"),
    )

    class Meta:
        abstract = True


class Excursion(AboutWatchedSubject):
    """A confirmed breach of a subject's range, in one direction, from its first reading outside
    (`started_at`) until the temperature was back inside by the margin (`ended_at`)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ExcursionKind)
    limit_c = models.FloatField(_("limit (°C)"))
    started_at = models.DateTimeField(_("started at"))
    confirmed_at = models.DateTimeField(_("confirmed at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    peak_c = models.FloatField(_("peak (°C)"))
    degree_minutes = models.FloatField(_("degree-minutes outside the range"), default=0)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity, default=Severity.MINOR
    )
    # Set when readings that came late no longer show the excursion. It is kept as it was
    # confirmed (its alert too, marked disputed) for a person to judge, never silently closed.
    refuted_at = models.DateTimeField(_("disputed by late readings at"), null=True, blank=True)

    class Meta:
        verbose_name = _("excursion")
        verbose_name_plural = _("excursions")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "kind"],
                condition=Q(ended_at__isnull=True, refuted_at__isnull=True),
                name="excursion_one_open_per_direction",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ExcursionKind.values), name="excursion_kind_valid"
            ),
        ]

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    @property
    def is_disputed(self) -> bool:
        return self.refuted_at is not None


class Alert(AboutWatchedSubject):
    """What a controller must look at: one per excursion, one per loss of signal. Saved before
    it is pushed, so a screen that reconnects catches up from the API."""

    kind = models.CharField(_("kind"), max_length=16, choices=AlertKind)
    severity = models.PositiveSmallIntegerField(
        _("severity"), choices=Severity, default=Severity.MINOR
    )
    excursion = models.OneToOneField(
        Excursion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alert",
        verbose_name=_("excursion"),
    )
    raised_at = models.DateTimeField(_("raised at"), db_default=Now())
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledged_alerts",
        verbose_name=_("acknowledged by"),
    )
    acknowledgement_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-raised_at", "-id"]
        indexes = [models.Index(fields=["acknowledged_at", "raised_at"], name="alert_open")]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(kind=AlertKind.SIGNAL_LOST, resolved_at__isnull=True),
                name="alert_one_open_signal_loss",
            ),
            models.CheckConstraint(condition=Q(kind__in=AlertKind.values), name="alert_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=AlertKind.EXCURSION) | Q(excursion__isnull=False),
                name="alert_excursion_named",
            ),
        ]


def handover_record_path(handover: "Handover", filename: str) -> str:
    """Where a handover's logger record is kept, under a random name: the shipment's code would
    let anyone who knows one guess the file (it is private, but a name should not tell)."""
    return f"coldchain/handovers/{timezone.now():%Y/%m}/{secrets.token_hex(16)}.csv"


class Handover(models.Model):
    """The receiver's check at loading or unloading: a probe temperature, accept or reject, and
    the logger record of the leg so far, kept as a CSV file that travels with the goods
    (GB 31605-2020 asks for continuous monitoring records to go with them)."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("shipment")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=HandoverKind)
    decision = models.CharField(_("decision"), max_length=16, choices=HandoverDecision)
    probe_temperature_c = models.DecimalField(
        _("probe temperature (°C)"), max_digits=4, decimal_places=1
    )
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="recorded_handovers",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), db_default=Now())
    record_summary = models.JSONField(_("logger record summary"), default=dict)
    # Private (every reading and the truck's GPS trail): handed out by the shipment's checked
    # download views only.
    record_file = models.FileField(
        _("logger record"), upload_to=handover_record_path, storage=private_storage
    )

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        constraints = [
            models.UniqueConstraint(fields=["shipment", "kind"], name="handover_once_per_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=HandoverKind.values), name="handover_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(decision__in=HandoverDecision.values), name="handover_decision_valid"
            ),
        ]


class LotCondition(models.Model):
    """A lot's remaining shelf life from its temperature history, refreshed as readings arrive.

    `consumed_fraction` is Σ Δt / SL(T) over the lot's life so far (unmonitored time counted at
    the top of its storage band, so an estimate never flatters); `expected_expiry_at` is when it
    runs out if kept at its reference temperature from `evaluated_at`. Front warehouses pick
    first-expired-first-out by it.
    """

    lot = models.OneToOneField(
        "farms.HarvestLot",
        on_delete=models.CASCADE,
        related_name="condition",
        verbose_name=_("harvest lot"),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))
    consumed_fraction = models.FloatField(_("shelf life used"))
    remaining_days = models.FloatField(_("remaining shelf life (days)"))
    expected_expiry_at = models.DateTimeField(_("expected expiry"))
    monitored_hours = models.FloatField(_("monitored hours"), default=0)
    unmonitored_hours = models.FloatField(_("unmonitored hours"), default=0)
    chilling_hours = models.FloatField(_("hours below the lowest safe temperature"), default=0)

    class Meta:
        verbose_name = _("lot condition")
        verbose_name_plural = _("lot conditions")
        indexes = [models.Index(fields=["expected_expiry_at"], name="lot_condition_expiry")]
