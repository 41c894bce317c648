from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import client_address
from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404, is_admin
from farms import selectors
from farms.models import Cooperative
from farms.services import cooperatives as cooperative_services
from farms.services import farms as farm_services
from farms.services import invitations
from farms.services import lots as lot_services

from .filters import FarmFilter, HarvestLotFilter, ProductFilter
from .serializers import (
    FarmInputSerializer,
    FarmOutputSerializer,
    HarvestLotInputSerializer,
    HarvestLotOutputSerializer,
    MemberInputSerializer,
    MembershipOutputSerializer,
    MyInvitationOutputSerializer,
    ProductDetailOutputSerializer,
    ProductOutputSerializer,
    SentInvitationOutputSerializer,
)

FARM_WORKERS = (Role.FARMER, Role.COOPERATIVE_MANAGER)


class ProductViewSet(viewsets.ReadOnlyModelViewSet):
    """The product catalogue with storage profiles; any signed-in user may read it.

    The list leaves out the sources of the storage values (a page of them would weigh
    ten times more on a farmer's phone); a product's detail has them.
    """

    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    ordering_fields = ["code", "name_en", "category"]
    lookup_field = "code"
    lookup_value_regex = r"[A-Z0-9-]+"  # a product code (VEG-CUCUMBER), not a database id

    def get_serializer_class(self):
        return (
            ProductDetailOutputSerializer if self.action == "retrieve" else ProductOutputSerializer
        )

    def get_queryset(self):
        products = selectors.catalogue_products()
        if self.action == "list":
            products = products.defer("storage_profile__sources")
        return products


class FarmViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Farms the user may see. `near=lon,lat&radius_km=` lists those nearby, nearest first."""

    serializer_class = FarmOutputSerializer
    filterset_class = FarmFilter
    ordering_fields = ["name", "area_hectares", "created_at"]

    def get_queryset(self):
        return selectors.farms_visible_to(self.request.user)

    def get_permissions(self):
        if self.action in ("create", "update", "partial_update"):
            return [IsAuthenticated(), HasRole.of(*FARM_WORKERS)()]
        return super().get_permissions()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["farmer_choices"] = selectors.farmers_for_new_farms(self.request.user)
        return context

    @extend_schema(request=FarmInputSerializer, responses={201: FarmOutputSerializer})
    def create(self, request):
        params = FarmInputSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        data = params.validated_data
        farm = farm_services.create_farm(
            created_by=request.user,
            farmer=data.get("farmer", request.user),
            name=data["name"],
            boundary=data.get("boundary"),
            location=data.get("location"),
        )
        return Response(FarmOutputSerializer(farm).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=FarmInputSerializer, responses=FarmOutputSerializer)
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(request=FarmInputSerializer, responses=FarmOutputSerializer)
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        farm = self.get_object()  # 404 for a farm the user may not see
        params = FarmInputSerializer(
            data=request.data, partial=partial, context=self.get_serializer_context()
        )
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if "farmer" in data and data["farmer"].pk != farm.farmer_id:
            raise serializers.ValidationError({"farmer": [_("A farm's farmer cannot change.")]})
        changes = {key: data[key] for key in ("name", "boundary", "location") if key in data}
        if not partial:
            changes.setdefault("boundary", None)
            changes.setdefault("location", None)
        farm = farm_services.update_farm(updated_by=request.user, farm_id=farm.pk, **changes)
        return Response(FarmOutputSerializer(farm).data)


class HarvestLotViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Harvest lots the user may see, newest first; farmers and managers record new ones."""

    serializer_class = HarvestLotOutputSerializer
    filterset_class = HarvestLotFilter
    ordering_fields = ["harvest_date", "quantity_kg", "created_at"]

    def get_queryset(self):
        return selectors.lots_visible_to(self.request.user)

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), HasRole.of(*FARM_WORKERS)()]
        return super().get_permissions()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["farm_choices"] = selectors.farm_choices_for(self.request.user)
        return context

    @extend_schema(request=HarvestLotInputSerializer, responses={201: HarvestLotOutputSerializer})
    def create(self, request):
        params = HarvestLotInputSerializer(data=request.data, context=self.get_serializer_context())
        params.is_valid(raise_exception=True)
        lot = lot_services.record_harvest_lot(recorded_by=request.user, **params.validated_data)
        return Response(HarvestLotOutputSerializer(lot).data, status=status.HTTP_201_CREATED)


class CooperativeMemberListApi(mixins.ListModelMixin, GenericAPIView):
    """Members of the manager's co-operative (every co-operative's, for a platform admin)."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.COOPERATIVE_MANAGER)]
    serializer_class = MembershipOutputSerializer

    def get_queryset(self):
        return selectors.members_visible_to(self.request.user)

    def get(self, request):
        return self.list(request)

    @extend_schema(
        request=MemberInputSerializer,
        responses={201: MembershipOutputSerializer, 202: SentInvitationOutputSerializer},
        description=(
            "A number nobody uses becomes a member at once (201). A number that already has "
            "an account gets an invitation its holder may accept (202)."
        ),
    )
    def post(self, request):
        params = MemberInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        cooperative = self._cooperative(request, data.get("cooperative"))
        added = cooperative_services.add_member(
            added_by=request.user, cooperative=cooperative, name=data["name"], phone=data["phone"]
        )
        if added.membership is None:
            return Response(
                SentInvitationOutputSerializer(added.invitation).data,
                status=status.HTTP_202_ACCEPTED,
            )
        return Response(
            MembershipOutputSerializer(added.membership).data, status=status.HTTP_201_CREATED
        )

    def _cooperative(self, request, cooperative_id: int | None) -> Cooperative:
        if is_admin(request.user):
            cooperative = Cooperative.objects.filter(pk=cooperative_id).first()
            if cooperative is None:
                raise serializers.ValidationError(
                    {"cooperative": [_("Choose the co-operative to add the member to.")]}
                )
            return cooperative
        cooperative = selectors.cooperative_managed_by(request.user)
        if cooperative is None:
            raise serializers.ValidationError({"detail": _("You do not manage a co-operative.")})
        return cooperative


class MemberPasswordApi(APIView):
    """POST: a first password for a new member farmer of your co-operative, returned once."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.COOPERATIVE_MANAGER)]

    @extend_schema(
        request=None,
        responses=inline_serializer("MemberPasswordOutput", {"password": serializers.CharField()}),
    )
    def post(self, request, pk: int):
        membership = get_visible_or_404(selectors.members_visible_to(request.user), pk=pk)
        password = cooperative_services.issue_member_password(
            issued_by=request.user,
            membership_id=membership.pk,
            address=client_address(request),
        )
        return Response({"password": password}, headers={"Cache-Control": "no-store"})


class SentInvitationListApi(mixins.ListModelMixin, GenericAPIView):
    """Invitations of the manager's co-operative (every co-operative's, for a platform admin)."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.COOPERATIVE_MANAGER)]
    serializer_class = SentInvitationOutputSerializer

    def get_queryset(self):
        return selectors.invitations_sent_visible_to(self.request.user)

    def get(self, request):
        return self.list(request)


class InvitationWithdrawApi(APIView):
    """POST: take back a pending invitation of your co-operative."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.COOPERATIVE_MANAGER)]

    @extend_schema(request=None, responses=SentInvitationOutputSerializer)
    def post(self, request, pk: int):
        invitation = invitations.withdraw_invitation(withdrawn_by=request.user, invitation_id=pk)
        return Response(SentInvitationOutputSerializer(invitation).data)


class MyInvitationListApi(mixins.ListModelMixin, GenericAPIView):
    """The co-operative invitations you were sent, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = MyInvitationOutputSerializer

    def get_queryset(self):
        return selectors.invitations_of(self.request.user)

    def get(self, request):
        return self.list(request)


class MyInvitationAcceptApi(APIView):
    """POST: accept your pending invitation and join that co-operative."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=MembershipOutputSerializer)
    def post(self, request, pk: int):
        membership = invitations.accept_invitation(user=request.user, invitation_id=pk)
        return Response(MembershipOutputSerializer(membership).data)


class MyInvitationDeclineApi(APIView):
    """POST: decline your pending invitation."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=MyInvitationOutputSerializer)
    def post(self, request, pk: int):
        invitation = invitations.decline_invitation(user=request.user, invitation_id=pk)
        return Response(MyInvitationOutputSerializer(invitation).data)
