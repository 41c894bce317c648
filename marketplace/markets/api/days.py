"""API: a market's business days and their end of day reports, for its operators.

GET /api/market/days/ lists the operator's market's days, newest first, each with its daily
report (null until the day is closed); GET /api/market/days/<YYYY-MM-DD>/ adds each trader's
statement figures. Another market's day is not found (404); other roles get 403. Amounts
are strings in CNY.
"""

from datetime import date

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.choices import Role
from accounts.permissions import HasRole
from common.api.schema import DECIMAL_STRING

from ..choices import DayStatus
from ..models import DailyReport, MarketDay, Statement
from ..selectors.days import business_days_of, staff_post_of, statements_of_day, with_reports
from ..selectors.funding import drawers_of_day
from .serializers_counter import DrawerLineOutputSerializer


@extend_schema_field(DECIMAL_STRING)
class MoneyAmountField(serializers.Field):
    """A Money's amount as the string the database holds ("12.50"); output only."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return str(value.amount)


# A plain string in the schema: as an enum it would collide with the other "status" enums
# (orders, listings) unless settings.ENUM_NAME_OVERRIDES named it.
@extend_schema_field(
    {
        "type": "string",
        "description": "open, closing (end of day under way: no more trades) or closed",
        "example": DayStatus.CLOSED.value,
    }
)
class DayStatusField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)


class DailyReportSerializer(serializers.ModelSerializer):
    turnover = MoneyAmountField()
    commission = MoneyAmountField()
    top_ups = MoneyAmountField()
    payouts = MoneyAmountField()
    withdrawals = MoneyAmountField()

    class Meta:
        model = DailyReport
        fields = [
            "trade_count",
            "reversed_count",
            "volume_kg",
            "turnover",
            "commission",
            "top_ups",
            "payouts",
            "withdrawals",
            "created_at",
        ]


class StatementFiguresSerializer(serializers.ModelSerializer):
    trader_name = serializers.CharField(source="trader.name")
    trader_kind = serializers.CharField(source="trader.kind")
    opening_balance = MoneyAmountField(help_text="What the market owed the trader at the start.")
    closing_balance = MoneyAmountField(help_text="What the market owed the trader at the end.")
    line_count = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = [
            "id",
            "trader",
            "trader_name",
            "trader_kind",
            "opening_balance",
            "closing_balance",
            "trade_count",
            "volume_kg",
            "line_count",
        ]

    def get_line_count(self, statement: Statement) -> int:
        return len(statement.lines)


class BusinessDaySerializer(serializers.ModelSerializer):
    status = DayStatusField()
    report = DailyReportSerializer(allow_null=True, read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = MarketDay
        fields = ["business_date", "status", "closed_at", "report", "currency"]

    def get_currency(self, day: MarketDay) -> str:
        return "CNY"


class BusinessDayDetailSerializer(BusinessDaySerializer):
    statements = StatementFiguresSerializer(many=True, read_only=True)
    drawers = DrawerLineOutputSerializer(
        many=True,
        read_only=True,
        help_text="Each operator's cash drawer: expected from the ledger, counted or missing.",
    )

    class Meta(BusinessDaySerializer.Meta):
        fields = [*BusinessDaySerializer.Meta.fields, "statements", "drawers"]


class BusinessDayViewSet(viewsets.ReadOnlyModelViewSet):
    """The business days of the market the operator works for, newest first, with their
    daily reports; one day (by date) adds each trader's statement figures."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.MARKET_OPERATOR)]
    lookup_field = "business_date"
    lookup_value_regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    filter_backends: list = []

    def get_queryset(self):
        post = staff_post_of(self.request.user)
        if post is None:
            return MarketDay.objects.none()
        return business_days_of(post.market)

    def get_serializer_class(self):
        return BusinessDayDetailSerializer if self.action == "retrieve" else BusinessDaySerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        with_reports(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        try:
            business_date = date.fromisoformat(kwargs[self.lookup_field])
        except ValueError:
            raise NotFound from None
        day = self.get_queryset().filter(business_date=business_date).first()
        if day is None:
            raise NotFound
        with_reports([day])
        day.statements = list(statements_of_day(day.market, business_date))
        day.drawers = drawers_of_day(market=day.market, business_date=business_date)
        return Response(self.get_serializer(day).data)


def register(router) -> None:
    """Add this area's viewsets to the API router."""
    router.register("market/days", BusinessDayViewSet, basename="market-day")
