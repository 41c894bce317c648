from django.urls import path

from .views import joining, pages

app_name = "farms"

urlpatterns = [
    path("catalogue/", pages.product_list, name="product_list"),
    path("catalogue/<str:code>/", pages.product_detail, name="product_detail"),
    path("farms/", pages.farm_list, name="farm_list"),
    path("farms/new/", pages.farm_create, name="farm_create"),
    path("farms/<int:pk>/", pages.farm_detail, name="farm_detail"),
    path("farms/<int:pk>/edit/", pages.farm_update, name="farm_update"),
    path("lots/", pages.lot_list, name="lot_list"),
    path("lots/new/", pages.lot_create, name="lot_create"),
    path("lots/<int:pk>/", pages.lot_detail, name="lot_detail"),
    path("members/", pages.member_list, name="member_list"),
    path(
        "members/invitations/<int:pk>/withdraw/",
        pages.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("invitations/", pages.invitation_list, name="invitation_list"),
    path(
        "invitations/<int:pk>/accept/",
        pages.invitation_answer,
        {"answer": "accept"},
        name="invitation_accept",
    ),
    path(
        "invitations/<int:pk>/decline/",
        pages.invitation_answer,
        {"answer": "decline"},
        name="invitation_decline",
    ),
    path("join/<str:token>/", joining.join, name="join"),
    path("cooperative/", joining.my_cooperative, name="my_cooperative"),
    path("cooperatives/apply/", joining.application_apply, name="application_apply"),
    path(
        "cooperatives/applications/",
        joining.application_review_list,
        name="application_review_list",
    ),
    path(
        "cooperatives/applications/<int:pk>/",
        joining.application_detail,
        name="application_detail",
    ),
    path(
        "cooperatives/applications/<int:pk>/review/",
        joining.application_review,
        name="application_review",
    ),
    path(
        "cooperatives/applications/<int:pk>/licence/",
        joining.application_licence,
        name="application_licence",
    ),
]
