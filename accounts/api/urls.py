from django.urls import path

from . import joining, personal_data, views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="api-token"),
    path("auth/sign-out/", views.SignOutApi.as_view(), name="api-sign-out"),
    path(
        "auth/sign-out-everywhere/", views.SignOutEverywhereApi.as_view(), name="api-sign-out-all"
    ),
    path("auth/password/", views.PasswordChangeApi.as_view(), name="api-password"),
    path("auth/codes/", joining.CodeRequestApi.as_view(), name="api-codes"),
    path("auth/sign-up/", joining.SignUpApi.as_view(), name="api-sign-up"),
    path("auth/token/code/", joining.CodeTokenApi.as_view(), name="api-token-code"),
    path("auth/password/reset/", joining.PasswordResetApi.as_view(), name="api-password-reset"),
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("me/phone/code/", joining.PhoneCodeApi.as_view(), name="api-phone-code"),
    path("me/phone/", joining.PhoneChangeApi.as_view(), name="api-phone"),
    path("audit/", views.AuditLogApi.as_view(), name="api-audit-log"),
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
