from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.addresses import client_address
from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404, is_admin
from common.private_files import private_file_response
from common.request_limits import request_body_limit
from farms import selectors
from farms.licences import licence_body_limit
from farms.models import Cooperative
from farms.services import applications, invitations
from farms.services import farms as farm_services
from farms.services import lots as lot_services

from .filters import FarmFilter, HarvestLotFilter, ProductFilter
from .serializers import (
    ApplicationReviewInputSerializer,
    CooperativeApplicationInputSerializer,
    CooperativeApplicationOutputSerializer,
    CooperativeApplicationResubmitSerializer,
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
        responses={202: SentInvitationOutputSerializer},
        description=(
            "Invite a mobile number: it gets an SMS with a link to sign up (or sign in) and "
            "accept; nobody joins before accepting (202). Refused on `phone`: a member of your "
            "co-operative, or a member of another co-operative (a person belongs to one)."
        ),
    )
    def post(self, request):
        params = MemberInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        cooperative = self._cooperative(request, data.get("cooperative"))
        invitation = invitations.invite_member(
            invited_by=request.user, cooperative=cooperative, phone=data["phone"]
        )
        return Response(
            SentInvitationOutputSerializer(invitation).data, status=status.HTTP_202_ACCEPTED
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

    @extend_schema(
        request=None,
        responses=MembershipOutputSerializer,
        description="A farmer, consumer or buyer in no co-operative joins it; her role becomes "
        "farmer. An invitation to her number made before she signed up is hers too.",
    )
    def post(self, request, pk: int):
        membership = invitations.accept_invitation(
            user=request.user, invitation_id=pk, address=client_address(request)
        )
        return Response(MembershipOutputSerializer(membership).data)


class MyInvitationDeclineApi(APIView):
    """POST: decline your pending invitation."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=MyInvitationOutputSerializer)
    def post(self, request, pk: int):
        invitation = invitations.decline_invitation(user=request.user, invitation_id=pk)
        return Response(MyInvitationOutputSerializer(invitation).data)


# Co-operative applications


def _details(data: dict) -> applications.ApplicationDetails:
    return applications.ApplicationDetails(
        name=data["name"],
        registration_code=data["registration_code"],
        province=data["province"],
        region=data["region"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        licence=data.get("licence"),
    )


@request_body_limit(licence_body_limit)
class CooperativeApplicationListApi(mixins.ListModelMixin, GenericAPIView):
    """GET: your own co-operative applications (every one, for the platform admin; filter
    with `?status=pending`). POST (multipart): apply for your co-operative."""

    permission_classes = [IsAuthenticated]
    serializer_class = CooperativeApplicationOutputSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        applications_ = selectors.applications_visible_to(self.request.user)
        if wanted := self.request.query_params.get("status"):
            applications_ = applications_.filter(status=wanted)
        return applications_

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, description="pending, changes_requested, approved or declined"
            )
        ]
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        request={"multipart/form-data": CooperativeApplicationInputSerializer},
        responses={201: CooperativeApplicationOutputSerializer},
        description=(
            "Refused with a field error: a bad check character (`registration_code`), a file "
            "that is not an image or too large (`licence`), a second application while one is "
            "under way or a name taken (`name`), a code taken (`registration_code`)."
        ),
    )
    def post(self, request):
        params = CooperativeApplicationInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        application = applications.apply_for_cooperative(
            applicant=request.user, details=_details(params.validated_data)
        )
        return Response(
            CooperativeApplicationOutputSerializer(application).data,
            status=status.HTTP_201_CREATED,
        )


class CooperativeApplicationDetailApi(APIView):
    """GET: one application (yours, or any for the platform admin)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CooperativeApplicationOutputSerializer)
    def get(self, request, pk: int):
        application = get_visible_or_404(selectors.applications_visible_to(request.user), pk=pk)
        return Response(CooperativeApplicationOutputSerializer(application).data)


@request_body_limit(licence_body_limit)
class CooperativeApplicationResubmitApi(APIView):
    """POST (multipart): correct your application returned for changes; it waits for review
    again. Leave out `licence` to keep the photo you sent."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": CooperativeApplicationResubmitSerializer},
        responses=CooperativeApplicationOutputSerializer,
    )
    def post(self, request, pk: int):
        get_visible_or_404(selectors.applications_visible_to(request.user), pk=pk)
        params = CooperativeApplicationResubmitSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        application = applications.resubmit_application(
            applicant=request.user, application_id=pk, details=_details(params.validated_data)
        )
        return Response(CooperativeApplicationOutputSerializer(application).data)


class CooperativeApplicationReviewApi(APIView):
    """POST (platform admin): approve (creates the co-operative with the applicant as its
    manager), return for changes, or decline, with a reason the applicant reads."""

    permission_classes = [IsAuthenticated, HasRole.of(Role.ADMIN)]

    @extend_schema(
        request=ApplicationReviewInputSerializer,
        responses=CooperativeApplicationOutputSerializer,
    )
    def post(self, request, pk: int):
        get_visible_or_404(selectors.applications_visible_to(request.user), pk=pk)
        params = ApplicationReviewInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        decision = params.validated_data["decision"]
        reason = params.validated_data.get("reason", "")
        address = client_address(request)
        if decision == "approve":
            applications.approve_application(
                reviewed_by=request.user, application_id=pk, address=address
            )
        elif decision == "return":
            applications.request_changes(
                reviewed_by=request.user, application_id=pk, reason=reason, address=address
            )
        else:
            applications.decline_application(
                reviewed_by=request.user, application_id=pk, reason=reason, address=address
            )
        application = selectors.applications_visible_to(request.user).get(pk=pk)
        return Response(CooperativeApplicationOutputSerializer(application).data)


class CooperativeApplicationLicenceApi(APIView):
    """GET: the licence photo (JPEG), to the applicant and the platform admin only."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        application = get_visible_or_404(selectors.applications_visible_to(request.user), pk=pk)
        return private_file_response(
            application.licence,
            filename=f"licence-{application.pk}.jpg",
            content_type="image/jpeg",
            as_attachment=False,
        )
