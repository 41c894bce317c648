"""Data loggers, what they watch and what they measure: assignments, readings, and what the
readings showed (excursions, alerts). See coldchain/excursions.py for the rules."""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import BrinIndex
from django.core.validators import RegexValidator
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from ..choices import AlertKind, ExcursionKind, Severity
from .places import ColdStore
from .shipments import Shipment

DEVICE_ID = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$",
    _("Use 3 to 64 letters, digits, dots, colons, hyphens or underscores."),
    code="invalid_device_id",
)


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
        return one_subject(self.shipment, self.store)

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
        # The table is partitioned by month of `recorded_at` (migration 0008; Django cannot
        # say so): coldchain/reading_keeping.py creates the months ahead and drops the old.
        # BRIN on `received_at` finds what arrived since the last hourly rollup, late
        # readings of old months included, for the price of a few index pages.
        indexes = [
            BrinIndex(fields=["recorded_at"], name="reading_recorded_brin", autosummarize=True),
            BrinIndex(fields=["received_at"], name="reading_received_brin", autosummarize=True),
        ]


class ReadingHour(models.Model):
    """One logger's readings of one hour (UTC), rolled up: kept forever, after the raw readings
    of its month are dropped (READINGS_RAW_MONTHS). Sums, not means, so hours add up into any
    longer bucket exactly; a late reading re-rolls its whole hour."""

    pk = models.CompositePrimaryKey("logger_id", "hour")
    logger = models.ForeignKey(
        DataLogger,
        on_delete=models.PROTECT,
        related_name="reading_hours",
        verbose_name=_("logger"),
        db_index=False,
    )
    hour = models.DateTimeField(_("hour"))
    readings = models.PositiveIntegerField(_("readings"))
    late_readings = models.PositiveIntegerField(_("readings that arrived late"))
    temperature_min_c = models.FloatField(_("lowest temperature (°C)"))
    temperature_max_c = models.FloatField(_("highest temperature (°C)"))
    temperature_sum_c = models.FloatField(_("sum of temperatures (°C)"))
    humidity_readings = models.PositiveIntegerField(_("readings with humidity"))
    humidity_min_pct = models.FloatField(_("lowest humidity (%)"), null=True, blank=True)
    humidity_max_pct = models.FloatField(_("highest humidity (%)"), null=True, blank=True)
    humidity_sum_pct = models.FloatField(_("sum of humidities (%)"), null=True, blank=True)
    first_at = models.DateTimeField(_("first reading at"))
    last_at = models.DateTimeField(_("last reading at"))
    rolled_up_at = models.DateTimeField(_("rolled up at"), db_default=Now())

    class Meta:
        verbose_name = _("hour of readings")
        verbose_name_plural = _("hours of readings")

    @property
    def temperature_mean_c(self) -> float:
        return self.temperature_sum_c / self.readings


class ReadingRollupProgress(models.Model):
    """How far the hourly rollup has read: every reading received before `received_until`
    is in its hour's row, so every hour before `hours_until` is complete (but for readings
    that arrive late after it, which the next run adds). One row."""

    received_until = models.DateTimeField(_("received until"))
    hours_until = models.DateTimeField(_("hours complete until"))

    class Meta:
        verbose_name = _("rollup progress")
        verbose_name_plural = _("rollup progress")


def one_subject(shipment: Shipment | None, store: ColdStore | None) -> Shipment | ColdStore:
    """The shipment or the store a row is about; a check constraint names exactly one."""
    if shipment is not None:
        return shipment
    if store is None:
        raise ValueError("Neither a shipment nor a cold store: the check constraint forbids it.")
    return store


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

    @property
    def subject(self) -> Shipment | ColdStore:
        return one_subject(self.shipment, self.store)


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
