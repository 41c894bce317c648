"""A trader's own accounts through the API: her cards with their balances, her statements.

GET /api/market/me/              her traders at every market, each with its balance
GET /api/market/me/statements/   her statements, newest first, with links to the PDF and CSV

Only her own: a user sees the traders linked to her account and nothing else.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.api.schema import DECIMAL_STRING
from settlement.selectors import balance_of

from ..models import Statement, Trader
from ..selectors.trader import own_statements, traders_of
from ..services import settlement_account


class MyTraderSerializer(serializers.ModelSerializer):
    market = serializers.CharField(source="market.code")
    market_name = serializers.CharField(source="market.name")
    kind_label = serializers.CharField(source="get_kind_display")
    card_last4 = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Trader
        fields = [
            "id",
            "market",
            "market_name",
            "kind",
            "kind_label",
            "name",
            "card_last4",
            "is_active",
            "balance",
            "currency",
        ]

    def get_card_last4(self, trader: Trader) -> str:
        return trader.card_number[-4:]

    @extend_schema_field(DECIMAL_STRING)
    def get_balance(self, trader: Trader) -> str:
        """A buyer's money on her card; for a seller what the market owes her."""
        return str(balance_of(settlement_account(trader)).amount)

    def get_currency(self, trader: Trader) -> str:
        return "CNY"


class MyStatementSerializer(serializers.ModelSerializer):
    trader = serializers.IntegerField(source="trader_id")
    market = serializers.CharField(source="trader.market.code")
    opening_balance = serializers.SerializerMethodField()
    closing_balance = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()
    volume_kg = serializers.DecimalField(max_digits=14, decimal_places=3)
    pdf_url = serializers.SerializerMethodField()
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = [
            "id",
            "trader",
            "market",
            "business_date",
            "opening_balance",
            "closing_balance",
            "currency",
            "trade_count",
            "volume_kg",
            "pdf_url",
            "csv_url",
        ]

    @extend_schema_field(DECIMAL_STRING)
    def get_opening_balance(self, statement: Statement) -> str:
        return str(statement.opening_balance.amount)

    @extend_schema_field(DECIMAL_STRING)
    def get_closing_balance(self, statement: Statement) -> str:
        return str(statement.closing_balance.amount)

    def get_currency(self, statement: Statement) -> str:
        return str(statement.closing_balance.currency)

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, statement: Statement) -> str:
        return self._absolute(reverse("markets:statement_pdf", args=[statement.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_csv_url(self, statement: Statement) -> str:
        return self._absolute(reverse("markets:statement_csv", args=[statement.pk]))

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class MyTraderViewSet(viewsets.ViewSet):
    """Her traders at the markets, each with its card's balance (or what she is owed)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MyTraderSerializer(many=True))
    def list(self, request):
        traders = traders_of(request.user)
        return Response(MyTraderSerializer(traders, many=True).data)


class MyStatementViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Her settlement statements, newest first; `trader=<id>` for one card's."""

    permission_classes = [IsAuthenticated]
    serializer_class = MyStatementSerializer
    filter_backends = []

    def get_queryset(self):
        statements = own_statements(self.request.user)
        if trader := self.request.query_params.get("trader"):
            if not trader.isdigit():
                return statements.none()
            statements = statements.filter(trader_id=trader)
        return statements


def register(router) -> None:
    """Add this area's viewsets to the API router."""
    router.register("market/me/statements", MyStatementViewSet, basename="market-my-statement")
    router.register("market/me", MyTraderViewSet, basename="market-me")
