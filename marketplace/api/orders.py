"""Orders through the API: place, list and read, and one POST per step of an order.

Who may see an order is the selector's business (others get 404); who may take a step is
the service's (the other side gets 403, a step the state does not allow 409).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404

from ..selectors.orders import orders_visible_to
from ..services import orders as order_services
from ..services.callbacks import ask_buyer_to_call_back
from .serializers_orders import (
    OrderCallbackOutputSerializer,
    OrderConfirmWeightsInputSerializer,
    OrderHandOverInputSerializer,
    OrderListFilterSerializer,
    OrderOutputSerializer,
    OrderPlaceInputSerializer,
    OrderReasonInputSerializer,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key returns the first order and reserves nothing more.",
)


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders the user may see: a buyer his own, a farmer those she received, a co-operative
    manager her members', an admin all. `status=` (repeatable) and `side=buying|selling`
    narrow the list."""

    serializer_class = OrderOutputSerializer
    filter_backends = []

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), HasRole.of(Role.BUYER)()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if self.action != "list":
            return orders_visible_to(self.request.user)
        params = OrderListFilterSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        orders = orders_visible_to(self.request.user, side=params.validated_data.get("side"))
        if statuses := params.validated_data.get("status"):
            orders = orders.filter(status__in=statuses)
        return orders

    @extend_schema(parameters=[OrderListFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=OrderPlaceInputSerializer,
        responses={201: OrderOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def create(self, request):
        """Place an order on listings of one seller; the quantity is reserved at once."""
        params = OrderPlaceInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        key = request.headers.get("Idempotency-Key") or data.get("idempotency_key", "")
        if len(key) > 64:
            raise serializers.ValidationError({"idempotency_key": ["Use at most 64 characters."]})
        order = order_services.place_order(
            buyer=request.user,
            lines=[(line["listing_id"], line["quantity_kg"]) for line in data["lines"]],
            weight_tolerance_pct=data["weight_tolerance_pct"],
            buyer_note=data.get("buyer_note", ""),
            idempotency_key=key,
        )
        return self._render(order, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OrderOutputSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The seller (or her co-operative's manager) accepts a placed order."""
        return self._step(order_services.accept_order)

    @extend_schema(request=OrderReasonInputSerializer, responses=OrderOutputSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """The seller side declines a placed order; its quantity goes back on sale."""
        return self._step(order_services.reject_order, **self._reason())

    @extend_schema(request=OrderReasonInputSerializer, responses=OrderOutputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """The buyer cancels while the order is still placed; its quantity is released."""
        return self._step(order_services.cancel_order, **self._reason())

    @extend_schema(request=None, responses=OrderOutputSerializer)
    @action(detail=True, methods=["post"])
    def ready(self, request, pk=None):
        """The seller side has the order ready for pickup."""
        return self._step(order_services.mark_ready)

    @extend_schema(request=OrderHandOverInputSerializer, responses=OrderOutputSerializer)
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        """The seller side enters each line's packed weight; the order is re-priced to it."""
        params = OrderHandOverInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._step(order_services.hand_over, packed_kg=params.validated_data["packed_kg"])

    @extend_schema(request=OrderConfirmWeightsInputSerializer, responses=OrderOutputSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-weights")
    def confirm_weights(self, request, pk=None):
        """The buyer accepts the packed weights beyond his tolerance, or sends them back."""
        params = OrderConfirmWeightsInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        return self._step(order_services.confirm_weights, accept=params.validated_data["accept"])

    @extend_schema(request=None, responses=OrderOutputSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """The buyer confirms he received the order."""
        return self._step(order_services.complete_order)

    @extend_schema(
        request=None,
        responses={201: OrderCallbackOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def callback(self, request, pk=None):
        """The seller side asks the buyer to call back: the buyer is notified with the
        asker's number (the buyer's is shown to sellers only masked). Once per order in 10
        minutes (409 with the wait on `callback`)."""
        order = get_visible_or_404(orders_visible_to(self.request.user), pk=self.kwargs["pk"])
        callback = ask_buyer_to_call_back(by=request.user, order_id=order.pk)
        return Response(
            OrderCallbackOutputSerializer(callback).data, status=status.HTTP_201_CREATED
        )

    def _reason(self) -> dict:
        params = OrderReasonInputSerializer(data=self.request.data)
        params.is_valid(raise_exception=True)
        return {"reason": params.validated_data.get("reason", "")}

    def _step(self, service, **kwargs) -> Response:
        # 404 for an order out of the user's sight, before the service is asked.
        order = get_visible_or_404(orders_visible_to(self.request.user), pk=self.kwargs["pk"])
        order = service(by=self.request.user, order_id=order.pk, **kwargs)
        return self._render(order)

    def _render(self, order, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = orders_visible_to(self.request.user).get(pk=order.pk)
        return Response(OrderOutputSerializer(fresh).data, status=status_code)
