"""The daily price board through the API: public and read only.

GET /api/market/prices/?date=&product=&market=         one business day (today by default)
GET /api/market/prices/<code>/history/?date=&market=   a product's last 30 days, oldest first

Prices are CNY per kg as decimal strings (`*_per_kg`), and in the reader's unit beside them
(`min_price` …, with `price_unit`): per 斤 for a signed-in user who reads 斤.
"""

from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from common.api.schema import NULLABLE_DECIMAL_STRING, OneObjectListSchema
from common.dates import business_today
from common.units import WeightUnit, kg_in, unit_of
from farms.models import Product

from ..models import Market
from ..selectors.prices import (
    HISTORY_DAYS,
    DailyPrice,
    daily_prices,
    history_start,
    price_for_unit,
    price_history,
)

CURRENCY = "CNY"
# A decimal string, or null while the day's figures are not published.


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _market_field() -> serializers.SlugRelatedField:
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=Market.objects.all(),
        required=False,
        help_text=_("A market code; all markets by default."),
    )


class PriceQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, help_text=_("Business day (Asia/Shanghai); today by default.")
    )
    product = serializers.CharField(
        required=False, max_length=40, help_text=_("A product code, e.g. VEG-NAPA-CABBAGE.")
    )
    market = _market_field()


class HistoryQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, help_text=_("The last day of the window; today by default.")
    )
    market = _market_field()


class DailyPriceSerializer(serializers.Serializer):
    """One product on one business day, from settled trades that were not reversed."""

    business_date = serializers.DateField()
    product = serializers.CharField(source="product_code")
    product_name_zh = serializers.CharField()
    product_name_en = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    published = serializers.BooleanField(
        help_text=_(
            "False while the day has fewer trades of the product than the board's minimum "
            "and is not closed: then every price, volume and count is null."
        )
    )
    currency = serializers.SerializerMethodField()
    min_price_per_kg = serializers.SerializerMethodField()
    avg_price_per_kg = serializers.SerializerMethodField()
    max_price_per_kg = serializers.SerializerMethodField()
    price_unit = serializers.SerializerMethodField()
    min_price = serializers.SerializerMethodField()
    avg_price = serializers.SerializerMethodField()
    max_price = serializers.SerializerMethodField()
    volume_kg = serializers.SerializerMethodField()
    volume = serializers.SerializerMethodField()
    trade_count = serializers.IntegerField(allow_null=True)

    def _unit(self) -> str:
        request = self.context.get("request")
        return unit_of(request.user if request else None)

    def get_currency(self, row: DailyPrice) -> str:
        return CURRENCY

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_min_price_per_kg(self, row: DailyPrice) -> str | None:
        return _text(price_for_unit(row.min_price, WeightUnit.KG))

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_avg_price_per_kg(self, row: DailyPrice) -> str | None:
        return _text(price_for_unit(row.avg_price, WeightUnit.KG))

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_max_price_per_kg(self, row: DailyPrice) -> str | None:
        return _text(price_for_unit(row.max_price, WeightUnit.KG))

    @extend_schema_field(serializers.ChoiceField(choices=WeightUnit.choices))
    def get_price_unit(self, row: DailyPrice) -> str:
        return self._unit()

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_min_price(self, row: DailyPrice) -> str | None:
        return _text(price_for_unit(row.min_price, self._unit()))

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_avg_price(self, row: DailyPrice) -> str | None:
        return _text(price_for_unit(row.avg_price, self._unit()))

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_max_price(self, row: DailyPrice) -> str | None:
        return _text(price_for_unit(row.max_price, self._unit()))

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_volume_kg(self, row: DailyPrice) -> str | None:
        return _text(row.volume_kg)

    @extend_schema_field(NULLABLE_DECIMAL_STRING)
    def get_volume(self, row: DailyPrice) -> str | None:
        return None if row.volume_kg is None else str(kg_in(self._unit(), row.volume_kg))


BOARD_RESPONSE = inline_serializer(
    "PriceBoard",
    {
        "business_date": serializers.DateField(),
        "market": serializers.CharField(allow_null=True),
        "results": DailyPriceSerializer(many=True),
    },
)
HISTORY_RESPONSE = inline_serializer(
    "PriceHistory",
    {
        "product": serializers.CharField(),
        "market": serializers.CharField(allow_null=True),
        "since": serializers.DateField(),
        "until": serializers.DateField(),
        "days": serializers.IntegerField(),
        "results": DailyPriceSerializer(many=True),
    },
)


class PriceViewSet(viewsets.ViewSet):
    """The price board (价格行情): anyone may read it, nobody writes it."""

    schema = OneObjectListSchema()  # the board: the day, the market and its rows
    permission_classes = [AllowAny]
    lookup_field = "code"
    lookup_value_regex = r"[A-Z0-9-]+"

    @extend_schema(parameters=[PriceQuerySerializer], responses=BOARD_RESPONSE)
    def list(self, request):
        """Each product traded on the day: lowest, volume-weighted average and highest price,
        volume and number of trades, by category."""
        params = PriceQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        day = params.validated_data.get("date") or business_today()
        market = params.validated_data.get("market")
        rows = daily_prices(
            business_date=day,
            market=market,
            product_code=params.validated_data.get("product", ""),
        )
        return Response(
            {
                "business_date": day.isoformat(),
                "market": market.code if market else None,
                "results": DailyPriceSerializer(rows, many=True, context={"request": request}).data,
            }
        )

    @extend_schema(parameters=[HistoryQuerySerializer], responses=HISTORY_RESPONSE)
    @action(detail=True, methods=["get"])
    def history(self, request, code=None):
        """The product's last 30 days, oldest first; a day without trades has no row."""
        product = get_object_or_404(Product, code=code)
        params = HistoryQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        until = min(params.validated_data.get("date") or business_today(), business_today())
        market = params.validated_data.get("market")
        rows = price_history(product=product, until=until, market=market)
        return Response(
            {
                "product": product.code,
                "market": market.code if market else None,
                "since": history_start(until=until).isoformat(),
                "until": until.isoformat(),
                "days": HISTORY_DAYS,
                "results": DailyPriceSerializer(rows, many=True, context={"request": request}).data,
            }
        )


def register(router) -> None:
    """Add this area's viewsets to the API router."""
    router.register("market/prices", PriceViewSet, basename="market-price")
