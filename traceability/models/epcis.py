"""EPCIS 2.0 from partners: the systems allowed to use the interfaces, and what they sent.

The platform's own events are never stored: they are derived from the records the apps keep
(traceability.epcis). A partner's events are kept as sent, with the lot they are about, and
join that lot's journey as "reported by <partner>".
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel


class PartnerSystem(TimeStampedModel):
    """A partner's system (a co-operative's packing line, a retailer's receiving, a
    regulator's platform) with its own API key, limited to one co-operative's or one market's
    lots when either is set. Only the key's SHA-256 is kept; `key_prefix` lets people tell
    keys apart."""

    name = models.CharField(_("name"), max_length=120)
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("limited to co-operative"),
    )
    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("limited to market"),
    )
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(_("key starts with"), max_length=12)
    may_capture = models.BooleanField(_("may send events"), default=True)
    may_query = models.BooleanField(_("may query events"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner system")
        verbose_name_plural = _("partner systems")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CaptureJob(models.Model):
    """One EPCIS document a partner sent to /epcis/capture: accepted whole or refused with
    every error (the REST binding's capture job)."""

    partner = models.ForeignKey(
        PartnerSystem, on_delete=models.PROTECT, related_name="jobs", verbose_name=_("partner")
    )
    received_at = models.DateTimeField(_("received at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    success = models.BooleanField(_("accepted"), null=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    event_count = models.PositiveIntegerField(_("events"), default=0)
    new_event_count = models.PositiveIntegerField(_("new events"), default=0)

    class Meta:
        verbose_name = _("capture job")
        verbose_name_plural = _("capture jobs")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"capture {self.pk}"


class CapturedEvent(models.Model):
    """One event a partner reported, about one of our lots, kept as sent. `epcs` holds every
    EPC and EPC class it names (for MATCH_anyEPC and MATCH_epcClass); its eventID makes a
    second sending add nothing."""

    event_id = models.CharField(_("event ID"), max_length=300, unique=True)
    partner = models.ForeignKey(
        PartnerSystem, on_delete=models.PROTECT, related_name="events", verbose_name=_("partner")
    )
    job = models.ForeignKey(
        CaptureJob, on_delete=models.PROTECT, related_name="events", verbose_name=_("capture job")
    )
    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("harvest lot"),
    )
    event_type = models.CharField(_("event type"), max_length=40)
    event_time = models.DateTimeField(_("event time"))
    record_time = models.DateTimeField(_("recorded at"))
    biz_step = models.CharField(_("business step"), max_length=120, blank=True)
    biz_location = models.CharField(_("business location"), max_length=300, blank=True)
    epcs = ArrayField(models.CharField(max_length=300), default=list, blank=True)
    event = models.JSONField(_("event"))

    class Meta:
        verbose_name = _("captured event")
        verbose_name_plural = _("captured events")
        ordering = ["event_time", "id"]
        indexes = [
            models.Index(fields=["lot", "event_time"], name="captured_event_lot_time"),
            models.Index(fields=["event_time", "id"], name="captured_event_time"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(event_id=""), name="captured_event_id")]

    def __str__(self) -> str:
        return self.event_id
