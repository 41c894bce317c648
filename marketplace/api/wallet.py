"""The signed-in user's platform wallet through the API: what she can spend, what is held.

GET /api/wallet/   available and held money, and the open holds (one per placed order)

Only her own wallet; reading it opens no account.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from common.api.schema import OneObjectListSchema

from ..selectors.wallet import open_holds_of, wallet_figures
from .serializers_orders import MoneyAmountField


class OpenHoldSerializer(serializers.Serializer):
    reference = serializers.CharField()
    order = serializers.SerializerMethodField()
    amount = MoneyAmountField()
    held_since = serializers.DateTimeField(source="created_at")

    def get_order(self, hold) -> int | None:
        """The marketplace order the money is held for."""
        kind, _, key = hold.reference.partition(":")
        return int(key) if kind == "order" and key.isdigit() else None


class WalletSerializer(serializers.Serializer):
    available = MoneyAmountField(help_text="What a new order can hold.")
    held = MoneyAmountField(help_text="Set aside for placed orders until hand-over.")
    currency = serializers.CharField()
    open_holds = OpenHoldSerializer(many=True)


class WalletViewSet(viewsets.ViewSet):
    """The user's own platform wallet."""

    permission_classes = [IsAuthenticated]
    schema = OneObjectListSchema()  # one wallet, not a list of them

    @extend_schema(responses=WalletSerializer)
    def list(self, request):
        figures = wallet_figures(request.user)
        body = {
            "available": figures.available,
            "held": figures.held,
            "currency": "CNY",
            "open_holds": list(open_holds_of(request.user)),
        }
        return Response(WalletSerializer(body).data)


def register(router) -> None:
    router.register("wallet", WalletViewSet, basename="wallet")
