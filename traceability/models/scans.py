"""Scans of trace codes: one row per view of a public trace page, so that a copied label shows."""

from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .codes import TraceCode


class ScanAgent(models.TextChoices):
    """What kind of device opened the page, from its user agent (the agent itself is not kept)."""

    PHONE = "phone", _("Phone")
    TABLET = "tablet", _("Tablet")
    DESKTOP = "desktop", _("Computer")
    BOT = "bot", _("Robot")
    OTHER = "other", _("Other")


class TraceScan(models.Model):
    """One view of a lot's public trace page.

    Nothing here identifies the person: the address is kept only as a keyed hash (to count
    distinct devices, never to recover it), the user agent only as its class, and a location
    only when the page sent one with the person's consent, rounded to 0.1° (about 10 km).
    A scan whose code was seen elsewhere so shortly before that nobody could have travelled
    between the two (`implied_speed_kmh` above the limit) is marked `copy_suspected`: the
    printed label has probably been copied.
    """

    code = models.ForeignKey(
        TraceCode,
        on_delete=models.CASCADE,
        null=True,
        blank=True,  # a Digital Link path without a serial names the lot only
        related_name="scans",
        verbose_name=_("trace code"),
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.CASCADE,
        related_name="trace_scans",
        verbose_name=_("harvest lot"),
    )
    scanned_at = models.DateTimeField(_("scanned at"))
    ip_hash = models.CharField(_("address hash"), max_length=64)
    agent = models.CharField(_("device"), max_length=8, choices=ScanAgent)
    location = models.PointField(_("rough location"), srid=4326, null=True, blank=True)
    located_at = models.DateTimeField(_("located at"), null=True, blank=True)
    copy_suspected = models.BooleanField(_("copied label suspected"), default=False)
    implied_speed_kmh = models.FloatField(_("implied speed (km/h)"), null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("the scan it was compared with"),
    )

    class Meta:
        verbose_name = _("trace scan")
        verbose_name_plural = _("trace scans")
        ordering = ["-scanned_at", "-id"]
        indexes = [
            models.Index(fields=["code", "scanned_at"], name="trace_scan_code_time"),
            models.Index(fields=["lot", "scanned_at"], name="trace_scan_lot_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(agent__in=ScanAgent.values), name="trace_scan_agent_valid"
            ),
            models.CheckConstraint(
                condition=Q(copy_suspected=False) | Q(implied_speed_kmh__isnull=False),
                name="trace_scan_copy_has_speed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code or self.lot} @ {self.scanned_at:%Y-%m-%d %H:%M}"
