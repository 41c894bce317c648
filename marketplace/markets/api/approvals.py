"""Maker–checker through the API, under /api/market/: the requests waiting for a supervisor
(list, read, approve, decline) and the day's cash drawers (list, record a count).

Market operators only (others 403, anonymous 401), each within the market she works for: a
request of another market is not found (404). Approving and declining are for a supervisor
other than the operator who asked (403 otherwise); approving twice posts once.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.addresses import client_address
from common.dates import business_today

from .. import drawers, funding
from ..funding_models import FundingRequest, RequestStatus
from ..selectors.funding import drawers_of_day, market_requests
from .counter import MarketOperatorMixin
from .serializers_counter import (
    DeclineRequestInputSerializer,
    DrawerCountInputSerializer,
    DrawerLineOutputSerializer,
    DrawerListFilterSerializer,
    FundingRequestListFilterSerializer,
    FundingRequestOutputSerializer,
)


class FundingRequestViewSet(
    MarketOperatorMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Top-ups and withdrawals of the operator's market that need a supervisor: the queue
    (`status=pending`, the default, oldest first), decided ones, one request, its approval
    or its decline."""

    serializer_class = FundingRequestOutputSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema's dry run
            return FundingRequest.objects.none()
        requests = market_requests(market=self.market)
        if self.action == "list":
            params = FundingRequestListFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            wanted = params.validated_data["status"]
            requests = requests.filter(status=wanted)
            if wanted == RequestStatus.PENDING:
                requests = requests.order_by("requested_at", "id")  # the queue: oldest first
        return requests

    @extend_schema(parameters=[FundingRequestListFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=FundingRequestOutputSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Post the top-up or withdrawal to the ledger (a supervisor, not the requester)."""
        approved = funding.approve_funding_request(
            market=self.market,
            by=request.user,
            request_id=int(pk),
            address=client_address(request),
        )
        return self._render(approved.pk)

    @extend_schema(request=DeclineRequestInputSerializer, responses=FundingRequestOutputSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline with a reason; nothing is posted."""
        market = self.market
        params = DeclineRequestInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        declined = funding.decline_funding_request(
            market=market,
            by=request.user,
            request_id=int(pk),
            reason=params.validated_data["reason"],
        )
        return self._render(declined.pk)

    def _render(self, request_id: int) -> Response:
        decided = market_requests(market=self.market).get(pk=request_id)
        return Response(FundingRequestOutputSerializer(decided).data)


class DrawerCountViewSet(MarketOperatorMixin, viewsets.GenericViewSet):
    """The cash drawers of a business day (`date=`, today by default): each operator's
    expected cash from the ledger and her count, or none yet; record a count."""

    serializer_class = DrawerLineOutputSerializer
    pagination_class = None

    @extend_schema(
        parameters=[DrawerListFilterSerializer], responses=DrawerLineOutputSerializer(many=True)
    )
    def list(self, request):
        params = DrawerListFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        day = params.validated_data.get("date") or business_today()
        lines = drawers_of_day(market=self.market, business_date=day)
        return Response(DrawerLineOutputSerializer(lines, many=True).data)

    @extend_schema(
        request=DrawerCountInputSerializer,
        responses={201: DrawerLineOutputSerializer, 200: DrawerLineOutputSerializer},
    )
    def create(self, request):
        """Record the cash counted in a drawer (yours; a supervisor may record anyone's),
        once per operator and day: the same count again answers 200."""
        market = self.market
        params = DrawerCountInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        started = timezone.now()
        count = drawers.record_drawer_count(
            market=market,
            by=request.user,
            counted=data["counted"],
            operator_id=data.get("operator"),
            business_date=data.get("business_date"),
        )
        line = next(
            line
            for line in drawers_of_day(market=market, business_date=count.business_date)
            if line.operator.pk == count.operator_id
        )
        created = count.recorded_at >= started
        return Response(
            DrawerLineOutputSerializer(line).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


def register(router) -> None:
    """Add this area's viewsets to the API router."""
    router.register("market/requests", FundingRequestViewSet, basename="market-request")
    router.register("market/drawers", DrawerCountViewSet, basename="market-drawer")
