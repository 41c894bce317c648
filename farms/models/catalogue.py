"""The product catalogue: products and how each keeps (storage band, shelf-life model)."""

import math
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import TimeStampedModel

from ..choices import Grade, ProductCategory, ProductUnit, ShelfLifeModel, default_grade_scale

GAS_CONSTANT_J_PER_MOL_K = 8.314462618
KELVIN_AT_0_C = 273.15


PRODUCT_CODE_VALIDATOR = RegexValidator(
    r"^[A-Z]+(-[A-Z0-9]+)+$",
    _("Use capital letters, digits and hyphens, e.g. VEG-CUCUMBER."),
    code="invalid_product_code",
)


def gtin_check_digit(body: str) -> str:
    """GS1's mod-10 check digit of a GTIN's other digits (GS1 General Specifications 7.9):
    weights 3 and 1 alternate from the digit next to the check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def validate_gtin(value: str) -> None:
    """A GTIN-8, -12, -13 or -14 with its check digit."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        raise ValidationError(
            _("Give the 8, 12, 13 or 14 digits of the GTIN."), code="invalid_gtin"
        )
    if gtin_check_digit(value[:-1]) != value[-1]:
        raise ValidationError(_("This GTIN's check digit is wrong."), code="invalid_gtin")


class Product(TimeStampedModel):
    """A catalogue entry; `code` is stable and what other apps and the API refer to."""

    code = models.CharField(
        _("code"), max_length=40, unique=True, validators=[PRODUCT_CODE_VALIDATOR]
    )
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=80)
    category = models.CharField(_("category"), max_length=32, choices=ProductCategory)
    unit = models.CharField(_("unit"), max_length=8, choices=ProductUnit, default=ProductUnit.KG)
    grade_scale = ArrayField(
        models.CharField(max_length=16, choices=Grade),
        verbose_name=_("grade scale"),
        default=default_grade_scale,
        help_text=_("The grades this product is sold in, best first."),
    )
    is_active = models.BooleanField(_("is active"), default=True)
    # Where the product has one, trace links are GS1 Digital Link paths (/01/<gtin>/10/<lot>).
    gtin = models.CharField(
        _("GTIN"),
        max_length=14,
        blank=True,
        validators=[validate_gtin],
        help_text=_("The product's GS1 trade item number, if it has one."),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["category", "code"]
        # The catalogue is listed by category, in this order, on every page and API call.
        indexes = [models.Index(fields=["category", "code"], name="product_category_code_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=ProductCategory.values), name="product_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(unit__in=ProductUnit.values), name="product_unit_valid"
            ),
            models.CheckConstraint(
                condition=Q(grade_scale__len__gt=0) & Q(grade_scale__contained_by=Grade.values),
                name="product_grade_scale_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.name_en})"

    def has_grade(self, grade: str) -> bool:
        return grade in self.grade_scale

    def grade_labels(self) -> list[str]:
        return [str(Grade(grade).label) for grade in self.grade_scale]


class StorageProfile(models.Model):
    """How a product keeps: storage band, chilling threshold and a shelf-life model.

    `nominal_shelf_life_days` holds at `reference_temperature_c`. At another temperature T
    the rate of quality loss is scaled by `relative_rate(T)`; below the lowest safe
    temperature of a chilling-sensitive product that scaling is not valid (chilling injury
    shortens life instead). `sources` maps every value's field name to its citation.
    """

    VALUE_FIELDS = (
        "min_temperature_c",
        "max_temperature_c",
        "min_humidity_pct",
        "max_humidity_pct",
        "nominal_shelf_life_days",
        "reference_temperature_c",
        "lowest_safe_temperature_c",
        "shelf_life_model",
        "q10",
        "activation_energy_kj_mol",
        "sqrt_minimum_temperature_c",
    )

    product = models.OneToOneField(
        Product,
        on_delete=models.CASCADE,
        related_name="storage_profile",
        verbose_name=_("product"),
    )
    min_temperature_c = models.DecimalField(
        _("lowest storage temperature (°C)"), max_digits=4, decimal_places=1
    )
    max_temperature_c = models.DecimalField(
        _("highest storage temperature (°C)"), max_digits=4, decimal_places=1
    )
    min_humidity_pct = models.DecimalField(
        _("lowest relative humidity (%)"), max_digits=4, decimal_places=1
    )
    max_humidity_pct = models.DecimalField(
        _("highest relative humidity (%)"), max_digits=4, decimal_places=1
    )
    nominal_shelf_life_days = models.PositiveIntegerField(_("storage life (days)"))
    reference_temperature_c = models.DecimalField(
        _("reference temperature (°C)"),
        max_digits=4,
        decimal_places=1,
        help_text=_("The temperature at which the storage life holds."),
    )
    lowest_safe_temperature_c = models.DecimalField(
        _("lowest safe temperature (°C)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Chilling injury below this; empty when not chilling-sensitive."),
    )
    shelf_life_model = models.CharField(
        _("shelf-life model"), max_length=16, choices=ShelfLifeModel, default=ShelfLifeModel.Q10
    )
    q10 = models.DecimalField(
        _("Q10"), max_digits=4, decimal_places=2, null=True, blank=True, default=Decimal("3.00")
    )
    activation_energy_kj_mol = models.DecimalField(
        _("activation energy (kJ/mol)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    sqrt_minimum_temperature_c = models.DecimalField(
        _("square-root model minimum temperature (°C)"),
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
    )
    sources = models.JSONField(
        _("sources"), default=dict, help_text=_("Field name → citation of its value.")
    )

    class Meta:
        verbose_name = _("storage profile")
        verbose_name_plural = _("storage profiles")
        constraints = [
            models.CheckConstraint(
                condition=Q(min_temperature_c__lt=models.F("max_temperature_c")),
                name="storage_temperature_band_valid",
            ),
            models.CheckConstraint(
                condition=Q(min_humidity_pct__gte=0)
                & Q(max_humidity_pct__lte=100)
                & Q(min_humidity_pct__lte=models.F("max_humidity_pct")),
                name="storage_humidity_band_valid",
            ),
            models.CheckConstraint(
                condition=Q(nominal_shelf_life_days__gt=0), name="storage_life_positive"
            ),
            models.CheckConstraint(
                condition=Q(reference_temperature_c__gte=models.F("min_temperature_c"))
                & Q(reference_temperature_c__lte=models.F("max_temperature_c")),
                name="storage_reference_temperature_in_band",
            ),
            models.CheckConstraint(
                condition=Q(lowest_safe_temperature_c__isnull=True)
                | Q(lowest_safe_temperature_c__lt=models.F("max_temperature_c")),
                name="storage_lowest_safe_below_max",
            ),
            models.CheckConstraint(
                condition=Q(shelf_life_model__in=ShelfLifeModel.values),
                name="storage_shelf_life_model_valid",
            ),
            models.CheckConstraint(
                condition=~Q(shelf_life_model=ShelfLifeModel.Q10) | Q(q10__gt=1),
                name="storage_q10_model_has_q10",
            ),
            models.CheckConstraint(
                condition=~Q(shelf_life_model=ShelfLifeModel.ARRHENIUS)
                | Q(activation_energy_kj_mol__gt=0),
                name="storage_arrhenius_model_has_energy",
            ),
            models.CheckConstraint(
                condition=~Q(shelf_life_model=ShelfLifeModel.SQRT)
                | Q(sqrt_minimum_temperature_c__lt=models.F("reference_temperature_c")),
                name="storage_sqrt_model_has_minimum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.code}: {self.min_temperature_c}–{self.max_temperature_c} °C"

    @property
    def is_chilling_sensitive(self) -> bool:
        return self.lowest_safe_temperature_c is not None

    def is_below_safe_temperature(self, temperature_c: Decimal) -> bool:
        """True where chilling injury starts: below the lowest safe temperature."""
        lowest = self.lowest_safe_temperature_c
        return lowest is not None and temperature_c < lowest

    def is_within_storage_band(self, temperature_c: Decimal) -> bool:
        return self.min_temperature_c <= temperature_c <= self.max_temperature_c

    def missing_sources(self) -> list[str]:
        """Names of the fields that hold a value but no citation for it."""
        return [
            name
            for name in self.VALUE_FIELDS
            if getattr(self, name) is not None and not str(self.sources.get(name, "")).strip()
        ]

    def relative_rate(self, temperature_c: Decimal | float) -> float:
        """Rate of quality loss at T relative to the reference temperature (1.0 there)."""
        temperature = float(temperature_c)
        reference = float(self.reference_temperature_c)
        # Each model's parameter is present: the storage_*_model_has_* constraints say so.
        if self.shelf_life_model == ShelfLifeModel.ARRHENIUS:
            assert self.activation_energy_kj_mol is not None
            energy_j_mol = float(self.activation_energy_kj_mol) * 1000
            return math.exp(
                energy_j_mol
                / GAS_CONSTANT_J_PER_MOL_K
                * (1 / (reference + KELVIN_AT_0_C) - 1 / (temperature + KELVIN_AT_0_C))
            )
        if self.shelf_life_model == ShelfLifeModel.SQRT:
            assert self.sqrt_minimum_temperature_c is not None
            minimum = float(self.sqrt_minimum_temperature_c)
            if temperature <= minimum:
                return 0.0
            return ((temperature - minimum) / (reference - minimum)) ** 2
        assert self.q10 is not None
        return float(self.q10) ** ((temperature - reference) / 10)

    def shelf_life_days_at(self, temperature_c: Decimal | float) -> float:
        """Storage life at a constant temperature, in days (infinite where no loss)."""
        rate = self.relative_rate(temperature_c)
        return math.inf if rate == 0 else self.nominal_shelf_life_days / rate
