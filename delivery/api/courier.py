"""The courier's API, under /api/delivery/courier/: his shift, his phone's positions, the offer
waiting for his answer, his tasks (pick up, deliver with the code or a photo) and his day.

Couriers only (the courier role and a courier row; anyone else 403). Another courier's task,
order or offer is not found (404) and nothing changes. Refusals of the rules come from the
services (400 with the field at fault; 409 for a step the state does not allow). The delivery
code is never sent to a courier: the consumer tells it at the door.
"""

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404
from common.api.fields import RequiredBooleanField
from common.photos import upload_body_limit
from common.request_limits import request_body_limit

from ..models import CourierStatus
from ..selectors.couriers import (
    courier_day,
    courier_of,
    courier_offers,
    courier_orders,
    courier_tasks,
    pending_offer,
    task_route,
)
from ..selectors.history import Reader
from ..services import couriers as courier_services
from ..services import offers
from ..services.callbacks import ask_consumer_to_call_back
from .history import DeliveryHistoryStepOutputSerializer

# --- Shapes -----------------------------------------------------------------------------------


class ShiftInputSerializer(serializers.Serializer):
    on_shift = RequiredBooleanField()


class ShiftOutputSerializer(serializers.Serializer):
    on_shift = serializers.BooleanField(source="is_on_shift")
    shift_started_at = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(
        choices=CourierStatus.choices,
        help_text="Only an active courier goes on shift (else 409) and is offered tasks.",
    )


class NumberField(serializers.FloatField):
    """A JSON number: true and false are not (DRF's FloatField reads them as 1 and 0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class PositionInputSerializer(serializers.Serializer):
    """WGS 84 degrees (convert GCJ-02 from a Chinese map SDK first); `at` defaults to the
    server's clock (a phone sending fixes it kept offline gives the time each was taken);
    `accuracy_m` is the phone's estimate, in metres."""

    longitude = NumberField()
    latitude = NumberField()
    at = serializers.DateTimeField(required=False)
    accuracy_m = NumberField(required=False, allow_null=True)


class PositionOutputSerializer(serializers.Serializer):
    recorded = serializers.BooleanField(source="is_recorded")
    reason = serializers.CharField(
        help_text=(
            "Why a fix was dropped: too_soon (throttled), older (taken before the last one "
            "recorded: a late fix never moves the courier back) or off_shift; empty if recorded."
        )
    )
    longitude = serializers.SerializerMethodField()
    latitude = serializers.SerializerMethodField()
    position_at = serializers.DateTimeField(source="courier.position_at", allow_null=True)

    def get_longitude(self, outcome) -> float | None:
        position = outcome.courier.position
        return position.x if position else None

    def get_latitude(self, outcome) -> float | None:
        position = outcome.courier.position
        return position.y if position else None


class WarehouseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    longitude = serializers.SerializerMethodField()
    latitude = serializers.SerializerMethodField()

    def get_longitude(self, warehouse) -> float:
        return warehouse.site.location.x

    def get_latitude(self, warehouse) -> float:
        return warehouse.site.location.y


class OfferOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    status = serializers.CharField()
    offered_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    seconds_left = serializers.SerializerMethodField()
    distance_m = serializers.FloatField(help_text="From the courier to the warehouse, in metres.")
    order_count = serializers.IntegerField()
    warehouse = WarehouseOutputSerializer(source="task.warehouse")

    def get_seconds_left(self, offer) -> int:
        return max(0, int((offer.expires_at - timezone.now()).total_seconds()))


class OfferAnsweredOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task_id = serializers.IntegerField()
    status = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)


class DropOffOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="order.pk")
    number = serializers.CharField(source="order.number")
    address = serializers.CharField(
        allow_null=True,
        help_text="Null (with the door's position) a day after the order was delivered.",
    )
    longitude = serializers.FloatField(allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    status = serializers.CharField(source="order.status")
    promised_by = serializers.DateTimeField(source="order.promised_by")
    delivered_at = serializers.DateTimeField(source="order.delivered_at", allow_null=True)
    being_packed = serializers.BooleanField(
        source="is_being_packed",
        help_text="The courier was asked while the order was being packed: it is not ready yet.",
    )
    tries_left = serializers.IntegerField(help_text="Wrong delivery codes still allowed.")
    code_locked = serializers.BooleanField(
        source="is_code_locked", help_text="Only a photo delivers the order now."
    )
    consumer_phone = serializers.CharField(
        help_text="The consumer's number masked (138****0001); empty once the door is no "
        "longer shown. Reach her with POST …/orders/{id}/callback/."
    )


class TaskRouteOutputSerializer(serializers.Serializer):
    """A task as steps: pick up at the warehouse, then each order's door."""

    id = serializers.IntegerField(source="task.pk")
    status = serializers.CharField(source="task.status")
    accepted_at = serializers.DateTimeField(source="task.accepted_at", allow_null=True)
    picked_up_at = serializers.DateTimeField(source="task.picked_up_at", allow_null=True)
    completed_at = serializers.DateTimeField(source="task.completed_at", allow_null=True)
    earnings = serializers.DecimalField(
        source="task.earnings.amount", max_digits=14, decimal_places=2
    )
    currency = serializers.CharField(source="task.earnings.currency.code")
    warehouse = WarehouseOutputSerializer(source="pickup.warehouse")
    picked_up = serializers.BooleanField(source="pickup.is_done")
    can_pick_up = serializers.BooleanField(
        help_text="Assigned and every order packed: POST …/pick-up/ is allowed now. False while "
        "an order is still being packed (the task is pushed again when it is)."
    )
    orders = DropOffOutputSerializer(source="drop_offs", many=True)
    events = DeliveryHistoryStepOutputSerializer(source="history", many=True)


class TaskSummaryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    warehouse = serializers.CharField(source="warehouse.name")
    order_count = serializers.IntegerField()
    delivered_count = serializers.IntegerField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    earnings = serializers.DecimalField(source="earnings.amount", max_digits=14, decimal_places=2)


class DayOutputSerializer(serializers.Serializer):
    date = serializers.DateField(source="day")
    task_count = serializers.IntegerField()
    done_count = serializers.IntegerField()
    delivered_count = serializers.IntegerField()
    earnings = serializers.DecimalField(source="earnings.amount", max_digits=14, decimal_places=2)
    currency = serializers.CharField(source="earnings.currency.code")
    tasks = TaskSummaryOutputSerializer(many=True)


class DeliverInputSerializer(serializers.Serializer):
    """The consumer's 4-digit code, or (multipart) a photo of the order left at the door."""

    code = serializers.CharField(required=False, allow_blank=True, max_length=16)
    photo = serializers.FileField(required=False, allow_empty_file=True)


class DeliveredOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    has_photo = serializers.SerializerMethodField()
    task_id = serializers.IntegerField()
    task_status = serializers.CharField(source="task.status")
    task_earnings = serializers.DecimalField(
        source="task.earnings.amount", max_digits=14, decimal_places=2
    )

    def get_has_photo(self, order) -> bool:
        return bool(order.proof_photo)


# --- Views ------------------------------------------------------------------------------------


class _CourierApi(APIView):
    """Couriers only; `self.courier` is the signed-in courier's row."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.COURIER)]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.courier = courier_of(request.user)
        if self.courier is None:
            raise PermissionDenied(_("You are not registered as a courier."))

    def route(self, task):
        """One of his tasks as steps, with its history as he may see it."""
        return task_route(task, reader=Reader(user_id=self.courier.user_id, is_courier=True))


class ShiftApi(_CourierApi):
    @extend_schema(request=ShiftInputSerializer, responses=ShiftOutputSerializer)
    def post(self, request):
        """Go on shift (offers may come; refused, 409, unless the warehouse has activated
        him) or off it (refused, 409, while a task is open; an offer waiting for an answer is
        declined)."""
        params = ShiftInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        if params.validated_data["on_shift"]:
            courier = courier_services.start_shift(courier=self.courier)
        else:
            courier = courier_services.end_shift(courier=self.courier)
        return Response(ShiftOutputSerializer(courier).data)


class PositionApi(_CourierApi):
    @extend_schema(request=PositionInputSerializer, responses=PositionOutputSerializer)
    def post(self, request):
        """A fix from the phone. A fix too soon after the last one, or off shift, is dropped
        (200, recorded false); an impossible one is refused (400, field "position")."""
        params = PositionInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        outcome = courier_services.record_position(courier=self.courier, **params.validated_data)
        return Response(PositionOutputSerializer(outcome).data)


class OfferListApi(_CourierApi):
    @extend_schema(responses=OfferOutputSerializer(many=True))
    def get(self, request):
        """The offer waiting for my answer (a list of one, or empty)."""
        offer = pending_offer(self.courier)
        return Response(OfferOutputSerializer([offer] if offer else [], many=True).data)


class OfferAcceptApi(_CourierApi):
    @extend_schema(request=None, responses=TaskRouteOutputSerializer)
    def post(self, request, pk: int):
        """Accept my offer: the task is mine (refused when it ran out or was withdrawn)."""
        offer = get_visible_or_404(courier_offers(self.courier), pk=pk)
        task = offers.accept_offer(courier=self.courier, offer_id=offer.pk)
        task = courier_tasks(self.courier).get(pk=task.pk)
        return Response(TaskRouteOutputSerializer(self.route(task)).data)


class OfferDeclineApi(_CourierApi):
    @extend_schema(request=None, responses=OfferAnsweredOutputSerializer)
    def post(self, request, pk: int):
        """Decline my offer: dispatch offers the task to the next courier."""
        offer = get_visible_or_404(courier_offers(self.courier), pk=pk)
        offers.decline_offer(courier=self.courier, offer_id=offer.pk)
        offer.refresh_from_db()
        return Response(OfferAnsweredOutputSerializer(offer).data)


class TaskListApi(_CourierApi):
    @extend_schema(responses=TaskSummaryOutputSerializer(many=True))
    def get(self, request):
        """Today's tasks (Asia/Shanghai), open ones included, newest first."""
        day = courier_day(self.courier)
        return Response(TaskSummaryOutputSerializer(day.tasks, many=True).data)


class TaskDetailApi(_CourierApi):
    @extend_schema(responses=TaskRouteOutputSerializer)
    def get(self, request, pk: int):
        """One of my tasks as steps: the warehouse, then each order's door."""
        task = get_visible_or_404(courier_tasks(self.courier), pk=pk)
        return Response(TaskRouteOutputSerializer(self.route(task)).data)


class TaskPickUpApi(_CourierApi):
    @extend_schema(request=None, responses=TaskRouteOutputSerializer)
    def post(self, request, pk: int):
        """I have the task's orders in hand: the task and its orders are picked up."""
        task = get_visible_or_404(courier_tasks(self.courier), pk=pk)
        courier_services.pick_up(courier=self.courier, task_id=task.pk)
        task = courier_tasks(self.courier).get(pk=task.pk)
        return Response(TaskRouteOutputSerializer(self.route(task)).data)


@request_body_limit(upload_body_limit)  # a photo of the order at the door
class OrderDeliverApi(_CourierApi):
    @extend_schema(
        request={
            "application/json": DeliverInputSerializer,
            "multipart/form-data": DeliverInputSerializer,
        },
        responses=DeliveredOutputSerializer,
    )
    def post(self, request, pk: int):
        """Deliver my picked-up order with the consumer's code (a wrong one counts; after too
        many only a photo works), or with a photo when the consumer is absent."""
        order = get_visible_or_404(courier_orders(self.courier), pk=pk)
        params = DeliverInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        photo = params.validated_data.get("photo")
        if photo is not None:
            order = courier_services.deliver_with_photo(
                courier=self.courier, order_id=order.pk, photo=photo
            )
        elif params.validated_data.get("code"):
            order = courier_services.deliver_with_code(
                courier=self.courier, order_id=order.pk, code=params.validated_data["code"]
            )
        else:
            raise serializers.ValidationError(
                {"code": [_("Enter the consumer's 4-digit code, or send a photo.")]}
            )
        order = courier_orders(self.courier).select_related("task").get(pk=order.pk)
        return Response(DeliveredOutputSerializer(order).data, status=status.HTTP_200_OK)


class CallbackOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    about = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderCallbackApi(_CourierApi):
    @extend_schema(request=None, responses={201: CallbackOutputSerializer})
    def post(self, request, pk: int):
        """Ask the consumer of my order to call me back: she is notified with my number (hers
        is never shown to me). Once per order in 10 minutes (409 with the wait on
        `callback`)."""
        order = get_visible_or_404(courier_orders(self.courier), pk=pk)
        callback = ask_consumer_to_call_back(courier=self.courier, order_id=order.pk)
        return Response(CallbackOutputSerializer(callback).data, status=status.HTTP_201_CREATED)


class DayApi(_CourierApi):
    @extend_schema(responses=DayOutputSerializer)
    def get(self, request):
        """Today (Asia/Shanghai): tasks, delivered orders and earnings."""
        return Response(DayOutputSerializer(courier_day(self.courier)).data)


urlpatterns = [
    path("courier/shift/", ShiftApi.as_view(), name="delivery-courier-shift"),
    path("courier/positions/", PositionApi.as_view(), name="delivery-courier-positions"),
    path("courier/offers/", OfferListApi.as_view(), name="delivery-courier-offers"),
    path(
        "courier/offers/<int:pk>/accept/",
        OfferAcceptApi.as_view(),
        name="delivery-courier-offer-accept",
    ),
    path(
        "courier/offers/<int:pk>/decline/",
        OfferDeclineApi.as_view(),
        name="delivery-courier-offer-decline",
    ),
    path("courier/tasks/", TaskListApi.as_view(), name="delivery-courier-tasks"),
    path("courier/tasks/<int:pk>/", TaskDetailApi.as_view(), name="delivery-courier-task"),
    path(
        "courier/tasks/<int:pk>/pick-up/",
        TaskPickUpApi.as_view(),
        name="delivery-courier-task-pick-up",
    ),
    path(
        "courier/orders/<int:pk>/deliver/",
        OrderDeliverApi.as_view(),
        name="delivery-courier-order-deliver",
    ),
    path(
        "courier/orders/<int:pk>/callback/",
        OrderCallbackApi.as_view(),
        name="delivery-courier-order-callback",
    ),
    path("courier/day/", DayApi.as_view(), name="delivery-courier-day"),
]
