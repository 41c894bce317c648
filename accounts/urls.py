from django.urls import path

from . import signup_views, views, views_display, views_install, views_personal_data

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="sign_in"),
    path("sign-up/", signup_views.sign_up, name="sign_up"),
    path("sign-in/code/", signup_views.sign_in_with_code, name="sign_in_with_code"),
    path("password/reset/", signup_views.password_reset, name="password_reset"),
    path("account/phone/", signup_views.phone_change, name="phone_change"),
    path("privacy/", signup_views.privacy_policy, name="privacy_policy"),
    path("privacy/agree/", signup_views.consent, name="consent"),
    path("sign-out/", views.SignOutView.as_view(), name="sign_out"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("account/data/", views_personal_data.my_data, name="my_data"),
    path("account/data/correct/", views_personal_data.correct_my_data, name="my_data_correct"),
    path("account/data/export.json", views_personal_data.export_my_data_json, name="my_data_json"),
    path("account/data/export.pdf", views_personal_data.export_my_data_pdf, name="my_data_pdf"),
    path("account/data/delete/", views_personal_data.delete_my_account, name="my_data_delete"),
    path("workspace/", views.workspace, name="workspace"),
    path("large-text/", views_display.large_text, name="large_text"),
    path("manifest.webmanifest", views_install.manifest, name="manifest"),
    path("favicon.ico", views_install.favicon, name="favicon"),
    path("audit/", views.audit_log, name="audit_log"),
    path("workspace/<slug:role>/", views.role_workspace, name="role_workspace"),
]
