from django.urls import path

from . import views

app_name = "farms"

urlpatterns = [
    path("catalogue/", views.product_list, name="product_list"),
    path("catalogue/<str:code>/", views.product_detail, name="product_detail"),
    path("farms/", views.farm_list, name="farm_list"),
    path("farms/new/", views.farm_create, name="farm_create"),
    path("farms/<int:pk>/", views.farm_detail, name="farm_detail"),
    path("farms/<int:pk>/edit/", views.farm_update, name="farm_update"),
    path("lots/", views.lot_list, name="lot_list"),
    path("lots/new/", views.lot_create, name="lot_create"),
    path("lots/<int:pk>/", views.lot_detail, name="lot_detail"),
    path("members/", views.member_list, name="member_list"),
    path("members/<int:pk>/password/", views.member_password, name="member_password"),
    path(
        "members/invitations/<int:pk>/withdraw/",
        views.invitation_withdraw,
        name="invitation_withdraw",
    ),
    path("invitations/", views.invitation_list, name="invitation_list"),
    path(
        "invitations/<int:pk>/accept/",
        views.invitation_answer,
        {"answer": "accept"},
        name="invitation_accept",
    ),
    path(
        "invitations/<int:pk>/decline/",
        views.invitation_answer,
        {"answer": "decline"},
        name="invitation_decline",
    ),
]
