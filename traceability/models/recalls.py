"""Recalls: a lot called back from everyone who took some of it.

Opening one freezes its scope (the records downstream of the lot at that moment, in the same
transaction as the lot's hold), and tells every party; each party acknowledges and records
what was returned or destroyed; closing it gives the report. The severity follows China's food
recall rules (食品召回管理办法): class I, a serious health hazard, down to class III.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from ..choices import DownstreamKind, TrailStep


class RecallSeverity(models.TextChoices):
    CLASS_I = "class_i", _("Class I: serious health hazard (一级召回)")
    CLASS_II = "class_ii", _("Class II: possible health hazard (二级召回)")
    CLASS_III = "class_iii", _("Class III: unlikely to harm health (三级召回)")


class RecallReach(models.TextChoices):
    """Why a party was told: what of the lot it held, or that it runs the lot's co-operative."""

    SELLER = "seller", _("Seller")
    BUYER = "buyer", _("Buyer")
    MARKET = "market", _("Market staff")
    SHIPMENT = "shipment", _("Cold chain")
    WAREHOUSE = "warehouse", _("Warehouse")
    CONSUMER = "consumer", _("Consumer")
    COOPERATIVE = "cooperative", _("Co-operative")


class Recall(TimeStampedModel):
    """One recall of one lot; at most one open per lot. `market_ids` are the markets where the
    lot was checked in or traded when it was opened: their supervisors run it with the lot's
    co-operative managers and the platform admin."""

    lot = models.ForeignKey(
        "farms.HarvestLot",
        on_delete=models.PROTECT,
        related_name="recalls",
        verbose_name=_("harvest lot"),
    )
    cooperative = models.ForeignKey(
        "farms.Cooperative",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("co-operative"),
    )
    market_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    reason = models.CharField(_("reason"), max_length=500)
    severity = models.CharField(_("severity"), max_length=12, choices=RecallSeverity)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened at"))
    hold = models.ForeignKey(
        "farms.LotHold",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lot hold"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    close_note = models.CharField(_("closing note"), max_length=500, blank=True)
    # When the frozen scope was listed record by record (RecallScopeRow) and its parties told:
    # after the opening commits (traceability.tasks.list_recall_scope).
    listed_at = models.DateTimeField(_("parties told at"), null=True, blank=True)
    false_alarm = models.BooleanField(_("false alarm"), default=False)

    class Meta:
        verbose_name = _("recall")
        verbose_name_plural = _("recalls")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lot"], condition=Q(closed_at__isnull=True), name="recall_one_open_per_lot"
            ),
            models.CheckConstraint(
                condition=Q(severity__in=RecallSeverity.values), name="recall_severity_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="recall_reason_given"),
            models.CheckConstraint(
                condition=Q(false_alarm=False) | Q(closed_at__isnull=False),
                name="recall_false_alarm_only_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return f"RC-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def hold_reference(self) -> str:
        return f"recall:{self.pk}"


class RecallScopeKind(models.Model):
    """The recall's scope as frozen in its opening transaction: one row per step of the lot's
    trail, with the step's count, kilograms and record ids (PostgreSQL int8send values end to
    end, as the trace's aggregate reads them), written by one INSERT … SELECT from the trail.

    It decides which records the recall covers: later sales cannot join it, and it does not
    change. A stock receipt's row carries only the kilograms the stock lots received."""

    recall = models.ForeignKey(
        Recall, on_delete=models.CASCADE, related_name="frozen_scope", verbose_name=_("recall")
    )
    step = models.PositiveSmallIntegerField(_("step"), choices=TrailStep)
    records = models.PositiveIntegerField(_("records"))
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=14, decimal_places=3)
    record_ids = models.BinaryField(null=True)
    source_ids = models.BinaryField(null=True)  # a consumer line's picks

    class Meta:
        verbose_name = _("frozen recall scope")
        verbose_name_plural = _("frozen recall scopes")
        constraints = [
            models.UniqueConstraint(fields=["recall", "step"], name="recall_frozen_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.recall} {self.get_step_display()}: {self.records}"


class RecallScopeRow(models.Model):
    """One record of the recall's frozen scope (RecallScopeKind), listed after the opening
    commits as traceability.trail's DownstreamRecord: whom it is with and whom to tell. The
    parties answer for these rows (acknowledgements, dispositions)."""

    recall = models.ForeignKey(
        Recall, on_delete=models.CASCADE, related_name="scope", verbose_name=_("recall")
    )
    position = models.PositiveIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=24, choices=DownstreamKind)
    record_id = models.BigIntegerField(_("record"))
    at = models.DateTimeField(_("reached at"))
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    holder = models.CharField(_("holder"), max_length=200, blank=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=24, blank=True)
    parent_kind = models.CharField(max_length=24, choices=DownstreamKind, blank=True)
    parent_id = models.BigIntegerField(null=True, blank=True)
    # Who answers for it (the buyer, the consumer, …) and everyone told of it.
    party_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("party"),
    )
    user_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)

    class Meta:
        verbose_name = _("recall scope row")
        verbose_name_plural = _("recall scope")
        ordering = ["recall", "position"]
        indexes = [models.Index(fields=["recall", "kind"], name="recall_scope_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["recall", "kind", "record_id"], name="recall_scope_record_once"
            ),
            models.CheckConstraint(
                condition=Q(quantity_kg__gte=0), name="recall_scope_quantity_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference or self.record_id}"


class RecallNotice(models.Model):
    """A party told of the recall (saved and pushed live), and her acknowledgement."""

    recall = models.ForeignKey(
        Recall, on_delete=models.CASCADE, related_name="notices", verbose_name=_("recall")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="recall_notices",
        verbose_name=_("party"),
    )
    reached_as = ArrayField(
        models.CharField(max_length=16, choices=RecallReach), verbose_name=_("reached as")
    )
    notification = models.ForeignKey(
        "accounts.Notification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    notified_at = models.DateTimeField(_("notified at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledgement_note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("recall notice")
        verbose_name_plural = _("recall notices")
        ordering = ["recall", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recall", "user"], name="recall_notice_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.recall} → {self.user_id}"


class RecallDisposition(models.Model):
    """Kilograms of one scope row returned or destroyed, as its party or the recall's runner
    recorded them; a row's dispositions never add up to more than its quantity."""

    recall = models.ForeignKey(
        Recall, on_delete=models.CASCADE, related_name="dispositions", verbose_name=_("recall")
    )
    scope_row = models.ForeignKey(
        RecallScopeRow,
        on_delete=models.CASCADE,
        related_name="dispositions",
        verbose_name=_("scope row"),
    )
    returned_kg = models.DecimalField(
        _("returned (kg)"), max_digits=12, decimal_places=3, default=0
    )
    destroyed_kg = models.DecimalField(
        _("destroyed (kg)"), max_digits=12, decimal_places=3, default=0
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("recall disposition")
        verbose_name_plural = _("recall dispositions")
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(returned_kg__gte=0)
                & Q(destroyed_kg__gte=0)
                & (Q(returned_kg__gt=0) | Q(destroyed_kg__gt=0)),
                name="recall_disposition_some_kg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_row}: {self.returned_kg} + {self.destroyed_kg} kg"

    @property
    def total_kg(self):
        return self.returned_kg + self.destroyed_kg
