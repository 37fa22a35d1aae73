from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from jixiao.accounts import views, views_auth

app_name = "accounts"
urlpatterns = [
    path("login/", views_auth.Login.as_view(), name="login"),
    path("otp/verify/", views_auth.otp_verify, name="otp_verify"),
    path("otp/setup/", views_auth.otp_setup, name="otp_setup"),
    path("security/", views_auth.security_overview, name="security"),
    path("security/lockouts/<int:pk>/unlock/", views_auth.lockout_unlock, name="lockout_unlock"),
    path("security/users/<int:pk>/otp-reset/", views_auth.otp_reset, name="otp_reset"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        views.PasswordChange.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("web:home")
        ),
        name="password_change",
    ),
    path("audit/", views.audit_log, name="audit_log"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("users/<int:pk>/role/", views.user_role, name="user_role"),
    path("users/<int:pk>/audit-grant/", views.user_audit_grant, name="user_audit_grant"),
    path("users/<int:pk>/password/", views.user_password_reset, name="user_password_reset"),
    path("users/<int:pk>/active/", views.user_set_active, name="user_set_active"),
    path("users/import/", views.user_import, name="user_import"),
    path("users/import/template.xlsx", views.user_import_template, name="user_import_template"),
    # <fmt> is pdf or xlsx: the sealed initial passwords of the last import, once each.
    path("users/import/passwords.<slug:fmt>", views.user_credentials, name="user_credentials"),
]
