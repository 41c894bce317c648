"""Couriers joining a warehouse, by API.

The manager's side, under /api/delivery/warehouse/: invite a phone number (an SMS with a
link), list, send again (at most once a minute) or cancel pending invitations, list the
warehouse's couriers (waiting for activation, active, deactivated) and activate or deactivate
one. Warehouse managers only (others 403, anonymous 401), on their own warehouse; another
warehouse's invitation or courier is not found (404); a platform admin picks a warehouse with
`?warehouse=<id>`.

The courier's side: POST /api/delivery/courier/join/ with the secret of his SMS link, his
vehicle and the orders he carries at once; any signed-in account holding the invited number
(others 403).
"""

from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import client_address
from accounts.permissions import get_visible_or_404

from ..models import CourierInvitationStatus, CourierStatus, VehicleType
from ..selectors import onboarding as selectors
from ..services import onboarding as services
from .warehouse import WAREHOUSE_PARAMETER, WarehouseApi

# --- Shapes ---------------------------------------------------------------------------------


class CourierInvitationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField(source="masked_phone", help_text="Masked: 138****0001.")
    status = serializers.ChoiceField(choices=CourierInvitationStatus.choices)
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class CourierInvitationInputSerializer(serializers.Serializer):
    # Text: the service cleans the number, with the page's messages.
    phone = serializers.CharField(
        max_length=30,
        help_text=gettext_lazy("A mainland China mobile number."),
        error_messages={
            "required": gettext_lazy("Enter the courier's mobile number."),
            "blank": gettext_lazy("Enter the courier's mobile number."),
        },
    )


class WarehouseCourierOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="user.__str__")
    phone = serializers.CharField(source="masked_phone", help_text="Masked: 138****0001.")
    status = serializers.ChoiceField(choices=CourierStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    vehicle_type = serializers.CharField(help_text=", ".join(VehicleType.values))
    capacity = serializers.IntegerField(help_text="Orders he carries at once.")
    on_shift = serializers.BooleanField(source="is_on_shift")
    activated_at = serializers.DateTimeField(allow_null=True)
    deactivated_at = serializers.DateTimeField(allow_null=True)


class JoinInputSerializer(serializers.Serializer):
    token = serializers.CharField(
        max_length=100, help_text=gettext_lazy("The secret at the end of the SMS link.")
    )
    # Text and any value: the service checks both, with the page's messages.
    vehicle_type = serializers.CharField(
        required=False, allow_blank=True, help_text=", ".join(VehicleType.values)
    )
    capacity = serializers.CharField(
        required=False, allow_blank=True, help_text=gettext_lazy("1 to 10.")
    )


class JoinedOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    warehouse = serializers.CharField(source="home_warehouse.name")
    status = serializers.ChoiceField(choices=CourierStatus.choices)
    vehicle_type = serializers.CharField()
    capacity = serializers.IntegerField()


# --- The manager's views --------------------------------------------------------------------


class CourierInvitationListApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER], responses=CourierInvitationOutputSerializer(many=True)
    )
    def get(self, request):
        """Invitations waiting for an answer, newest first."""
        pending = selectors.pending_invitations_of(self.warehouse(), now=timezone.now())
        return Response(CourierInvitationOutputSerializer(pending, many=True).data)

    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER],
        request=CourierInvitationInputSerializer,
        responses={201: CourierInvitationOutputSerializer},
    )
    def post(self, request):
        """Invite a number: an SMS with a link, open for DELIVERY_COURIER_INVITATION_DAYS.
        Refused on `phone` (400, nothing saved or sent): not a mainland mobile number, a
        courier here or at another warehouse, an invitation of it already pending here."""
        params = CourierInvitationInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        invitation = services.invite_courier(
            warehouse=self.warehouse(),
            phone=params.validated_data["phone"],
            by=request.user,
            address=client_address(request),
        )
        return Response(
            CourierInvitationOutputSerializer(invitation).data, status=status.HTTP_201_CREATED
        )


class CourierInvitationResendApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER],
        request=None,
        responses=CourierInvitationOutputSerializer,
    )
    def post(self, request, pk: int):
        """Send the SMS again with a new link (the older one stops working); 409 within
        DELIVERY_COURIER_INVITATION_RESEND_SECONDS of the last send, with the seconds to wait,
        or for an invitation no longer pending."""
        warehouse = self.warehouse()
        invitation = get_visible_or_404(selectors.invitations_of(warehouse), pk=pk)
        invitation = services.resend_invitation(
            warehouse=warehouse, invitation_id=invitation.pk, by=request.user
        )
        return Response(CourierInvitationOutputSerializer(invitation).data)


class CourierInvitationCancelApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER],
        request=None,
        responses=CourierInvitationOutputSerializer,
    )
    def post(self, request, pk: int):
        """The link stops working; 409 for an invitation already answered."""
        warehouse = self.warehouse()
        invitation = get_visible_or_404(selectors.invitations_of(warehouse), pk=pk)
        invitation = services.cancel_invitation(
            warehouse=warehouse, invitation_id=invitation.pk, by=request.user
        )
        return Response(CourierInvitationOutputSerializer(invitation).data)


class WarehouseCourierListApi(WarehouseApi):
    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER], responses=WarehouseCourierOutputSerializer(many=True)
    )
    def get(self, request):
        """The warehouse's couriers: waiting for activation first, then active, then
        deactivated, each by name."""
        couriers = selectors.warehouse_couriers(self.warehouse())
        rows = [*couriers.waiting, *couriers.active, *couriers.deactivated]
        return Response(WarehouseCourierOutputSerializer(rows, many=True).data)


class _CourierStepApi(WarehouseApi):
    step: staticmethod

    def post(self, request, pk: int):
        warehouse = self.warehouse()
        courier = get_visible_or_404(selectors.couriers_of(warehouse), pk=pk)
        self.step(
            warehouse=warehouse,
            courier_id=courier.pk,
            by=request.user,
            address=client_address(request),
        )
        courier = selectors.couriers_of(warehouse).get(pk=courier.pk)
        return Response(WarehouseCourierOutputSerializer(courier).data)


class CourierActivateApi(_CourierStepApi):
    step = staticmethod(services.activate_courier)

    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER], request=None, responses=WarehouseCourierOutputSerializer
    )
    def post(self, request, pk: int):
        """The courier may go on shift and be offered tasks (audited). Waiting or
        deactivated → active; an active one is returned unchanged."""
        return super().post(request, pk)


class CourierDeactivateApi(_CourierStepApi):
    step = staticmethod(services.deactivate_courier)

    @extend_schema(
        parameters=[WAREHOUSE_PARAMETER], request=None, responses=WarehouseCourierOutputSerializer
    )
    def post(self, request, pk: int):
        """Offers stop at once (audited): an offer waiting for his answer is withdrawn and
        its task offered to another courier; he cannot start a shift. Tasks he has accepted
        stay his to finish."""
        return super().post(request, pk)


# --- The courier's view ---------------------------------------------------------------------


class CourierJoinApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=JoinInputSerializer, responses={201: JoinedOutputSerializer})
    def post(self, request):
        """Accept an invitation: the signed-in account must hold the invited number (else
        403) and may not have another job on the platform. A link no longer open is 404; a
        bad vehicle or capacity 400 on its field. He then waits for the manager's
        activation; his role becomes courier."""
        params = JoinInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        courier = services.accept_invitation(
            token=data["token"],
            user=request.user,
            vehicle_type=data.get("vehicle_type", ""),
            capacity=data.get("capacity", ""),
            address=client_address(request),
        )
        return Response(JoinedOutputSerializer(courier).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path(
        "warehouse/courier-invitations/",
        CourierInvitationListApi.as_view(),
        name="delivery-warehouse-courier-invitations",
    ),
    path(
        "warehouse/courier-invitations/<int:pk>/resend/",
        CourierInvitationResendApi.as_view(),
        name="delivery-warehouse-courier-invitation-resend",
    ),
    path(
        "warehouse/courier-invitations/<int:pk>/cancel/",
        CourierInvitationCancelApi.as_view(),
        name="delivery-warehouse-courier-invitation-cancel",
    ),
    path(
        "warehouse/couriers/",
        WarehouseCourierListApi.as_view(),
        name="delivery-warehouse-couriers",
    ),
    path(
        "warehouse/couriers/<int:pk>/activate/",
        CourierActivateApi.as_view(),
        name="delivery-warehouse-courier-activate",
    ),
    path(
        "warehouse/couriers/<int:pk>/deactivate/",
        CourierDeactivateApi.as_view(),
        name="delivery-warehouse-courier-deactivate",
    ),
    path("courier/join/", CourierJoinApi.as_view(), name="delivery-courier-join"),
]
