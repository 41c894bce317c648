"""The operator's counter through the API, under /api/market/: trades (record, list by day,
read, reverse), card top-ups and withdrawals, traders.

A cash top-up above the market's threshold, and every withdrawal, answers 202 with the
request that now waits for a supervisor (api/approvals.py decides it); the card's balance
changes only when it is approved.

Market operators only (others 403, anonymous 401); an operator sees only the market she
works for (`market_of`): another market's trades and traders are not found (404), and an
operator who works for no market gets 404 everywhere. Writes carry an `Idempotency-Key`
header: the first call answers 201, a retry with the same key and content 200 with the
first result, the same key with other content 409.
"""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from moneyed import Money
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.addresses import client_address
from accounts.choices import Role
from accounts.models import User
from accounts.permissions import HasRole, get_visible_or_404
from accounts.phone import normalize_phone
from common.dates import business_today
from settlement.funding import clean_amount
from settlement.models import JournalEntry

from .. import funding
from .. import services as markets
from .. import trades as counter_trades
from ..funding_models import FundingRequest
from ..models import Market, Trade, Trader
from ..selectors.counter import (
    card_balance,
    lot_by_code,
    market_trader_by_card,
    market_trades,
    traders_with_balances,
)
from .serializers_counter import (
    CardPaymentInputSerializer,
    CardPaymentOutputSerializer,
    FundingRequestOutputSerializer,
    ReverseTradeInputSerializer,
    TradeInputSerializer,
    TradeListFilterSerializer,
    TradeOutputSerializer,
    TraderActivationInputSerializer,
    TraderInputSerializer,
    TraderListFilterSerializer,
    TraderOutputSerializer,
)

MAX_KEY = 64
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Made once per operation by the client: a retry with it records nothing more "
    "and answers 200 with the first result.",
)


class MarketOperatorMixin:
    """Operators of a market only; `self.market` is the one the operator works for."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.MARKET_OPERATOR)]
    filter_backends: list = []

    @property
    def market(self) -> Market:
        if not hasattr(self, "_market"):
            self._market = markets.market_of(self.request.user)
        if self._market is None:
            raise NotFound(_("You do not work for a market."))
        return self._market

    def idempotency_key(self) -> str:
        key = self.request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise serializers.ValidationError(
                {"idempotency_key": [_("Send an Idempotency-Key header, made once per operation.")]}
            )
        if len(key) > MAX_KEY:
            raise serializers.ValidationError(
                {"idempotency_key": [_("Use at most 64 characters.")]}
            )
        return key


def _created_now(moment, started) -> int:
    """201 when the service wrote the record during this call, 200 when it returned the one
    an earlier call with the same key wrote: each record is stamped when it is written."""
    return status.HTTP_201_CREATED if moment >= started else status.HTTP_200_OK


# --- Trades --------------------------------------------------------------------------------


class TradeViewSet(
    MarketOperatorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Trades of the operator's market: a day's list (`date=`, today by default), one trade,
    recording one, a supervisor's reversal."""

    serializer_class = TradeOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return Trade.objects.none()
        trades = market_trades(market=self.market)
        if self.action == "list":
            params = TradeListFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            trades = trades.filter(
                business_date=params.validated_data.get("date") or business_today()
            )
        return trades

    @extend_schema(parameters=[TradeListFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=TradeInputSerializer,
        responses={201: TradeOutputSerializer, 200: TradeOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        """Record a weighed trade and settle it: the buyer's card pays the amount and her
        commission, the seller is owed the amount less his."""
        market = self.market  # 404 first for an operator of no market
        key = self.idempotency_key()
        params = TradeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        lot = None
        if code := data.get("lot", "").strip():
            lot = lot_by_code(code)
            if lot is None:
                raise serializers.ValidationError({"lot": [_("No harvest lot has this code.")]})
        started = timezone.now()
        trade = counter_trades.settle_trade(
            market=market,
            by=request.user,
            buyer_card=data["buyer_card"],
            seller_card=data["seller_card"],
            product=data["product"].strip(),
            gross_kg=data["gross_kg"],
            tare_kg=data["tare_kg"] or "0",
            unit_price=data["unit_price"],
            idempotency_key=key,
            lot=lot,
        )
        return self._render(trade.pk, status_code=_created_now(trade.recorded_at, started))

    @extend_schema(request=ReverseTradeInputSerializer, responses=TradeOutputSerializer)
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """A supervisor reverses a mistaken trade, with a reason (403 for other operators)."""
        trade = get_visible_or_404(market_trades(market=self.market), pk=pk)
        params = ReverseTradeInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()[:MAX_KEY] or f"trade-{trade.pk}"
        counter_trades.reverse_trade(
            trade_id=trade.pk,
            by=request.user,
            reason=params.validated_data["reason"],
            idempotency_key=key,
            address=client_address(request),
        )
        return self._render(trade.pk)

    def _render(self, trade_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        trade = market_trades(market=self.market).get(pk=trade_id)
        return Response(TradeOutputSerializer(trade).data, status=status_code)


# --- Cards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardPayment:
    entry: JournalEntry
    trader: Trader
    amount: Money
    method: str
    balance: Money


class CardPaymentViewSet(MarketOperatorMixin, viewsets.GenericViewSet):
    """POST only: money paid onto a buyer's card, or paid back from it. 202 with the request
    when it waits for a supervisor's approval."""

    serializer_class = CardPaymentOutputSerializer
    service = staticmethod(funding.top_up_card)

    @extend_schema(
        request=CardPaymentInputSerializer,
        responses={
            201: CardPaymentOutputSerializer,
            200: CardPaymentOutputSerializer,
            202: FundingRequestOutputSerializer,
        },
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        market = self.market  # 404 first for an operator of no market
        key = self.idempotency_key()
        params = CardPaymentInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        started = timezone.now()
        entry = self.service(
            market=market,
            by=request.user,
            card_number=data["card_number"],
            amount=data["amount"],
            method=data["method"],
            idempotency_key=key,
        )
        if isinstance(entry, FundingRequest):
            return Response(
                FundingRequestOutputSerializer(entry).data, status=status.HTTP_202_ACCEPTED
            )
        trader = market_trader_by_card(market=market, card_number=data["card_number"])
        payment = CardPayment(
            entry=entry,
            trader=trader,
            amount=Money(clean_amount(data["amount"]), "CNY"),
            method=data["method"],
            balance=card_balance(trader),
        )
        return Response(
            CardPaymentOutputSerializer(payment).data,
            status=_created_now(entry.created_at, started),
        )


class TopUpViewSet(CardPaymentViewSet):
    """Record cash or a bank transfer paid onto a buyer's card."""


class WithdrawalViewSet(CardPaymentViewSet):
    """Ask to pay a buyer back (part of) her card balance, never more than it holds: 202
    with the request, which a supervisor other than you approves or declines."""

    service = staticmethod(funding.withdraw_from_card)

    @extend_schema(
        request=CardPaymentInputSerializer,
        responses={202: FundingRequestOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        return super().create(request)


# --- Traders -------------------------------------------------------------------------------


class TraderViewSet(
    MarketOperatorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The market's traders with their balances (`kind=buyer|seller`); register one; suspend
    or reactivate a card."""

    serializer_class = TraderOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return Trader.objects.none()
        traders = traders_with_balances(market=self.market)
        if self.action == "list":
            params = TraderListFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            if kind := params.validated_data.get("kind"):
                traders = traders.filter(kind=kind)
        return traders

    @extend_schema(parameters=[TraderListFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=TraderInputSerializer, responses={201: TraderOutputSerializer})
    def create(self, request):
        market = self.market  # 404 first for an operator of no market
        params = TraderInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        user = None
        if raw := data["user_phone"].strip():
            phone = normalize_phone(raw)
            user = User.objects.filter(phone=phone, is_active=True).first() if phone else None
            if user is None:
                raise serializers.ValidationError(
                    {"user_phone": [_("No FreshChain user has this mobile number.")]}
                )
        trader = markets.register_trader(
            market=market,
            kind=data["kind"],
            name=data["name"].strip(),
            card_number=data["card_number"].strip(),
            phone=data["phone"].strip(),
            user=user,
            registered_by=request.user,
            address=client_address(request),
        )
        return self._render(trader.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=TraderActivationInputSerializer, responses=TraderOutputSerializer)
    @action(detail=True, methods=["post"])
    def activation(self, request, pk=None):
        """`is_active: false` suspends the trader's card; `true` lifts the suspension."""
        trader = get_visible_or_404(self.get_queryset(), pk=pk)
        params = TraderActivationInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        markets.set_trader_active(
            market=self.market,
            by=request.user,
            trader_id=trader.pk,
            is_active=params.validated_data["is_active"],
            address=client_address(request),
        )
        return self._render(trader.pk)

    def _render(self, trader_id: int, *, status_code: int = status.HTTP_200_OK) -> Response:
        trader = traders_with_balances(market=self.market).get(pk=trader_id)
        return Response(TraderOutputSerializer(trader).data, status=status_code)


def register(router) -> None:
    """Add this area's viewsets to the API router."""
    router.register("market/trades", TradeViewSet, basename="market-trade")
    router.register("market/top-ups", TopUpViewSet, basename="market-top-up")
    router.register("market/withdrawals", WithdrawalViewSet, basename="market-withdrawal")
    router.register("market/traders", TraderViewSet, basename="market-trader")
