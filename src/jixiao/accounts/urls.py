from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from jixiao.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        views.PasswordChange.as_view(
            template_name="accounts/password_change.html", success_url=reverse_lazy("web:home")
        ),
        name="password_change",
    ),
    path("audit/", views.audit_log, name="audit_log"),
]
