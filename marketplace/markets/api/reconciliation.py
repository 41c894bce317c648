"""Reconciliation through the API, for the operators of a market: read only.

GET /api/market/reconciliation/?date=   the operator's market on one business day (today by
default): the trial balance of its book, its balances against their postings, the day's
trades against the day's settlement entries and reversals, and the findings.

Amounts are CNY as decimal strings, debit-positive where a sign matters (`balance`).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.choices import Role
from accounts.permissions import HasRole
from common.api.schema import OneObjectListSchema
from marketplace.markets.reconciliation import Reconciliation, reconcile
from settlement.findings import CHECK_BALANCES, CHECK_TRIAL_BALANCE

from ..models import Market
from ..services import market_of

CURRENCY = "CNY"


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=2, **kwargs)


class ReconciliationQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, help_text=_("Business day (Asia/Shanghai); today by default.")
    )


class AccountKindTotalSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    debits = _money()
    credits = _money()
    balance = _money()


class EntryKindTotalSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount = _money()


class TrialBalanceSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    book = serializers.CharField(source="book.code")
    debits = _money(source="book.debits")
    credits = _money(source="book.credits")
    lines = AccountKindTotalSerializer(source="book.lines", many=True)


class BalancesSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    slots = serializers.IntegerField(source="figures.slots")
    cached = _money(source="figures.cached")
    posted = _money(source="figures.posted")
    mismatched = serializers.IntegerField(source="figures.mismatched")


class CountComparisonSerializer(serializers.Serializer):
    trades = serializers.IntegerField()
    entries = serializers.IntegerField()
    matches = serializers.BooleanField()


class MoneyComparisonSerializer(serializers.Serializer):
    trades = _money()
    entries = _money()
    matches = serializers.BooleanField()


class TradesSerializer(serializers.Serializer):
    ok = serializers.BooleanField(source="trades_ok")
    count = CountComparisonSerializer()
    buyers_paid = MoneyComparisonSerializer()
    sellers_owed = MoneyComparisonSerializer()
    commission = MoneyComparisonSerializer()


class ReversalsSerializer(serializers.Serializer):
    ok = serializers.BooleanField(source="reversals_ok")
    trades = serializers.IntegerField(source="reversals.trades")
    entries = serializers.IntegerField(source="reversals.entries")


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    check = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    ids = serializers.ListField(child=serializers.IntegerField())


class MarketSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ReconciliationOutputSerializer(serializers.Serializer):
    market = MarketSerializer()
    business_date = serializers.DateField()
    ok = serializers.BooleanField()
    currency = serializers.CharField()
    trial_balance = TrialBalanceSerializer()
    balances = BalancesSerializer()
    trades = TradesSerializer()
    reversals = ReversalsSerializer()
    movements = EntryKindTotalSerializer(many=True)
    findings = FindingSerializer(many=True)


def _output(market: Market, result: Reconciliation) -> dict:
    book, day = result.books[0], result.days[0]
    return {
        "market": market,
        "business_date": result.business_date,
        "ok": result.ok,
        "currency": CURRENCY,
        "trial_balance": {"ok": result.passed(CHECK_TRIAL_BALANCE), "book": book},
        "balances": {"ok": result.passed(CHECK_BALANCES), "figures": result.balances},
        "trades": day,
        "reversals": day,
        "movements": book.movements,
        "findings": result.findings,
    }


class ReconciliationViewSet(viewsets.ViewSet):
    """The reconciliation of the operator's own market; 404 for a user who works for none."""

    schema = OneObjectListSchema()  # one reconciliation, not a list of them
    permission_classes = [HasRole.of(Role.MARKET_OPERATOR)]

    @extend_schema(
        parameters=[ReconciliationQuerySerializer], responses=ReconciliationOutputSerializer
    )
    def list(self, request):
        market = market_of(request.user)
        if market is None:
            raise NotFound(_("You do not work for a market."))
        query = ReconciliationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = reconcile(market=market, business_date=query.validated_data.get("date"))
        return Response(ReconciliationOutputSerializer(_output(market, result)).data)


def register(router) -> None:
    """Add this area's viewsets to the API router."""
    router.register(
        "market/reconciliation", ReconciliationViewSet, basename="market-reconciliation"
    )
