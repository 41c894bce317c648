"""Harvest lots: one product from one farm and one harvest day."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from ..choices import Certification, Grade, PesticideTestResult
from .catalogue import Product
from .farms import Farm

MAX_LOT_QUANTITY_KG = Decimal("500000")


LOT_CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$",
    _("Use 3 to 40 letters, digits, dots, hyphens or underscores."),
    code="invalid_lot_code",
)


class HarvestLot(TimeStampedModel):
    """One product from one farm and one harvest day, with its grade and test result."""

    lot_code = models.CharField(_("lot code"), max_length=40, validators=[LOT_CODE_VALIDATOR])
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="harvest_lots", verbose_name=_("product")
    )
    farm = models.ForeignKey(
        Farm, on_delete=models.PROTECT, related_name="harvest_lots", verbose_name=_("farm")
    )
    harvest_date = models.DateField(_("harvest date"))
    quantity_kg = models.DecimalField(_("quantity (kg)"), max_digits=12, decimal_places=3)
    grade = models.CharField(_("grade"), max_length=16, choices=Grade)
    certifications = ArrayField(
        models.CharField(max_length=32, choices=Certification),
        verbose_name=_("certifications"),
        default=list,
        blank=True,
    )
    pesticide_test_result = models.CharField(
        _("pesticide residue test"),
        max_length=16,
        choices=PesticideTestResult,
        default=PesticideTestResult.NOT_TESTED,
    )
    tested_on = models.DateField(_("tested on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="recorded_harvest_lots",
        verbose_name=_("recorded by"),
    )
    # Made on the phone with the draft: a lot sent twice (offline, a lost answer) is one lot.
    # db_default: rows written outside Django (bulk SQL, the benches' data) get "" too.
    idempotency_key = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("harvest lot")
        verbose_name_plural = _("harvest lots")
        ordering = ["-harvest_date", "-created_at", "-id"]
        indexes = [models.Index(fields=["farm", "harvest_date"], name="harvest_lot_farm_date")]
        constraints = [
            models.UniqueConstraint(fields=["lot_code"], name="harvest_lot_code_unique"),
            models.UniqueConstraint(
                fields=["recorded_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="harvest_lot_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(quantity_kg__gt=0) & Q(quantity_kg__lte=MAX_LOT_QUANTITY_KG),
                name="harvest_lot_quantity_kg_range",
            ),
            models.CheckConstraint(
                condition=Q(grade__in=Grade.values), name="harvest_lot_grade_valid"
            ),
            models.CheckConstraint(
                condition=Q(certifications__contained_by=Certification.values),
                name="harvest_lot_certifications_valid",
            ),
            models.CheckConstraint(
                condition=Q(pesticide_test_result__in=PesticideTestResult.values),
                name="harvest_lot_test_result_valid",
            ),
            models.CheckConstraint(
                condition=~Q(pesticide_test_result=PesticideTestResult.NOT_TESTED)
                | Q(tested_on__isnull=True),
                name="harvest_lot_untested_has_no_test_date",
            ),
        ]

    def __str__(self) -> str:
        return self.lot_code

    def certification_labels(self) -> list[str]:
        return [str(Certification(value).label) for value in self.certifications]
