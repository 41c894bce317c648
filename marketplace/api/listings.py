"""Listings: buyers' search and a listing's page; sellers create, change and publish them."""

from django.core.paginator import Page
from django.db.models import Count, Window
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.choices import Role
from accounts.permissions import HasRole, get_visible_or_404
from common.api.pagination import StandardPagination
from common.photos import upload_body_limit
from common.request_limits import request_body_limit
from common.units import WeightUnit, price_per_kg_from, unit_of
from farms.selectors import lots_visible_to
from marketplace.exceptions import InvalidPrice
from marketplace.filters import ListingSearchFilter, SellerListingFilter
from marketplace.selectors import listings as selectors
from marketplace.services import listings as services

from .serializers_listings import (
    ListingCreateInputSerializer,
    ListingDetailOutputSerializer,
    ListingOutputSerializer,
    ListingPhotoInputSerializer,
    ListingPhotoOutputSerializer,
    ListingUpdateInputSerializer,
    search_results_data,
)

SELLERS = (Role.FARMER, Role.COOPERATIVE_MANAGER)  # platform admins hold every role
SELLER_ACTIONS = frozenset(
    {"create", "partial_update", "mine", "publish", "pause", "resume", "close", "photos"}
)


class ListingPagination(StandardPagination):
    """Pages of 20 whose total comes with the page (COUNT(*) OVER ()), in one query.

    The search's filters (a radius, prices, dates) cost as much to count as to page:
    counting in the page's own query halves the work of every search. The page is what was
    found (ids and distances, `selectors.Found`), as plain values, not model rows.
    """

    page_size = 20

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        page_size = self.get_page_size(request)  # refuses a malformed page or page size
        number = int(request.query_params.get(self.page_query_param) or 1)
        offset = (number - 1) * page_size
        near = "distance" in queryset.query.annotations
        columns = ["pk", "total_found", *(["distance", "approximate_distance"] if near else [])]
        rows = list(
            queryset.annotate(total_found=Window(Count("pk"))).values_list(*columns)[
                offset : offset + page_size
            ]
        )
        if not rows and number > 1:
            raise NotFound(_("Invalid page."))
        paginator = self.django_paginator_class(queryset, page_size)
        paginator.count = rows[0][1] if rows else 0  # no second COUNT query
        found = [selectors.Found(row[0], *((row[2].m, row[3].m) if near else ())) for row in rows]
        self.page = Page(found, number, paginator)
        return found


def _price_per_kg(data: dict):
    return price_per_kg_from(data.get("price_unit") or WeightUnit.KG, data["price"])


def _call(service, **kwargs):
    """Call a listing service; a refused price names the API's field, `price`."""
    try:
        return service(**kwargs)
    except InvalidPrice as exc:
        exc.field = "price"
        raise


class ListingViewSet(viewsets.GenericViewSet):
    """Search listings on sale (any signed-in user); sellers manage theirs.

    Search: `near=lon,lat` (WGS 84) gives `distance_km` (`radius_km` keeps those within it)
    and sorts nearest first; `ordering` is distance, price, -price or -harvest_date.
    Prices come per kg and per the user's unit (`price`, `price_unit`).
    """

    pagination_class = ListingPagination
    filter_backends = [DjangoFilterBackend]
    serializer_class = ListingOutputSerializer

    def get_permissions(self):
        if self.action in SELLER_ACTIONS:
            return [IsAuthenticated(), HasRole.of(*SELLERS)()]
        return [IsAuthenticated()]

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            return selectors.listings_for_buyers()
        if self.action == "retrieve":
            return selectors.listings_for_viewer(user).prefetch_related("photos")
        if self.action == "mine":
            return selectors.seller_listings_for(user)
        return selectors.listings_visible_to(user)

    def get_filterset_class(self):
        return {"list": ListingSearchFilter, "mine": SellerListingFilter}.get(self.action)

    @property
    def filterset_class(self):
        return self.get_filterset_class()

    def _page(self, queryset):
        found = self.paginate_queryset(self.filter_queryset(queryset))
        results = selectors.search_results(found, viewer=self.request.user)
        return self.get_paginated_response(
            search_results_data(results, unit=unit_of(self.request.user))
        )

    def _render(self, listing_id: int, *, status_code=status.HTTP_200_OK) -> Response:
        listing = get_visible_or_404(
            selectors.listings_for_viewer(self.request.user).prefetch_related("photos"),
            pk=listing_id,
        )
        data = ListingDetailOutputSerializer(listing, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(responses=ListingOutputSerializer(many=True))
    def list(self, request):
        return self._page(self.get_queryset())

    @extend_schema(responses=ListingDetailOutputSerializer)
    def retrieve(self, request, pk=None):
        listing = get_visible_or_404(self.get_queryset(), pk=pk)
        return Response(
            ListingDetailOutputSerializer(listing, context=self.get_serializer_context()).data
        )

    @extend_schema(filters=True, responses=ListingOutputSerializer(many=True))
    @action(detail=False, methods=["get"])
    def mine(self, request):
        """Your listings in every state (your co-operative's members', for a manager)."""
        return self._page(self.get_queryset())

    @extend_schema(
        request=ListingCreateInputSerializer, responses={201: ListingDetailOutputSerializer}
    )
    def create(self, request):
        params = ListingCreateInputSerializer(
            data=request.data,
            context={"lot_choices": lots_visible_to(request.user)},
        )
        params.is_valid(raise_exception=True)
        data = params.validated_data
        listing = _call(
            services.create_listing,
            listed_by=request.user,
            lot=data["lot"],
            price_per_kg=_price_per_kg(data),
            available_kg=data["available_kg"],
            minimum_order_kg=data["minimum_order_kg"],
            available_from=data.get("available_from"),
            available_until=data["available_until"],
            pickup_point=data.get("pickup_point"),
            notes=data["notes"],
            publish=data["publish"],
        )
        return self._render(listing.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(request=ListingUpdateInputSerializer, responses=ListingDetailOutputSerializer)
    def partial_update(self, request, pk=None):
        listing = get_visible_or_404(self.get_queryset(), pk=pk)
        params = ListingUpdateInputSerializer(data=request.data, partial=True)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        changes = {
            name: data[name]
            for name in (
                "available_kg",
                "minimum_order_kg",
                "available_from",
                "available_until",
                "pickup_point",
                "notes",
            )
            if name in data
        }
        if "price" in data:
            changes["price_per_kg"] = _price_per_kg(data)
        _call(services.update_listing, updated_by=request.user, listing_id=listing.pk, **changes)
        return self._render(listing.pk)

    def _change_status(self, request, pk, action_name: str) -> Response:
        listing = get_visible_or_404(self.get_queryset(), pk=pk)
        services.change_listing_status(
            changed_by=request.user, listing_id=listing.pk, action=action_name
        )
        return self._render(listing.pk)

    @extend_schema(request=None, responses=ListingDetailOutputSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Put a draft on sale."""
        return self._change_status(request, pk, "publish")

    @extend_schema(request=None, responses=ListingDetailOutputSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Take a listing off sale for a while; orders already placed go on."""
        return self._change_status(request, pk, "pause")

    @extend_schema(request=None, responses=ListingDetailOutputSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Put a paused listing back on sale."""
        return self._change_status(request, pk, "resume")

    @extend_schema(request=None, responses=ListingDetailOutputSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """End a listing for good."""
        return self._change_status(request, pk, "close")

    @extend_schema(
        request={"multipart/form-data": ListingPhotoInputSerializer},
        responses={201: ListingPhotoOutputSerializer},
    )
    @request_body_limit(upload_body_limit)
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def photos(self, request, pk=None):
        """Add a photo (JPEG, PNG or WebP); it is resized and stripped of EXIF and GPS."""
        listing = get_visible_or_404(self.get_queryset(), pk=pk)
        params = ListingPhotoInputSerializer(data=request.data)
        if not params.is_valid():
            return Response(
                {"image": [_("Choose a photo to upload.")]}, status=status.HTTP_400_BAD_REQUEST
            )
        photo = services.add_listing_photo(
            added_by=request.user, listing_id=listing.pk, upload=params.validated_data["image"]
        )
        return Response(ListingPhotoOutputSerializer(photo).data, status=status.HTTP_201_CREATED)
