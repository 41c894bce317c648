"""Risk rules and the warnings they raise.

A rule is a kind from a fixed set (controltower.risk.kinds) with thresholds kept here, in the
database, so an admin tunes them without a deploy. A warning is one condition one rule found:
its `key` names the condition (rule, kind and the object it is about), and at most one
warning per key is open (unresolved) at a time, so a condition that lasts raises one warning,
not one per evaluation. A warning closes by itself when its condition is gone; a person
acknowledges it meanwhile.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from ..risk.kinds import (
    SCOPES,
    THRESHOLDS,
    RiskKind,
    RiskScope,
    RiskSeverity,
    clean_thresholds,
    default_thresholds,
    threshold_problems,
)


class RiskRule(TimeStampedModel):
    """A risk rule: its kind, thresholds, severity, and optionally one market or warehouse."""

    kind = models.CharField(_("kind"), max_length=32, choices=RiskKind)
    name = models.CharField(_("name"), max_length=120, blank=True)
    thresholds = models.JSONField(
        _("thresholds"),
        default=dict,
        blank=True,
        help_text=_("Each threshold's name carries its unit; a missing one takes its default."),
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=RiskSeverity, default=RiskSeverity.WARNING
    )
    is_enabled = models.BooleanField(_("enabled"), default=True)
    market = models.ForeignKey(
        "marketplace.Market",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only at this market"),
    )
    warehouse = models.ForeignKey(
        "delivery.FrontWarehouse",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only at this warehouse"),
    )

    class Meta:
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RiskKind.values), name="risk_rule_kind"),
            models.CheckConstraint(
                condition=Q(market__isnull=True) | Q(warehouse__isnull=True),
                name="risk_rule_one_scope",
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.get_kind_display())

    def clean(self) -> None:
        """Every problem at once: each bad threshold, and a scope the kind cannot have."""
        errors: dict[str, list[str]] = {}
        problems = threshold_problems(self.kind, self.thresholds)
        if "kind" in problems:
            raise ValidationError({"kind": problems["kind"]})
        labels = {t.name: t.label for t in THRESHOLDS[self.kind]}
        messages = [
            f"{labels.get(name, name)}: {message}"
            for name, found in problems.items()
            for message in found
        ]
        if messages:
            errors["thresholds"] = messages
        allowed = SCOPES[self.kind]
        if self.market_id is not None and RiskScope.MARKET not in allowed:
            errors["market"] = [str(_("This kind of rule cannot be limited to a market."))]
        if self.warehouse_id is not None and RiskScope.WAREHOUSE not in allowed:
            errors["warehouse"] = [str(_("This kind of rule cannot be limited to a warehouse."))]
        if self.market_id is not None and self.warehouse_id is not None:
            errors.setdefault("warehouse", []).append(
                str(_("Limit a rule to a market or to a warehouse, not both."))
            )
        if errors:
            raise ValidationError(errors)
        self.thresholds = clean_thresholds(self.kind, self.thresholds or {})

    def threshold(self, name: str) -> float:
        """One threshold's value (its default when the row has none)."""
        value = (self.thresholds or {}).get(name)
        if value is None:
            value = default_thresholds(self.kind)[name]
        return float(value)


class RiskWarning(models.Model):
    """One condition a rule found, about one object (a market's product, a shipment, …)."""

    rule = models.ForeignKey(
        RiskRule, on_delete=models.PROTECT, related_name="warnings", verbose_name=_("rule")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=RiskKind)
    severity = models.CharField(_("severity"), max_length=16, choices=RiskSeverity)
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("about (type)")
    )
    subject_id = models.PositiveBigIntegerField(_("about (id)"))
    subject = GenericForeignKey("subject_type", "subject_id")
    key = models.CharField(_("condition"), max_length=200)
    message = models.CharField(_("message"), max_length=500)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    raised_at = models.DateTimeField(_("raised at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("risk warning")
        verbose_name_plural = _("risk warnings")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="risk_warning_subject"),
            models.Index(
                fields=["-raised_at"],
                condition=Q(resolved_at__isnull=True),
                name="risk_warning_open",
            ),
        ]
        constraints = [
            # One condition raises one open warning, however often it is evaluated, even by
            # a beat run and a trade's evaluation at the same moment.
            models.UniqueConstraint(
                fields=["key"], condition=Q(resolved_at__isnull=True), name="risk_warning_one_open"
            ),
            models.CheckConstraint(condition=Q(kind__in=RiskKind.values), name="risk_warning_kind"),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
