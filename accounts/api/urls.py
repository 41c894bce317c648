from django.urls import path

from . import personal_data, views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-token"),
    path("auth/sign-out/", views.SignOutApi.as_view(), name="api-sign-out"),
    path(
        "auth/sign-out-everywhere/", views.SignOutEverywhereApi.as_view(), name="api-sign-out-all"
    ),
    path("auth/password/", views.PasswordChangeApi.as_view(), name="api-password"),
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("me/data/", personal_data.MyDataApi.as_view(), name="api-my-data"),
    path("me/data/pdf/", personal_data.MyDataPdfApi.as_view(), name="api-my-data-pdf"),
    path("me/data/delete/", personal_data.DeleteMyAccountApi.as_view(), name="api-my-data-delete"),
    path("notifications/", views.NotificationListApi.as_view(), name="api-notifications"),
    path(
        "notifications/read/",
        views.NotificationReadApi.as_view(),
        name="api-notifications-read",
    ),
]
