from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-token"),
    path("auth/sign-out/", views.SignOutApi.as_view(), name="api-sign-out"),
    path(
        "auth/sign-out-everywhere/", views.SignOutEverywhereApi.as_view(), name="api-sign-out-all"
    ),
    path("auth/password/", views.PasswordChangeApi.as_view(), name="api-password"),
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("audit/", views.AuditLogApi.as_view(), name="api-audit-log"),
    path("notifications/", views.NotificationListApi.as_view(), name="api-notifications"),
    path(
        "notifications/read/",
        views.NotificationReadApi.as_view(),
        name="api-notifications-read",
    ),
]
