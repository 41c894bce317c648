"""Shapes of the cold chain's registry and shipments API: *InputSerializer validate a request's
form (the services hold the rules), *OutputSerializer render. Temperatures and quantities are
decimal strings, as the database keeps them; times are ISO 8601 in UTC."""

from decimal import Decimal

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.api.fields import ScopedPrimaryKeyField
from farms.models import Cooperative, HarvestLot
from marketplace.markets.models import Market, Trade
from marketplace.models import Order

from ..choices import HandoverDecision, HandoverKind, ShipmentStatus, SiteKind
from ..models import (
    ColdStore,
    DataLogger,
    Handover,
    LoggerAssignment,
    Shipment,
    ShipmentEvent,
    ShipmentLot,
    Site,
    Vehicle,
)
from ..selectors.alerts import alert_payload
from ..selectors.planning import (
    lots_shippable_by,
    orders_for_shipping,
    trades_for_shipping,
    vehicles_for_planning,
)
from ..selectors.shipments import open_alerts_of


def choice_field(choices) -> type[serializers.ChoiceField]:
    """A ChoiceField of `choices`, documented as a plain string listing its values: as an enum
    it would collide with the API's other `kind` and `status` enums (markets, orders,
    listings) unless settings.ENUM_NAME_OVERRIDES named it."""

    @extend_schema_field(
        {
            "type": "string",
            "description": f"One of: {', '.join(choices.values)}.",
            "example": choices.values[0],
        }
    )
    class Choice(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=choices.choices, **kwargs)

    Choice.__name__ = f"{choices.__name__}Field"
    return Choice


SiteKindField = choice_field(SiteKind)
ShipmentStatusField = choice_field(ShipmentStatus)
HandoverKindField = choice_field(HandoverKind)
HandoverDecisionField = choice_field(HandoverDecision)


# --- Excursion settings shared by stores and shipments ----------------------------------------


class PatienceInputSerializer(serializers.Serializer):
    """The optional excursion settings (defaults: 15 min, 10 min, 0.5 °C, 15 min)."""

    excursion_delay_minutes = serializers.IntegerField(required=False, min_value=1, max_value=720)
    recovery_minutes = serializers.IntegerField(required=False, min_value=1, max_value=720)
    recovery_margin_c = serializers.DecimalField(
        required=False,
        max_digits=3,
        decimal_places=1,
        min_value=Decimal("0"),
        max_value=Decimal("5"),
    )
    signal_timeout_minutes = serializers.IntegerField(required=False, min_value=2, max_value=1440)


RANGE_FIELDS = [
    "min_temperature_c",
    "max_temperature_c",
    "excursion_delay_minutes",
    "recovery_minutes",
    "recovery_margin_c",
    "signal_timeout_minutes",
]


class RangeOutputSerializer(serializers.Serializer):
    min_temperature_c = serializers.DecimalField(max_digits=4, decimal_places=1)
    max_temperature_c = serializers.DecimalField(max_digits=4, decimal_places=1)
    excursion_delay_minutes = serializers.IntegerField()
    recovery_minutes = serializers.IntegerField()
    recovery_margin_c = serializers.DecimalField(max_digits=3, decimal_places=1)
    signal_timeout_minutes = serializers.IntegerField()


# --- Sites, stores, vehicles ------------------------------------------------------------------


class SiteOutputSerializer(serializers.ModelSerializer):
    kind = SiteKindField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display")
    longitude = serializers.SerializerMethodField()
    latitude = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "longitude",
            "latitude",
            "cooperative",
            "market",
        ]

    def get_longitude(self, site: Site) -> float:
        return site.location.x

    def get_latitude(self, site: Site) -> float:
        return site.location.y


class SiteInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = SiteKindField()
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    cooperative = serializers.PrimaryKeyRelatedField(
        queryset=Cooperative.objects.all(), required=False, allow_null=True
    )
    market = serializers.PrimaryKeyRelatedField(
        queryset=Market.objects.all(), required=False, allow_null=True
    )


class ColdStoreOutputSerializer(serializers.ModelSerializer):
    site = SiteOutputSerializer()
    range = serializers.SerializerMethodField()

    class Meta:
        model = ColdStore
        fields = ["id", "code", "name", "site", "capacity_kg", "range"]

    @extend_schema_field(RangeOutputSerializer)
    def get_range(self, store: ColdStore) -> dict:
        return RangeOutputSerializer(store).data


class ColdStoreInputSerializer(PatienceInputSerializer):
    code = serializers.SlugField(max_length=40)
    name = serializers.CharField(max_length=120)
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    min_temperature_c = serializers.DecimalField(max_digits=4, decimal_places=1)
    max_temperature_c = serializers.DecimalField(max_digits=4, decimal_places=1)
    capacity_kg = serializers.DecimalField(
        max_digits=12, decimal_places=3, required=False, allow_null=True
    )


class VehicleOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "plate", "name", "carrier", "cooperative", "last_position_at"]


class VehicleInputSerializer(serializers.Serializer):
    plate = serializers.CharField(max_length=16)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    carrier = serializers.CharField(max_length=120, required=False, allow_blank=True)
    cooperative = serializers.PrimaryKeyRelatedField(
        queryset=Cooperative.objects.all(), required=False, allow_null=True
    )


# --- Loggers ----------------------------------------------------------------------------------


class AssignmentOutputSerializer(serializers.ModelSerializer):
    logger = serializers.CharField(source="logger.device_id")

    class Meta:
        model = LoggerAssignment
        fields = ["id", "logger", "shipment", "store", "starts_at", "ends_at"]


class LoggerOutputSerializer(serializers.ModelSerializer):
    assignment = serializers.SerializerMethodField(
        help_text="The period open now (or last begun), if any."
    )

    class Meta:
        model = DataLogger
        fields = [
            "id",
            "device_id",
            "label",
            "is_active",
            "last_reading_at",
            "battery_pct",
            "assignment",
        ]

    @extend_schema_field(AssignmentOutputSerializer(allow_null=True))
    def get_assignment(self, logger: DataLogger) -> dict | None:
        current = getattr(logger, "current_assignments", None)
        if current is None:
            current = list(logger.assignments.filter(ends_at__isnull=True))
        return AssignmentOutputSerializer(current[0]).data if current else None


class LoggerRegisterInputSerializer(serializers.Serializer):
    device_id = serializers.CharField(max_length=64)
    label = serializers.CharField(max_length=120, required=False, allow_blank=True)


class LoggerRegisteredOutputSerializer(LoggerOutputSerializer):
    secret = serializers.SerializerMethodField(
        help_text="Shown this once: only its hash is kept. The logger signs in with "
        "`Authorization: Device <device_id>:<secret>`."
    )

    class Meta(LoggerOutputSerializer.Meta):
        fields = [*LoggerOutputSerializer.Meta.fields, "secret"]

    def get_secret(self, logger: DataLogger) -> str:
        return self.context["secret"]


class LoggerAssignInputSerializer(serializers.Serializer):
    """One of `shipment` and `store`; `starts_at` defaults to now, `ends_at` to open."""

    shipment = serializers.PrimaryKeyRelatedField(
        queryset=Shipment.objects.select_related("origin", "destination"),
        required=False,
        allow_null=True,
    )
    store = serializers.PrimaryKeyRelatedField(
        queryset=ColdStore.objects.select_related("site"), required=False, allow_null=True
    )
    starts_at = serializers.DateTimeField(required=False)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, data):
        if bool(data.get("shipment")) == bool(data.get("store")):
            raise serializers.ValidationError(
                {"shipment": ["Name either a shipment or a cold store."]}
            )
        return data


# --- Shipments --------------------------------------------------------------------------------


class ShipmentLotInputSerializer(serializers.Serializer):
    """Lot, order and trade are looked up among what the planner may use
    (coldchain.selectors.planning): another's is "Not found, or not yours." as a missing one
    is."""

    lot = ScopedPrimaryKeyField(scope=lots_shippable_by, model=HarvestLot)
    quantity_kg = serializers.DecimalField(max_digits=12, decimal_places=3)
    order = ScopedPrimaryKeyField(
        scope=orders_for_shipping, model=Order, required=False, allow_null=True
    )
    trade = ScopedPrimaryKeyField(
        scope=trades_for_shipping, model=Trade, required=False, allow_null=True
    )


class ShipmentPlanInputSerializer(PatienceInputSerializer):
    code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    origin = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    destination = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    vehicle = ScopedPrimaryKeyField(
        scope=vehicles_for_planning, model=Vehicle, required=False, allow_null=True
    )
    planned_departure_at = serializers.DateTimeField()
    planned_arrival_at = serializers.DateTimeField()
    lots = ShipmentLotInputSerializer(many=True, allow_empty=False)
    accept_warnings = serializers.BooleanField(
        default=False,
        help_text="Plan a compatible but awkward mix anyway (its warnings were shown).",
    )


class ShipmentListFilterSerializer(serializers.Serializer):
    status = ShipmentStatusField(required=False)


class HandoverInputSerializer(serializers.Serializer):
    kind = HandoverKindField()
    decision = HandoverDecisionField()
    probe_temperature_c = serializers.DecimalField(max_digits=4, decimal_places=1)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class HandoverOutputSerializer(serializers.ModelSerializer):
    kind = HandoverKindField(read_only=True)
    decision = HandoverDecisionField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display")
    decision_label = serializers.CharField(source="get_decision_display")
    recorded_by = serializers.StringRelatedField()
    record_url = serializers.SerializerMethodField()

    class Meta:
        model = Handover
        fields = [
            "id",
            "kind",
            "kind_label",
            "decision",
            "decision_label",
            "probe_temperature_c",
            "note",
            "recorded_by",
            "recorded_at",
            "record_summary",
            "record_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_record_url(self, handover: Handover) -> str:
        return reverse(
            "coldchain-shipment-record", kwargs={"pk": handover.shipment_id, "kind": handover.kind}
        )


class LotConditionOutputSerializer(serializers.Serializer):
    evaluated_at = serializers.DateTimeField()
    remaining_days = serializers.FloatField()
    consumed_fraction = serializers.FloatField()
    expected_expiry_at = serializers.DateTimeField()


class ShipmentLotOutputSerializer(serializers.ModelSerializer):
    lot_code = serializers.CharField(source="lot.lot_code")
    product = serializers.CharField(source="lot.product.code")
    product_name = serializers.CharField(source="lot.product.name_zh")
    condition = serializers.SerializerMethodField()
    held_reason = serializers.SerializerMethodField(
        help_text="Why the lot is held everywhere (a recall); null when it is not."
    )

    class Meta:
        model = ShipmentLot
        fields = [
            "lot",
            "lot_code",
            "product",
            "product_name",
            "quantity_kg",
            "order",
            "trade",
            "condition",
            "held_reason",
        ]

    def get_held_reason(self, line: ShipmentLot) -> str | None:
        return getattr(line, "held_reason", None)

    @extend_schema_field(LotConditionOutputSerializer(allow_null=True))
    def get_condition(self, line: ShipmentLot) -> dict | None:
        condition = getattr(line.lot, "condition", None)
        return None if condition is None else LotConditionOutputSerializer(condition).data


class VehicleBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vehicle
        fields = ["id", "plate", "name"]


class SiteBriefSerializer(SiteOutputSerializer):
    class Meta(SiteOutputSerializer.Meta):
        fields = ["id", "name", "kind", "longitude", "latitude"]


class ShipmentOutputSerializer(serializers.ModelSerializer):
    status = ShipmentStatusField(read_only=True)
    status_label = serializers.CharField(source="get_status_display")
    origin = SiteBriefSerializer()
    destination = SiteBriefSerializer()
    vehicle = VehicleBriefSerializer(allow_null=True)
    range = serializers.SerializerMethodField()
    recalled_lots = serializers.SerializerMethodField(
        help_text="Codes of the lots on board held everywhere (a recall); empty when none."
    )

    class Meta:
        model = Shipment
        fields = [
            "id",
            "code",
            "status",
            "status_label",
            "origin",
            "destination",
            "vehicle",
            "planned_departure_at",
            "planned_arrival_at",
            "departed_at",
            "arrived_at",
            "range",
            "compatibility_warnings",
            "recalled_lots",
        ]

    def get_recalled_lots(self, shipment: Shipment) -> list[str]:
        return list(getattr(shipment, "recalled_lot_codes", None) or [])

    @extend_schema_field(RangeOutputSerializer)
    def get_range(self, shipment: Shipment) -> dict:
        return RangeOutputSerializer(shipment).data


class ShipmentEventOutputSerializer(serializers.ModelSerializer):
    """One move of the shipment's status: who, when, from, to, why."""

    from_status = serializers.CharField(
        read_only=True, help_text="Empty for the planning that created the shipment."
    )
    from_status_label = serializers.CharField(source="get_from_status_display")
    to_status = ShipmentStatusField(read_only=True)
    to_status_label = serializers.CharField(source="get_to_status_display")
    actor = serializers.StringRelatedField(allow_null=True, help_text="Null: the platform.")

    class Meta:
        model = ShipmentEvent
        fields = [
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "actor",
            "at",
            "reason",
        ]


class ShipmentDetailOutputSerializer(ShipmentOutputSerializer):
    lots = ShipmentLotOutputSerializer(many=True)
    handovers = HandoverOutputSerializer(many=True)
    history = ShipmentEventOutputSerializer(
        source="events", many=True, help_text="Every move of its status, oldest first."
    )
    open_alerts = serializers.SerializerMethodField(
        help_text="Alerts not yet both resolved and acknowledged, as the screens receive them."
    )

    class Meta(ShipmentOutputSerializer.Meta):
        fields = [
            *ShipmentOutputSerializer.Meta.fields,
            "lots",
            "handovers",
            "history",
            "open_alerts",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_open_alerts(self, shipment: Shipment) -> list[dict]:
        return [alert_payload(alert) for alert in open_alerts_of(shipment)]


class ReadingSeriesOutputSerializer(serializers.Serializer):
    min_temperature_c = serializers.FloatField()
    max_temperature_c = serializers.FloatField()
    late_readings = serializers.IntegerField(
        help_text="Readings in the window that arrived late (after their watch ended, or long "
        "after they were recorded)."
    )
    points = serializers.ListField(
        child=serializers.ListField(),
        help_text="[epoch seconds, °C, RH % or null, late], time-ordered; at most ~720 (bucket "
        "means when the window holds more; late if any of the bucket's readings was).",
    )


class SeriesQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(
        required=False,
        help_text="ISO 8601. Default: a shipment's whole watched leg, a store's last 24 h.",
    )
