"""Card applications through the API, under /api/market/.

GET  /api/market/card-markets/                   markets that take applications (signed in)
GET  /api/market/my-card-applications/           her applications, newest first (buyers)
POST /api/market/my-card-applications/           apply to a market (buyers)
GET  /api/market/card-applications/              the operator's market's applications
GET  /api/market/card-applications/{id}/         one of them
POST /api/market/card-applications/{id}/approve/ issue a card: `card_number` from the stock
POST /api/market/card-applications/{id}/decline/ decline: `reason`, which the applicant reads

An applicant sees her own applications only; an operator sees her market's only: another
market's application is not found (404), and an operator who works for no market gets 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.addresses import client_address
from accounts.permissions import HasRole

from .. import cards
from ..card_models import TraderCardApplication
from ..choices import CardApplicationStatus
from ..models import Market
from ..selectors.cards import (
    applications_of,
    market_card_applications,
    markets_taking_applications,
)
from .counter import MarketOperatorMixin


class CardMarketOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Market
        fields = ["id", "code", "name", "city", "address"]


class CardApplicationInputSerializer(serializers.Serializer):
    market = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The id of a market that takes applications."
    )
    business_name = serializers.CharField(max_length=120)
    licence_number = serializers.CharField(
        max_length=40,
        help_text="The 18-character unified social credit code with its check character, or "
        "the 15-digit number of an older business licence.",
    )
    contact_name = serializers.CharField(max_length=60)
    contact_phone = serializers.CharField(max_length=20, help_text="A mainland China mobile.")


class CardApplicationOutputSerializer(serializers.ModelSerializer):
    market = serializers.IntegerField(source="market_id")
    market_name = serializers.CharField(source="market.name")
    status_label = serializers.CharField(source="get_status_display")
    trader = serializers.IntegerField(source="trader_id", allow_null=True)
    card_last4 = serializers.SerializerMethodField()

    class Meta:
        model = TraderCardApplication
        fields = [
            "id",
            "market",
            "market_name",
            "business_name",
            "licence_number",
            "contact_name",
            "contact_phone",
            "status",
            "status_label",
            "reason",
            "created_at",
            "reviewed_at",
            "trader",
            "card_last4",
        ]

    def get_card_last4(self, application: TraderCardApplication) -> str | None:
        return application.trader.card_number[-4:] if application.trader else None


class CardApplicationListFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CardApplicationStatus.choices, required=False)


class IssueCardInputSerializer(serializers.Serializer):
    card_number = serializers.CharField(
        max_length=19, help_text="8 to 19 digits, printed on the card handed over."
    )


class DeclineCardApplicationInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="The applicant reads it.")


class CardMarketViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The markets that take card applications."""

    permission_classes = [IsAuthenticated]
    serializer_class = CardMarketOutputSerializer
    filter_backends: list = []

    def get_queryset(self):
        return markets_taking_applications()


class MyCardApplicationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """A restaurant's or a shop's applications for a buyer's card, and a new one."""

    permission_classes = [IsAuthenticated, HasRole.of(*cards.APPLYING_ROLES)]
    serializer_class = CardApplicationOutputSerializer
    filter_backends: list = []
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return TraderCardApplication.objects.none()
        return applications_of(self.request.user)

    @extend_schema(
        request=CardApplicationInputSerializer, responses={201: CardApplicationOutputSerializer}
    )
    def create(self, request):
        """Apply to a market: one pending application per market, none where she already
        holds a buyer's card (field errors on `market`)."""
        params = CardApplicationInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        application = cards.apply_for_card(
            applicant=request.user,
            market_id=data["market"],
            business_name=data["business_name"],
            licence_number=data["licence_number"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
        )
        return Response(
            CardApplicationOutputSerializer(application).data, status=status.HTTP_201_CREATED
        )


class CardApplicationViewSet(
    MarketOperatorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The applications to the operator's market: those waiting first, oldest first
    (`status=` for one state); issue a card or decline."""

    serializer_class = CardApplicationOutputSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return TraderCardApplication.objects.none()
        status_filter = None
        if self.action == "list":
            params = CardApplicationListFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            status_filter = params.validated_data.get("status")
        return market_card_applications(market=self.market, status=status_filter)

    @extend_schema(parameters=[CardApplicationListFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=IssueCardInputSerializer, responses=CardApplicationOutputSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Issue a buyer's card: the trader is registered, linked to the applicant's account;
        she is told in the app and by SMS. 409 when the application is already decided."""
        application = self.get_object()
        params = IssueCardInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        decided = cards.approve_card_application(
            market=self.market,
            by=request.user,
            application_id=application.pk,
            card_number=params.validated_data["card_number"],
            address=client_address(request),
        )
        return Response(CardApplicationOutputSerializer(decided).data)

    @extend_schema(
        request=DeclineCardApplicationInputSerializer, responses=CardApplicationOutputSerializer
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline with a reason the applicant reads. 409 when already decided."""
        application = self.get_object()
        params = DeclineCardApplicationInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        decided = cards.decline_card_application(
            market=self.market,
            by=request.user,
            application_id=application.pk,
            reason=params.validated_data["reason"],
            address=client_address(request),
        )
        return Response(CardApplicationOutputSerializer(decided).data)


def register(router) -> None:
    """Add this area's viewsets to the API router."""
    router.register("market/card-markets", CardMarketViewSet, basename="market-card-market")
    router.register(
        "market/my-card-applications",
        MyCardApplicationViewSet,
        basename="market-my-card-application",
    )
    router.register(
        "market/card-applications", CardApplicationViewSet, basename="market-card-application"
    )
