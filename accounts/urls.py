from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="sign_in"),
    path("sign-out/", views.SignOutView.as_view(), name="sign_out"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("workspace/", views.workspace, name="workspace"),
    path("audit/", views.audit_log, name="audit_log"),
    path("workspace/<slug:role>/", views.role_workspace, name="role_workspace"),
]
