from django.urls import path

from common.api.routers import ApiRouter

from . import views

router = ApiRouter()
router.register("products", views.ProductViewSet, basename="product")
router.register("farms", views.FarmViewSet, basename="farm")
router.register("lots", views.HarvestLotViewSet, basename="harvest-lot")

urlpatterns = [
    path(
        "cooperatives/members/",
        views.CooperativeMemberListApi.as_view(),
        name="cooperative-member-list",
    ),
    path(
        "cooperatives/members/<int:pk>/password/",
        views.MemberPasswordApi.as_view(),
        name="cooperative-member-password",
    ),
    *router.urls,
]
