from django.urls import path

from . import views, views_personal_data

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="sign_in"),
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
    path("workspace/<slug:role>/", views.role_workspace, name="role_workspace"),
]
