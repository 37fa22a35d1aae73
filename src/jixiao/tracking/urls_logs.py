"""URLs of the weekly work-log pages (/worklogs/)."""

from __future__ import annotations

from django.urls import path

from jixiao.tracking import views_logs as views

app_name = "worklogs"

urlpatterns = [
    path("", views.log_list, name="log_list"),
    path("write/", views.log_write, name="log_write"),
    path("<int:pk>/", views.log_detail, name="log_detail"),
]
