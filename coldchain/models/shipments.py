"""Shipments: one chilled leg each, the lots it carries, every move of its status (who, when,
from, to, why) and the receivers' checks at loading and unloading."""

import secrets

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel
from common.private_files import private_storage
from common.state_machine import StatusEvent

from ..choices import SHIPMENT_MOVES, HandoverDecision, HandoverKind, ShipmentStatus
from .places import MonitoredRange, Site, Vehicle


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
        return SHIPMENT_MOVES.allows(self.status, new_status)

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


class ShipmentEvent(StatusEvent):
    """One move of a shipment's status: planned (from nothing), loaded, unloaded, cancelled.
    Written by the one service that moves a shipment (coldchain.services.shipments)."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="events", verbose_name=_("shipment")
    )
    from_status = models.CharField(_("from"), max_length=24, blank=True, choices=ShipmentStatus)
    to_status = models.CharField(_("to"), max_length=24, choices=ShipmentStatus)

    class Meta(StatusEvent.Meta):
        verbose_name = _("shipment event")
        verbose_name_plural = _("shipment events")
        indexes = [models.Index(fields=["shipment", "at"], name="shipment_event_at")]


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
