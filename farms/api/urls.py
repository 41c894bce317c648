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
        "cooperatives/applications/",
        views.CooperativeApplicationListApi.as_view(),
        name="cooperative-application-list",
    ),
    path(
        "cooperatives/applications/<int:pk>/",
        views.CooperativeApplicationDetailApi.as_view(),
        name="cooperative-application-detail",
    ),
    path(
        "cooperatives/applications/<int:pk>/resubmit/",
        views.CooperativeApplicationResubmitApi.as_view(),
        name="cooperative-application-resubmit",
    ),
    path(
        "cooperatives/applications/<int:pk>/review/",
        views.CooperativeApplicationReviewApi.as_view(),
        name="cooperative-application-review",
    ),
    path(
        "cooperatives/applications/<int:pk>/licence/",
        views.CooperativeApplicationLicenceApi.as_view(),
        name="cooperative-application-licence",
    ),
    path(
        "cooperatives/invitations/",
        views.SentInvitationListApi.as_view(),
        name="cooperative-invitation-list",
    ),
    path(
        "cooperatives/invitations/<int:pk>/withdraw/",
        views.InvitationWithdrawApi.as_view(),
        name="cooperative-invitation-withdraw",
    ),
    path("invitations/", views.MyInvitationListApi.as_view(), name="my-invitation-list"),
    path(
        "invitations/<int:pk>/accept/",
        views.MyInvitationAcceptApi.as_view(),
        name="my-invitation-accept",
    ),
    path(
        "invitations/<int:pk>/decline/",
        views.MyInvitationDeclineApi.as_view(),
        name="my-invitation-decline",
    ),
    *router.urls,
]
