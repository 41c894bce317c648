from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from common.api.fields import BoundaryField, ChoicesFromContext, DecimalStringField, LocationField
from farms.choices import Certification, Grade, PesticideTestResult, ProductCategory
from farms.models import (
    CooperativeApplication,
    Farm,
    HarvestLot,
    Membership,
    MembershipInvitation,
    Product,
)
from farms.models.lots import MAX_LOT_QUANTITY_KG


# Explicit fields rather than ModelSerializer: the catalogue list is read by every screen,
# and ModelSerializer rebuilds its fields from the model on every request.
class StorageProfileOutputSerializer(serializers.Serializer):
    min_temperature_c = DecimalStringField()
    max_temperature_c = DecimalStringField()
    min_humidity_pct = DecimalStringField()
    max_humidity_pct = DecimalStringField()
    nominal_shelf_life_days = serializers.IntegerField(read_only=True)
    reference_temperature_c = DecimalStringField()
    lowest_safe_temperature_c = DecimalStringField(allow_null=True)
    shelf_life_model = serializers.CharField(read_only=True)
    q10 = DecimalStringField(allow_null=True)
    activation_energy_kj_mol = DecimalStringField(allow_null=True)
    sqrt_minimum_temperature_c = DecimalStringField(allow_null=True)
    is_chilling_sensitive = serializers.BooleanField(read_only=True)


class StorageProfileWithSourcesOutputSerializer(StorageProfileOutputSerializer):
    """With the citation of every value: long text, so only on a product's own page."""

    sources = serializers.DictField(child=serializers.CharField(), read_only=True)


class ProductOutputSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    category = serializers.CharField(read_only=True)
    category_label = serializers.SerializerMethodField()
    unit = serializers.CharField(read_only=True)
    grade_scale = serializers.ListField(child=serializers.CharField(), read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    storage_profile = StorageProfileOutputSerializer(read_only=True, allow_null=True)

    def get_category_label(self, product: Product) -> str:
        # The enum's label, not get_category_display(), which rebuilds and translates the
        # whole choice list for every product.
        return str(ProductCategory(product.category).label)


class ProductDetailOutputSerializer(ProductOutputSerializer):
    storage_profile = StorageProfileWithSourcesOutputSerializer(read_only=True, allow_null=True)


class FarmInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    farmer = ChoicesFromContext(
        context_key="farmer_choices",
        required=False,
        help_text=_("The member who works the farm; a farmer adding her own farm leaves it out."),
    )
    boundary = BoundaryField(required=False, allow_null=True)
    location = LocationField(
        required=False,
        allow_null=True,
        help_text=_("WGS 84; taken from the boundary when left out."),
    )


class FarmOutputSerializer(serializers.ModelSerializer):
    cooperative_name = serializers.CharField(source="cooperative.name", read_only=True)
    farmer_name = serializers.CharField(source="farmer.__str__", read_only=True)
    boundary = GeometryField(read_only=True)
    location = GeometryField(read_only=True)
    area_hectares = DecimalStringField()
    distance_km = serializers.SerializerMethodField()

    class Meta:
        model = Farm
        fields = [
            "id",
            "name",
            "cooperative",
            "cooperative_name",
            "farmer",
            "farmer_name",
            "boundary",
            "location",
            "area_hectares",
            "distance_km",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_distance_km(self, farm: Farm) -> float | None:
        distance = getattr(farm, "distance", None)
        return round(distance.km, 3) if distance is not None else None


class HarvestLotInputSerializer(serializers.Serializer):
    lot_code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text=_("Leave empty to have one generated."),
    )
    product = serializers.SlugRelatedField(
        slug_field="code", queryset=Product.objects.filter(is_active=True)
    )
    farm = ChoicesFromContext(context_key="farm_choices")
    harvest_date = serializers.DateField()
    quantity_kg = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        min_value=Decimal("0.001"),
        max_value=MAX_LOT_QUANTITY_KG,
    )
    grade = serializers.ChoiceField(choices=Grade.choices)
    certifications = serializers.ListField(
        child=serializers.ChoiceField(choices=Certification.choices), required=False
    )
    pesticide_test_result = serializers.ChoiceField(
        choices=PesticideTestResult.choices, default=PesticideTestResult.NOT_TESTED
    )
    tested_on = serializers.DateField(required=False, allow_null=True)


class HarvestLotOutputSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)
    product_name_zh = serializers.CharField(source="product.name_zh", read_only=True)
    product_name_en = serializers.CharField(source="product.name_en", read_only=True)
    farm_name = serializers.CharField(source="farm.name", read_only=True)
    grade_label = serializers.CharField(source="get_grade_display", read_only=True)

    class Meta:
        model = HarvestLot
        fields = [
            "id",
            "lot_code",
            "product",
            "product_name_zh",
            "product_name_en",
            "farm",
            "farm_name",
            "harvest_date",
            "quantity_kg",
            "grade",
            "grade_label",
            "certifications",
            "pesticide_test_result",
            "tested_on",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class MemberInputSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=20, help_text="The mainland mobile number to invite.")
    cooperative = serializers.IntegerField(
        required=False, help_text=_("Platform admins only: the co-operative to add to.")
    )


class MembershipOutputSerializer(serializers.ModelSerializer):
    cooperative_name = serializers.CharField(source="cooperative.name", read_only=True)
    user_id = serializers.IntegerField(source="user.pk", read_only=True)
    name = serializers.CharField(source="user.__str__", read_only=True)
    phone = serializers.CharField(source="user.phone", read_only=True)
    role = serializers.CharField(source="user.role", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "cooperative",
            "cooperative_name",
            "user_id",
            "name",
            "phone",
            "role",
            "is_manager",
            "joined_on",
        ]
        read_only_fields = fields


class SentInvitationOutputSerializer(serializers.ModelSerializer):
    """An invitation as its co-operative sees it: the number it went to, never the account."""

    cooperative_name = serializers.CharField(source="cooperative.name", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="pending, accepted, declined or withdrawn"
    )

    class Meta:
        model = MembershipInvitation
        fields = [
            "id",
            "cooperative",
            "cooperative_name",
            "phone",
            "status",
            "sent_at",
            "expires_at",
            "created_at",
            "answered_at",
        ]
        read_only_fields = fields


class MyInvitationOutputSerializer(serializers.ModelSerializer):
    """An invitation as the invited person sees it."""

    cooperative_name = serializers.CharField(source="cooperative.name", read_only=True)
    status = serializers.CharField(
        read_only=True, help_text="pending, accepted, declined or withdrawn"
    )

    class Meta:
        model = MembershipInvitation
        fields = ["id", "cooperative", "cooperative_name", "status", "created_at", "answered_at"]
        read_only_fields = fields


class CooperativeApplicationInputSerializer(serializers.Serializer):
    """multipart/form-data: the fields and the licence photo (JPEG, PNG or WebP)."""

    name = serializers.CharField(max_length=120)
    registration_code = serializers.CharField(
        max_length=40,
        help_text="Unified social credit code: 18 characters with its check character.",
    )
    province = serializers.CharField(max_length=40)
    region = serializers.CharField(max_length=80, help_text="City and county.")
    contact_name = serializers.CharField(max_length=80)
    contact_phone = serializers.CharField(max_length=20)
    licence = serializers.FileField(
        help_text="Business licence photo; at most COOPERATIVE_LICENCE_MAX_BYTES."
    )


class CooperativeApplicationResubmitSerializer(CooperativeApplicationInputSerializer):
    licence = serializers.FileField(required=False, help_text="Leave out to keep the photo sent.")


class CooperativeApplicationOutputSerializer(serializers.ModelSerializer):
    status = serializers.CharField(
        read_only=True, help_text="pending, changes_requested, approved or declined"
    )
    reason = serializers.CharField(
        read_only=True, help_text="The admin's reason for asking changes or declining."
    )
    licence_url = serializers.SerializerMethodField()

    class Meta:
        model = CooperativeApplication
        fields = [
            "id",
            "name",
            "registration_code",
            "province",
            "region",
            "contact_name",
            "contact_phone",
            "status",
            "reason",
            "cooperative",
            "submitted_at",
            "reviewed_at",
            "licence_url",
        ]
        read_only_fields = fields

    def get_licence_url(self, application) -> str:
        return reverse("cooperative-application-licence", args=[application.pk])


class ApplicationReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "return", "decline"])
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        help_text="Required to return (ask for changes) or decline; the applicant reads it.",
    )
