"""Co-operatives and their members, farms on the map, the product catalogue, harvest lots.

Coordinates are WGS 84 (SRID 4326), longitude first. Chinese map services show GCJ-02,
which is offset by up to a few hundred metres; coordinates entering here must be WGS 84.
"""

import math
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db.models import Func, Q
from django.utils.translation import gettext_lazy as _

from common.dates import business_today
from common.models import TimeStampedModel

from .choices import (
    Certification,
    Grade,
    InvitationStatus,
    PesticideTestResult,
    ProductCategory,
    ProductUnit,
    ShelfLifeModel,
    default_grade_scale,
)

MAX_LOT_QUANTITY_KG = Decimal("500000")
GAS_CONSTANT_J_PER_MOL_K = 8.314462618
KELVIN_AT_0_C = 273.15


class GeodesicAreaHectares(Func):
    """Area on the WGS 84 spheroid, in hectares (PostGIS geography area is in m²)."""

    function = "ST_Area"
    template = "(%(function)s(%(expressions)s::geography) / 10000)"
    output_field = models.FloatField()


class Cooperative(TimeStampedModel):
    """A farmers' specialised co-operative (农民专业合作社)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    name_en = models.CharField(_("English name"), max_length=160, blank=True)
    province = models.CharField(_("province"), max_length=40)
    region = models.CharField(_("city or county"), max_length=80, blank=True)
    location = models.PointField(_("location"), geography=True, srid=4326, null=True, blank=True)
    founded_on = models.DateField(_("founded on"), null=True, blank=True)
    registration_code = models.CharField(
        _("registration code"),
        max_length=18,
        blank=True,
        help_text=_("Unified social credit code (统一社会信用代码)."),
    )

    class Meta:
        verbose_name = _("co-operative")
        verbose_name_plural = _("co-operatives")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration_code"],
                condition=~Q(registration_code=""),
                name="cooperative_registration_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's place in one co-operative; managers run it (role cooperative_manager)."""

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("co-operative"),
    )
    # One co-operative per person: the one-to-one is the database's promise.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("member"),
    )
    is_manager = models.BooleanField(_("is a manager"), default=False)
    joined_on = models.DateField(_("joined on"), default=business_today)
    # Set only when the co-operative made the account (a number nobody used): such a
    # member has no password of her own yet, so her manager may hand her a first one.
    account_created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account created by"),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["cooperative", "-is_manager", "joined_on", "id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.cooperative}"


class MembershipInvitation(models.Model):
    """A co-operative's invitation to the holder of an existing account, who joins only
    when she accepts it after signing in (nobody is attached to a co-op by her number)."""

    cooperative = models.ForeignKey(
        Cooperative,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("co-operative"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership_invitations",
        verbose_name=_("invited person"),
    )
    phone = models.CharField(_("invited mobile number"), max_length=20)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=InvitationStatus.choices,
        default=InvitationStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership invitation")
        verbose_name_plural = _("membership invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cooperative", "user"],
                condition=Q(status=InvitationStatus.PENDING),
                name="invitation_one_pending_per_person",
            ),
            models.CheckConstraint(
                condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} → {self.cooperative} ({self.status})"


class Farm(TimeStampedModel):
    """A field worked by one member; its area is computed by PostGIS from the boundary."""

    cooperative = models.ForeignKey(
        Cooperative, on_delete=models.PROTECT, related_name="farms", verbose_name=_("co-operative")
    )
    farmer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="farms",
        verbose_name=_("farmer"),
    )
    name = models.CharField(_("name"), max_length=120)
    boundary = models.PolygonField(_("boundary"), srid=4326, null=True, blank=True)
    location = models.PointField(
        _("location"),
        geography=True,
        srid=4326,
        help_text=_("A point on the farm; taken from the boundary when not given."),
    )
    area_hectares = models.GeneratedField(
        expression=GeodesicAreaHectares("boundary"),
        output_field=models.DecimalField(max_digits=14, decimal_places=4),
        db_persist=True,
        verbose_name=_("area (ha)"),
    )

    class Meta:
        verbose_name = _("farm")
        verbose_name_plural = _("farms")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["farmer", "name"], name="farm_name_unique_per_farmer"),
        ]

    def __str__(self) -> str:
        return self.name


PRODUCT_CODE_VALIDATOR = RegexValidator(
    r"^[A-Z]+(-[A-Z0-9]+)+$",
    _("Use capital letters, digits and hyphens, e.g. VEG-CUCUMBER."),
    code="invalid_product_code",
)


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

    class Meta:
        verbose_name = _("harvest lot")
        verbose_name_plural = _("harvest lots")
        ordering = ["-harvest_date", "-created_at", "-id"]
        indexes = [models.Index(fields=["farm", "harvest_date"], name="harvest_lot_farm_date")]
        constraints = [
            models.UniqueConstraint(fields=["lot_code"], name="harvest_lot_code_unique"),
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
